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
 * HalfSipHash-2-4 construction over three 32-bit words. Guessing a valid cookie without the key
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
  let v0 = key.k0 >>> 0;
  let v1 = key.k1 >>> 0;
  let v2 = (0x6c796765 ^ key.k0) >>> 0;
  let v3 = (0x74656462 ^ key.k1) >>> 0;
  const round = () => {
    v0 = (v0 + v1) >>> 0;
    v1 = rotl(v1, 5) ^ v0;
    v0 = rotl(v0, 16);
    v2 = (v2 + v3) >>> 0;
    v3 = rotl(v3, 8) ^ v2;
    v0 = (v0 + v3) >>> 0;
    v3 = rotl(v3, 7) ^ v0;
    v2 = (v2 + v1) >>> 0;
    v1 = rotl(v1, 13) ^ v2;
    v2 = rotl(v2, 16);
  };
  for (const m of [src >>> 0, dst >>> 0, ((sport << 16) | dport) >>> 0]) {
    v3 = (v3 ^ m) >>> 0;
    round();
    round();
    v0 = (v0 ^ m) >>> 0;
  }
  const b = (12 << 24) >>> 0;
  v3 = (v3 ^ b) >>> 0;
  round();
  round();
  v0 = (v0 ^ b) >>> 0;
  v2 = (v2 ^ 0xff) >>> 0;
  round();
  round();
  round();
  round();
  return (v1 ^ v3) >>> 0;
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
  const v = new DataView(out.buffer, out.byteOffset, SYN_LENGTH);
  // IPv4: version 4, IHL 5, total length, id, DF clear, TTL 64, protocol TCP
  v.setUint32(0, (0x45 << 24) | SYN_LENGTH);
  v.setUint32(4, (ipId & 0xffff) << 16);
  v.setUint32(8, (64 << 24) | (6 << 16));
  v.setUint32(12, src >>> 0);
  v.setUint32(16, dst >>> 0);
  v.setUint16(10, fold(sum16(out, 0, 20, 0)));
  // TCP: ports, seq, ack 0, data offset 6 words, SYN, window 1024, MSS 1460
  v.setUint16(20, sport);
  v.setUint16(22, dport);
  v.setUint32(24, seq >>> 0);
  v.setUint32(28, 0);
  v.setUint32(32, (0x60 << 24) | (0x02 << 16) | 1024);
  v.setUint32(36, 0);
  v.setUint32(40, 0x020405b4);
  const tcpLen = SYN_LENGTH - 20;
  const pseudo = (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + 6 + tcpLen;
  v.setUint16(36, fold(sum16(out, 20, SYN_LENGTH, pseudo)));
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
