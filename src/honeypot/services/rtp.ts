/**
 * The camera's live video for RTSP viewers: the committed H.264 test-pattern clip
 * (../media/testpattern.h264, made once by ../media/make-clip.sh), looped at its own frame rate
 * and sent as RTP, interleaved on the RTSP connection or over UDP to the viewer's own address
 * (never anywhere else: the honeypot cannot be made to send video to a third party).
 * Nothing is encoded at run time. Not the RTSP dialogue: see rtsp.ts.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fmtpOf, type H264Clip, parseClip, payloadsOf, rtpPacket } from '../core/h264.js';

/** Frames per second of the committed clip (make-clip.sh: rate=10). */
export const CLIP_FPS = 10;
export const CLIP_WIDTH = 320;
export const CLIP_HEIGHT = 240;

let clip: H264Clip | undefined;

/** The clip, read and cut once per process. Looked up beside the source and from dist/. */
export function cameraClip(): H264Clip {
  if (clip) return clip;
  const candidates = [
    new URL('../media/testpattern.h264', import.meta.url),
    new URL('../../../src/honeypot/media/testpattern.h264', import.meta.url),
  ].map((u) => fileURLToPath(u));
  const file = candidates.find((f) => existsSync(f));
  if (!file) throw new Error(`the camera clip is missing (looked in ${candidates.join(', ')})`);
  clip = parseClip(new Uint8Array(readFileSync(file)));
  return clip;
}

/** The SDP `a=fmtp` line's value for the clip. */
export function cameraFmtp(): string {
  return fmtpOf(cameraClip());
}

/** Where one viewer's packets go. */
export type RtpTarget =
  | {
      kind: 'interleaved';
      channel: number;
      write: (b: Uint8Array) => boolean;
      backlog: () => number;
    }
  | { kind: 'udp'; socket: UdpSocket; host: string; port: number };

/**
 * One viewer's stream: starts at an IDR, loops the clip, stops at `stop()` or after `maxMs`.
 * @example const s = new RtpStream(target, 60_000, () => {}); s.start(); … s.stop();
 */
export class RtpStream {
  readonly ssrc = randomBytes(4).readUInt32BE(0);
  #seq = randomBytes(2).readUInt16BE(0);
  readonly #ts0 = randomBytes(4).readUInt32BE(0);
  #frame = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #target: RtpTarget;
  readonly #maxMs: number;
  readonly #onEnd: () => void;
  #started = 0;

  constructor(target: RtpTarget, maxMs: number, onEnd: () => void) {
    this.#target = target;
    this.#maxMs = maxMs;
    this.#onEnd = onEnd;
  }

  /** The RTP-Info values for the PLAY answer. */
  get firstSeq(): number {
    return this.#seq;
  }
  get firstTimestamp(): number {
    return this.#ts0;
  }

  start(): void {
    if (this.#timer) return;
    this.#started = Date.now();
    this.#send();
    this.#timer = setInterval(() => this.#send(), 1000 / CLIP_FPS);
  }

  stop(): void {
    if (!this.#timer) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#onEnd();
  }

  #send(): void {
    if (Date.now() - this.#started > this.#maxMs) {
      this.stop();
      return;
    }
    const t = this.#target;
    // A viewer that does not read gets no more frames until it drains (bounded memory).
    if (t.kind === 'interleaved' && t.backlog() > 512 * 1024) return;
    const c = cameraClip();
    const frame = c.frames[this.#frame % c.frames.length]!;
    const timestamp = (this.#ts0 + this.#frame * (90_000 / CLIP_FPS)) >>> 0;
    this.#frame++;
    for (const { payload, marker } of payloadsOf(frame)) {
      const pkt = rtpPacket(
        { payloadType: 96, seq: this.#seq, timestamp, ssrc: this.ssrc, marker },
        payload,
      );
      this.#seq = (this.#seq + 1) & 0xffff;
      if (t.kind === 'interleaved') {
        const head = new Uint8Array([0x24, t.channel, pkt.length >> 8, pkt.length & 0xff]);
        t.write(head);
        t.write(pkt);
      } else t.socket.send(pkt, t.port, t.host);
    }
  }
}

/** A UDP socket pair (RTP, RTCP) shared by every UDP viewer of one RTSP server. */
export class UdpPair {
  #pair: Promise<{ rtp: UdpSocket; rtcp: UdpSocket }> | undefined;
  readonly #host: string;

  constructor(host: string) {
    this.#host = host;
  }

  get(): Promise<{ rtp: UdpSocket; rtcp: UdpSocket }> {
    this.#pair ??= (async () => {
      const family = this.#host.includes(':') ? 'udp6' : 'udp4';
      const bind = (s: UdpSocket) =>
        new Promise<UdpSocket>((resolve, reject) => {
          s.once('error', reject);
          s.bind(0, this.#host, () => {
            s.off('error', reject);
            // Receiver reports are read and dropped; nothing a viewer sends here is news.
            s.on('message', () => {});
            s.on('error', () => {});
            resolve(s);
          });
        });
      return { rtp: await bind(createSocket(family)), rtcp: await bind(createSocket(family)) };
    })();
    return this.#pair;
  }

  async close(): Promise<void> {
    if (!this.#pair) return;
    const p = await this.#pair.catch(() => undefined);
    p?.rtp.close();
    p?.rtcp.close();
  }
}
