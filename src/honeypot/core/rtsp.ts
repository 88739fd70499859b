/**
 * RTSP/1.0 request parsing and the camera's answers (OPTIONS, DESCRIBE, SETUP, PLAY,
 * TEARDOWN, GET_PARAMETER) as pure functions: the stream paths the camera serves, the SDP, the
 * Transport negotiation. Not a media server: the RTP itself is sent by services/rtp.ts.
 */

export interface RtspRequest {
  method: string;
  uri: string;
  version: string;
  headers: Record<string, string>;
}

/** Longest request head accepted before it is garbage. */
export const MAX_RTSP_HEAD = 8192;

/**
 * Parse one request head (without the blank line). Undefined when malformed.
 * @example parseRtspRequest('OPTIONS rtsp://h/ RTSP/1.0\r\nCSeq: 1')?.method === 'OPTIONS'
 */
export function parseRtspRequest(head: string): RtspRequest | undefined {
  const lines = head.split(/\r?\n/);
  const m = /^([A-Z_]{3,20}) (\S{1,2048}) (RTSP\/\d\.\d)$/.exec(lines[0] ?? '');
  if (!m) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const i = line.indexOf(':');
    if (i <= 0) return undefined;
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { method: m[1]!, uri: m[2]!, version: m[3]!, headers };
}

/** Basic credentials from an Authorization header (RTSP clients also use Basic). */
export function basicCredentials(
  header: string | undefined,
  decodeBase64: (s: string) => string,
): { username: string; password: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]{1,512})$/i.exec(header?.trim() ?? '');
  if (!m) return undefined;
  const text = decodeBase64(m[1]!);
  const i = text.indexOf(':');
  if (i < 0) return { username: text, password: '' };
  return { username: text.slice(0, i), password: text.slice(i + 1) };
}

/** Username from a Digest Authorization header (the password is not recoverable). */
export function digestUsername(header: string | undefined): string | undefined {
  const m = /^Digest\s.*\busername="([^"]{0,128})"/i.exec(header?.trim() ?? '');
  return m?.[1];
}

/**
 * One reply. Every reply carries a CSeq, as RFC 2326 §12.17 requires: the request's, or 0 when
 * it had none (what the Hipcam firmware we imitate answers).
 * @example rtspResponse(400, 'Bad Request', undefined).startsWith('RTSP/1.0 400 Bad Request\r\nCSeq: 0\r\n')
 */
export function rtspResponse(
  status: number,
  reason: string,
  cseq: string | undefined,
  headers: Record<string, string> = {},
  body = '',
): string {
  const lines = [`RTSP/1.0 ${status} ${reason}`];
  const seq = /^\d{1,9}$/.exec(cseq?.trim() ?? '')?.[0] ?? '0';
  lines.push(`CSeq: ${seq}`);
  lines.push('Server: Hipcam RealServer/V1.0');
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  if (body) lines.push(`Content-Length: ${new TextEncoder().encode(body).length}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/**
 * The SDP a cheap camera returns for its main stream (H.264 video, no audio). `fmtp` carries
 * the clip's profile and its sprop-parameter-sets, so a player knows the picture size at once.
 */
export function cameraSdp(host: string, fmtp: string, framerate: number): string {
  const ip6 = host.includes(':');
  return [
    'v=0',
    `o=- 1 1 IN ${ip6 ? 'IP6' : 'IP4'} ${host}`,
    's=IP Camera Video',
    `c=IN ${ip6 ? 'IP6 ::' : 'IP4 0.0.0.0'}`,
    't=0 0',
    'a=tool:LIVE555 Streaming Media v2011.05.25',
    'a=range:npt=0-',
    'a=control:*',
    'm=video 0 RTP/AVP 96',
    'a=rtpmap:96 H264/90000',
    `a=fmtp:96 ${fmtp}`,
    `a=framerate:${framerate}`,
    'a=control:trackID=1',
    '',
  ].join('\r\n');
}

/** The stream paths this camera serves (Hipcam's main and sub stream names, and `/`). */
export const STREAM_PATHS: readonly string[] = ['/', '/11', '/12', '/live/ch00_0', '/live/ch00_1'];

/**
 * The stream path a request URI names, without a `trackID=` control suffix; undefined when the
 * URI is not one of the camera's streams.
 * @example streamPathOf('rtsp://10.0.0.1:554/11/trackID=1') === '/11'
 */
export function streamPathOf(uri: string): string | undefined {
  const m = /^rtsps?:\/\/[^/]*(\/[^?#]*)?/i.exec(uri);
  if (!m) return undefined;
  let path = (m[1] ?? '/').replace(/\/trackID=\d+\/?$/i, '').replace(/\/{2,}/g, '/');
  if (path.length > 1) path = path.replace(/\/$/, '');
  return STREAM_PATHS.includes(path) ? path : undefined;
}

export type TransportAsk =
  | { kind: 'interleaved'; rtp: number; rtcp: number }
  | { kind: 'udp'; rtp: number; rtcp: number }
  | undefined;

/**
 * What a SETUP's Transport header asks for: RTP interleaved on the RTSP connection, or UDP to
 * client ports. Multicast and anything else: undefined (answered 461).
 * @example transportAsk('RTP/AVP/TCP;unicast;interleaved=0-1') // { kind: 'interleaved', rtp: 0, rtcp: 1 }
 */
export function transportAsk(header: string | undefined): TransportAsk {
  for (const spec of (header ?? '').split(',')) {
    const parts = spec.trim().split(';');
    const proto = parts[0]?.toUpperCase();
    if (parts.some((p) => p.toLowerCase() === 'multicast')) continue;
    if (proto === 'RTP/AVP/TCP') {
      const m = /^interleaved=(\d{1,3})(?:-(\d{1,3}))?$/i.exec(
        parts.find((p) => /^interleaved=/i.test(p)) ?? 'interleaved=0-1',
      );
      const rtp = Number(m?.[1] ?? 0);
      if (rtp > 254) continue;
      return { kind: 'interleaved', rtp, rtcp: Number(m?.[2] ?? rtp + 1) };
    }
    if (proto === 'RTP/AVP' || proto === 'RTP/AVP/UDP') {
      const m = /^client_port=(\d{1,5})(?:-(\d{1,5}))?$/i.exec(
        parts.find((p) => /^client_port=/i.test(p)) ?? '',
      );
      const rtp = Number(m?.[1] ?? 0);
      if (!m || rtp < 1 || rtp > 65535) continue;
      return { kind: 'udp', rtp, rtcp: Math.min(Number(m[2] ?? rtp + 1), 65535) };
    }
  }
  return undefined;
}
