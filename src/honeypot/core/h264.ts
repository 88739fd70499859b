/**
 * H.264 over RTP (RFC 6184) as pure functions: split an Annex B byte stream into NAL units and
 * access units, the SDP's `sprop-parameter-sets` and `profile-level-id`, and packetisation into
 * single-NAL and FU-A payloads with the RTP header. Not an encoder and not a decoder: the clip is
 * made once, offline (see ../media/make-clip.sh); this only cuts it into packets.
 */

/** NAL unit types used here (ITU-T H.264 table 7-1). */
export const NAL_SLICE = 1;
export const NAL_IDR = 5;
export const NAL_SPS = 7;
export const NAL_PPS = 8;
/** FU-A fragmentation unit type (RFC 6184 §5.8). */
const FU_A = 28;

/** The largest RTP payload sent: fits a 1,500-byte MTU with IP, UDP and RTP headers. */
export const MAX_RTP_PAYLOAD = 1400;

/**
 * NAL units of an Annex B stream (start codes removed).
 * @example splitNals(new Uint8Array([0, 0, 0, 1, 0x67, 1, 0, 0, 1, 0x68, 2])).length === 2
 */
export function splitNals(stream: Uint8Array): Uint8Array[] {
  const starts: { at: number; len: number }[] = [];
  for (let i = 0; i + 2 < stream.length; i++) {
    if (stream[i] === 0 && stream[i + 1] === 0) {
      if (stream[i + 2] === 1) {
        starts.push({ at: i, len: 3 });
        i += 2;
      } else if (stream[i + 2] === 0 && stream[i + 3] === 1) {
        starts.push({ at: i, len: 4 });
        i += 3;
      }
    }
  }
  const out: Uint8Array[] = [];
  for (let k = 0; k < starts.length; k++) {
    const s = starts[k]!;
    const end = starts[k + 1]?.at ?? stream.length;
    const nal = stream.subarray(s.at + s.len, end);
    if (nal.length > 0) out.push(nal);
  }
  return out;
}

/** The type of one NAL unit. */
export function nalType(nal: Uint8Array): number {
  return (nal[0] ?? 0) & 0x1f;
}

export interface H264Clip {
  /** Access units (one picture each) in decode order, each a list of NAL units. */
  frames: Uint8Array[][];
  sps: Uint8Array;
  pps: Uint8Array;
}

/**
 * Group NAL units into access units: each ends with its (single) slice. Fails on a stream
 * without SPS, PPS or slices.
 * @example const clip = parseClip(bytes); clip.frames.length === 40
 */
export function parseClip(stream: Uint8Array): H264Clip {
  const frames: Uint8Array[][] = [];
  let sps: Uint8Array | undefined;
  let pps: Uint8Array | undefined;
  let current: Uint8Array[] = [];
  for (const nal of splitNals(stream)) {
    const t = nalType(nal);
    if (t === NAL_SPS) sps ??= nal;
    if (t === NAL_PPS) pps ??= nal;
    current.push(nal);
    if (t === NAL_SLICE || t === NAL_IDR) {
      frames.push(current);
      current = [];
    }
  }
  if (!sps || !pps || frames.length === 0)
    throw new Error('not an H.264 Annex B stream with SPS, PPS and slices');
  return { frames, sps, pps };
}

function base64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/**
 * The SDP `a=fmtp` value for the clip.
 * @example fmtpOf(clip) // 'packetization-mode=1;profile-level-id=42c01e;sprop-parameter-sets=Z0LAHt…,aM4…'
 */
export function fmtpOf(clip: H264Clip): string {
  const pli = [...clip.sps.subarray(1, 4)].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `packetization-mode=1;profile-level-id=${pli};sprop-parameter-sets=${base64(clip.sps)},${base64(clip.pps)}`;
}

/**
 * RTP payloads for one access unit: a NAL unit that fits goes whole, a larger one as FU-A
 * fragments. The last payload of the picture carries the marker bit.
 * @example payloadsOf([new Uint8Array(3000).fill(0x65, 0, 1)]).length === 3
 */
export function payloadsOf(frame: Uint8Array[]): { payload: Uint8Array; marker: boolean }[] {
  const out: { payload: Uint8Array; marker: boolean }[] = [];
  for (const nal of frame) {
    if (nal.length <= MAX_RTP_PAYLOAD) {
      out.push({ payload: nal, marker: false });
      continue;
    }
    const header = nal[0]!;
    const indicator = (header & 0xe0) | FU_A;
    const type = header & 0x1f;
    let at = 1;
    while (at < nal.length) {
      const n = Math.min(MAX_RTP_PAYLOAD - 2, nal.length - at);
      const p = new Uint8Array(n + 2);
      const start = at === 1 ? 0x80 : 0;
      const end = at + n >= nal.length ? 0x40 : 0;
      p[0] = indicator;
      p[1] = start | end | type;
      p.set(nal.subarray(at, at + n), 2);
      out.push({ payload: p, marker: false });
      at += n;
    }
  }
  const last = out[out.length - 1];
  if (last) last.marker = true;
  return out;
}

/**
 * One RTP packet (RFC 3550 §5.1): version 2, no padding, extension or CSRC.
 * @example rtpPacket({ payloadType: 96, seq: 1, timestamp: 0, ssrc: 1, marker: true }, p)[1] === 0xe0
 */
export function rtpPacket(
  h: { payloadType: number; seq: number; timestamp: number; ssrc: number; marker: boolean },
  payload: Uint8Array,
): Uint8Array {
  const p = new Uint8Array(12 + payload.length);
  const v = new DataView(p.buffer);
  p[0] = 0x80;
  p[1] = (h.marker ? 0x80 : 0) | (h.payloadType & 0x7f);
  v.setUint16(2, h.seq & 0xffff);
  v.setUint32(4, h.timestamp >>> 0);
  v.setUint32(8, h.ssrc >>> 0);
  p.set(payload, 12);
  return p;
}
