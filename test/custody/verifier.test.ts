/**
 * The injected BIP340 verifier (libsecp256k1 in WebAssembly) answers exactly as @noble/curves:
 * on the BIP341 key-path signatures (real Taproot vectors), on random valid signatures, on every
 * one-bit change of them, and on keys and signatures out of range. The memo verifier asks its
 * inner verifier once per distinct triple.
 */
import { readFileSync } from 'node:fs';
import { schnorr } from '@noble/curves/secp256k1.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hexToBytes } from '../../src/custody/core/descriptor.js';
import { memoSchnorrVerify, nobleSchnorrVerify } from '../../src/custody/core/trust.js';
import { fastSchnorrVerify } from '../../src/custody/verifier.js';
import { vector } from '../helpers/vectors.js';

interface KeyPathCase {
  given: { txinIndex: number };
  intermediary: { sigHash: string };
  expected: { witness: string[] };
}

describe('fastSchnorrVerify', () => {
  it('verifies the BIP341 key-path spending signatures, and refuses them altered', () => {
    const v = JSON.parse(readFileSync(vector('bitcoin/bip341/wallet-test-vectors.json'), 'utf8'));
    let n = 0;
    for (const kp of v.keyPathSpending as {
      given: { utxosSpent: { scriptPubKey: string }[] };
      inputSpending: KeyPathCase[];
    }[]) {
      for (const c of kp.inputSpending) {
        const spk = hexToBytes(kp.given.utxosSpent[c.given.txinIndex]!.scriptPubKey);
        const pub = spk.subarray(2);
        const sig = hexToBytes(c.expected.witness[0]!).subarray(0, 64);
        const msg = hexToBytes(c.intermediary.sigHash);
        expect(fastSchnorrVerify(sig, msg, pub)).toBe(true);
        expect(nobleSchnorrVerify(sig, msg, pub)).toBe(true);
        const bad = Uint8Array.from(msg);
        bad[0]! ^= 1;
        expect(fastSchnorrVerify(sig, bad, pub)).toBe(false);
        n++;
      }
    }
    expect(n).toBeGreaterThan(5);
  });

  it('answers as @noble/curves on valid, bit-flipped and out-of-range inputs', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.nat({ max: 64 * 8 + 32 * 8 * 2 - 1 }),
        (seed, msg, bit) => {
          let sk = seed;
          if (sk.every((b) => b === 0)) sk = Uint8Array.from(sk, (_, i) => (i === 31 ? 1 : 0));
          let pub: Uint8Array;
          try {
            pub = schnorr.getPublicKey(sk);
          } catch {
            return; // not a valid secret key (≥ n): nothing to sign with
          }
          const sig = schnorr.sign(msg, sk, new Uint8Array(32));
          expect(fastSchnorrVerify(sig, msg, pub)).toBe(true);
          const all = new Uint8Array([...sig, ...msg, ...pub]);
          all[bit >> 3]! ^= 1 << (bit & 7);
          const s2 = all.subarray(0, 64);
          const m2 = all.subarray(64, 96);
          const p2 = all.subarray(96, 128);
          expect(fastSchnorrVerify(s2, m2, p2)).toBe(nobleSchnorrVerify(s2, m2, p2));
        },
      ),
      { numRuns: 400 },
    );
    const sk = new Uint8Array(32).fill(7);
    const msg = new Uint8Array(32).fill(9);
    const sig = schnorr.sign(msg, sk, new Uint8Array(32));
    const pub = schnorr.getPublicKey(sk);
    const ff = new Uint8Array(32).fill(0xff); // x ≥ p: no point; r ≥ p; s ≥ n
    for (const [s, k] of [
      [sig, ff],
      [new Uint8Array([...ff, ...sig.subarray(32)]), pub],
      [new Uint8Array([...sig.subarray(0, 32), ...ff]), pub],
      [sig.subarray(0, 63), pub],
    ] as const) {
      expect(fastSchnorrVerify(s, msg, k)).toBe(false);
      expect(nobleSchnorrVerify(s, msg, k)).toBe(false);
    }
  });

  it('memo: one inner verification per distinct (key, message, signature)', () => {
    let calls = 0;
    const v = memoSchnorrVerify((s, m, p) => {
      calls++;
      return nobleSchnorrVerify(s, m, p);
    });
    const sk = new Uint8Array(32).fill(3);
    const msg = new Uint8Array(32).fill(4);
    const sig = schnorr.sign(msg, sk, new Uint8Array(32));
    const pub = schnorr.getPublicKey(sk);
    expect(v(sig, msg, pub)).toBe(true);
    expect(v(sig, msg, pub)).toBe(true);
    const other = Uint8Array.from(msg);
    other[1]! ^= 1;
    expect(v(sig, other, pub)).toBe(false);
    expect(v(sig, other, pub)).toBe(false);
    expect(calls).toBe(2);
  });
});
