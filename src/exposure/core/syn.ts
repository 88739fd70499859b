/**
 * The packets of a stateless SYN scan, as masscan and zmap send them: a SYN whose initial
 * sequence number is a keyed hash of its 4-tuple (the "cookie"), so an answer is recognised by
 * recomputing the hash from the answer's own addresses, with no table of what was sent. Pure: the
 * key comes in (random per scan, chosen by the caller), the packets are bytes in Uint8Arrays.
 * Not the socket (raw.ts) nor the pacing (syn-scan.ts). IPv4 only.
 */

/** A 64-bit cookie key as two 32-bit words. */
export interface CookieKey {
  k0: number;
  k1: number;
}

const rotl = (x: number, b: number) => ((x << b) | (x >>> (32 - b))) >>> 0;

/**
 * A keyed 32-bit hash of (source, destination, source port, destination port): the
 * HalfSipHash-2-4 (32-bit output) of three message words, src, dst and sport << 16 | dport (a
 * 12-byte message read as little-endian words; the reference vector is a test). Guessing a valid
 * cookie without the key
 * takes about 2^32 tries, so a forged or stray answer is not counted as an open port.
 * @example synCookie({ k0: 1, k1: 2 }, 0xc0000201, 0xc0000202, 61000, 80) // a uint32
 */
export function synCookie(
  key: CookieKey,
  src: number,
  dst: number,
  sport: number,
  dport: number,
): number {
  const v = state;
  v[0] = key.k0;
  v[1] = key.k1;
  v[2] = 0x6c796765 ^ key.k0;
  v[3] = 0x74656462 ^ key.k1;
  // three message words (12 bytes, little-endian), then the length word: 2 rounds each
  compress(v, src);
  compress(v, dst);
  compress(v, (sport << 16) | dport);
  compress(v, 12 << 24);
  v[2] = v[2]! ^ 0xff;
  for (let r = 0; r < 4; r++) sipRound(v);
  return (v[1]! ^ v[3]!) >>> 0;
}

/** The hash state, reused: this runs once per packet sent and once per answer. */
const state = new Uint32Array(4);

function compress(v: Uint32Array, m: number): void {
  v[3] = v[3]! ^ m;
  sipRound(v);
  sipRound(v);
  v[0] = v[0]! ^ m;
}

/** One HalfSipHash round (a Uint32Array wraps every sum at 2^32). */
function sipRound(v: Uint32Array): void {
  v[0] = v[0]! + v[1]!;
  v[1] = rotl(v[1]!, 5) ^ v[0]!;
  v[0] = rotl(v[0]!, 16);
  v[2] = v[2]! + v[3]!;
  v[3] = rotl(v[3]!, 8) ^ v[2]!;
  v[0] = v[0]! + v[3]!;
  v[3] = rotl(v[3]!, 7) ^ v[0]!;
  v[2] = v[2]! + v[1]!;
  v[1] = rotl(v[1]!, 13) ^ v[2]!;
  v[2] = rotl(v[2]!, 16);
}

/** Bytes of one SYN: a 20-byte IPv4 header and a 24-byte TCP header (with an MSS option). */
export const SYN_LENGTH = 44;

function sum16(buf: Uint8Array, start: number, end: number, acc: number): number {
  let s = acc;
  for (let i = start; i < end; i += 2) s += (buf[i]! << 8) | buf[i + 1]!;
  return s;
}

function fold(s: number): number {
  let x = s;
  while (x > 0xffff) x = (x & 0xffff) + (x >>> 16);
  return ~x & 0xffff;
}

/**
 * Write a SYN from `src:sport` to `dst:dport` with sequence `seq` into `out` (SYN_LENGTH bytes),
 * with both checksums, for a raw socket with IP_HDRINCL.
 * @example writeSyn(buf, 0xc0000201, 0xc0000202, 61000, 80, seq, 7)
 */
export function writeSyn(
  out: Uint8Array,
  src: number,
  dst: number,
  sport: number,
  dport: number,
  seq: number,
  ipId: number,
): void {
  put32(out, 0, (0x45 << 24) | SYN_LENGTH);
  put32(out, 4, (ipId & 0xffff) << 16);
  put32(out, 8, (64 << 24) | (6 << 16)); // TTL 64, TCP, checksum 0 for now
  put32(out, 12, src);
  put32(out, 16, dst);
  put16(out, 10, fold(sum16(out, 0, 20, 0)));
  // TCP: ports, seq, ack 0, data offset 6 words, SYN, window 1024, MSS 1460
  put16(out, 20, sport);
  put16(out, 22, dport);
  put32(out, 24, seq);
  put32(out, 28, 0);
  put32(out, 32, (0x60 << 24) | (0x02 << 16) | 1024);
  put32(out, 36, 0);
  put32(out, 40, 0x020405b4);
  const tcpLen = SYN_LENGTH - 20;
  const pseudo = (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + 6 + tcpLen;
  put16(out, 36, fold(sum16(out, 20, SYN_LENGTH, pseudo)));
}

function put32(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 24;
  out[at + 1] = v >>> 16;
  out[at + 2] = v >>> 8;
  out[at + 3] = v;
}

function put16(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 8;
  out[at + 1] = v;
}

export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_ACK = 0x10;

/** What a scan needs from a TCP packet read off a raw socket (IPv4 header included). */
export interface TcpReply {
  src: number;
  dst: number;
  sport: number;
  dport: number;
  flags: number;
  ack: number;
}

/**
 * Parse an IPv4 TCP packet as a raw socket returns it; undefined for anything else or anything
 * truncated (a raw socket sees every TCP packet the host receives, not only our answers).
 * @example parseTcpReply(packet, n)?.flags
 */
export function parseTcpReply(buf: Uint8Array, length: number): TcpReply | undefined {
  if (length < 20 || buf[0]! >> 4 !== 4 || buf[9] !== 6) return undefined;
  const ihl = (buf[0]! & 0x0f) * 4;
  if (ihl < 20 || length < ihl + 20) return undefined;
  const v = new DataView(buf.buffer, buf.byteOffset, length);
  return {
    src: v.getUint32(12),
    dst: v.getUint32(16),
    sport: v.getUint16(ihl),
    dport: v.getUint16(ihl + 2),
    ack: v.getUint32(ihl + 8),
    flags: buf[ihl + 13]!,
  };
}

/**
 * The verdict on one reply: 'open' (SYN-ACK), 'closed' (RST) or undefined (not an answer to a
 * SYN this scan sent: wrong port, wrong flags, or a cookie that does not check out).
 * @example judgeReply(key, 61000, reply) // 'open'
 */
export function judgeReply(
  key: CookieKey,
  sport: number,
  r: TcpReply,
): 'open' | 'closed' | undefined {
  if (r.dport !== sport) return undefined;
  // the answer's ack is our cookie + 1; its addresses are ours swapped
  if ((synCookie(key, r.dst, r.src, sport, r.sport) + 1) >>> 0 !== r.ack) return undefined;
  if ((r.flags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK)) return 'open';
  if (r.flags & TCP_RST) return 'closed';
  return undefined;
}
