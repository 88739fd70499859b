import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  judgeReply,
  parseTcpReply,
  SYN_LENGTH,
  synCookie,
  TCP_ACK,
  TCP_RST,
  TCP_SYN,
  writeSyn,
} from './syn.js';

/** The Internet checksum over a range, folded (0 when the range holds a correct checksum). */
function onesSum(bytes: number[]): number {
  let s = 0;
  for (let i = 0; i < bytes.length; i += 2) s += ((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const port = fc.integer({ min: 1, max: 65535 });

/** An answer as the target's kernel would build it: addresses and ports swapped, ack = seq + 1. */
function answer(syn: Uint8Array, flags: number): Uint8Array {
  const v = new DataView(syn.buffer);
  const out = new Uint8Array(40);
  const o = new DataView(out.buffer);
  o.setUint8(0, 0x45);
  o.setUint8(9, 6);
  o.setUint32(12, v.getUint32(16));
  o.setUint32(16, v.getUint32(12));
  o.setUint16(20, v.getUint16(22));
  o.setUint16(22, v.getUint16(20));
  o.setUint32(28, (v.getUint32(24) + 1) >>> 0);
  o.setUint8(33, flags);
  return out;
}

describe('SYN packets and cookies', () => {
  it('the cookie is HalfSipHash-2-4-32: the reference vector for a 12-byte message', () => {
    // key bytes 00…07 and message bytes 00…0b (little-endian words), as in the reference
    // implementation's vectors; the output for length 12 is 0x2f87f057
    const k = { k0: 0x03020100, k1: 0x07060504 };
    expect(synCookie(k, 0x03020100, 0x07060504, 0x0b0a, 0x0908)).toBe(0x2f87f057);
    expect(synCookie(k, 0x03020100, 0x07060504, 0x0b0a, 0x0909)).not.toBe(0x2f87f057);
  });

  it('writes IPv4 and TCP checksums that verify (the receiver sums to 0xffff)', () => {
    fc.assert(
      fc.property(u32, u32, port, port, u32, (src, dst, sport, dport, seq) => {
        const p = new Uint8Array(SYN_LENGTH);
        writeSyn(p, src, dst, sport, dport, seq, 1);
        expect(onesSum([...p.subarray(0, 20)])).toBe(0xffff);
        const pseudo = [...p.subarray(12, 20), 0, 6, 0, SYN_LENGTH - 20];
        expect(onesSum([...pseudo, ...p.subarray(20)])).toBe(0xffff);
        const r = parseTcpReply(p, SYN_LENGTH);
        expect(r).toMatchObject({ src, dst, sport, dport, flags: TCP_SYN });
      }),
    );
  });

  it('recognises the answers to its own SYNs: SYN-ACK is open, RST is closed', () => {
    fc.assert(
      fc.property(u32, u32, u32, port, port, (k0, src, dst, sport, dport) => {
        const key = { k0, k1: k0 ^ 0x5a5a5a5a };
        const p = new Uint8Array(SYN_LENGTH);
        writeSyn(p, src, dst, sport, dport, synCookie(key, src, dst, sport, dport), 1);
        const synAck = parseTcpReply(answer(p, TCP_SYN | TCP_ACK), 40)!;
        const rst = parseTcpReply(answer(p, TCP_RST | TCP_ACK), 40)!;
        expect(judgeReply(key, sport, synAck)).toBe('open');
        expect(judgeReply(key, sport, rst)).toBe('closed');
      }),
    );
  });

  it('refuses an answer with a wrong cookie, another key, another port or plain ACK flags', () => {
    fc.assert(
      fc.property(u32, u32, u32, port, port, (k0, src, dst, sport, dport) => {
        const key = { k0, k1: 7 };
        const p = new Uint8Array(SYN_LENGTH);
        writeSyn(p, src, dst, sport, dport, synCookie(key, src, dst, sport, dport), 1);
        const good = parseTcpReply(answer(p, TCP_SYN | TCP_ACK), 40)!;
        expect(judgeReply(key, sport, { ...good, ack: (good.ack + 1) >>> 0 })).toBeUndefined();
        expect(judgeReply({ k0: k0 ^ 1, k1: 7 }, sport, good)).toBeUndefined();
        expect(judgeReply(key, (sport % 65535) + 1, good)).toBeUndefined();
        // the same cookie does not validate an answer claiming to come from another address
        expect(judgeReply(key, sport, { ...good, src: (good.src ^ 1) >>> 0 })).toBeUndefined();
        expect(judgeReply(key, sport, { ...good, flags: TCP_ACK })).toBeUndefined();
      }),
    );
  });

  it('reads nothing from truncated or non-TCP packets', () => {
    const p = new Uint8Array(SYN_LENGTH);
    writeSyn(p, 1, 2, 3, 4, 5, 6);
    for (let n = 0; n < 40; n++) expect(parseTcpReply(p, n)).toBeUndefined();
    const udp = p.slice();
    udp[9] = 17;
    expect(parseTcpReply(udp, SYN_LENGTH)).toBeUndefined();
    const v6 = p.slice();
    v6[0] = 0x60;
    expect(parseTcpReply(v6, SYN_LENGTH)).toBeUndefined();
  });
});
