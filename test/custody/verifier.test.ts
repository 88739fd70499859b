/**
 * The injected BIP340 verifiers (the system's libsecp256k1 through koffi, and libsecp256k1 in
 * WebAssembly) answer exactly as @noble/curves:
 * on the BIP341 key-path signatures (real Taproot vectors), on random valid signatures, on every
 * one-bit change of them, and on keys and signatures out of range. So does their tweak addition
 * (BIP32 public derivation), and a deriver using it derives what @scure/bip32 derives. The memo
 * verifier asks its inner verifier once per distinct triple. `.ci/run` installs libsecp256k1, so
 * the native build must load here.
 */
import { readFileSync } from 'node:fs';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { HDKey } from '@scure/bip32';
import { p2sh, p2wsh } from '@scure/btc-signer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bytesToHex,
  hexToBytes,
  makeDeriver,
  parseMultisigDescriptor,
} from '../../src/custody/core/descriptor.js';
import { network } from '../../src/custody/core/network.js';
import { memoSchnorrVerify, nobleSchnorrVerify } from '../../src/custody/core/trust.js';
import { nativeSecp } from '../../src/custody/secp-native.js';
import {
  fastPointAddScalar,
  fastSchnorrVerify,
  wasmPointAddScalar,
  wasmSchnorrVerify,
} from '../../src/custody/verifier.js';
import { vector } from '../helpers/vectors.js';

interface KeyPathCase {
  given: { txinIndex: number };
  intermediary: { sigHash: string };
  expected: { witness: string[] };
}

const native = nativeSecp();
const nativeVerify =
  native?.verifySchnorr ??
  (() => {
    throw new Error('libsecp256k1 did not load');
  });
/** Every verifier under test, each answering as noble must. */
const verifiers = { fast: fastSchnorrVerify, wasm: wasmSchnorrVerify, native: nativeVerify };
const allAgree = (s: Uint8Array, m: Uint8Array, p: Uint8Array, want: boolean) => {
  for (const [name, v] of Object.entries(verifiers))
    expect([name, v(s, m, p)]).toEqual([name, want]);
};

describe('fastSchnorrVerify', () => {
  it('uses the system libsecp256k1 (installed by .ci/run), which passed its self-test', () => {
    expect(native?.library).toMatch(/libsecp256k1/);
  });

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
        expect(nobleSchnorrVerify(sig, msg, pub)).toBe(true);
        allAgree(sig, msg, pub, true);
        const bad = Uint8Array.from(msg);
        bad[0]! ^= 1;
        allAgree(sig, bad, pub, false);
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
          allAgree(sig, msg, pub, true);
          const all = new Uint8Array([...sig, ...msg, ...pub]);
          all[bit >> 3]! ^= 1 << (bit & 7);
          const s2 = all.subarray(0, 64);
          const m2 = all.subarray(64, 96);
          const p2 = all.subarray(96, 128);
          allAgree(s2, m2, p2, nobleSchnorrVerify(s2, m2, p2));
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
      expect(nobleSchnorrVerify(s, msg, k)).toBe(false);
      allAgree(s, msg, k, false);
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

describe('fastPointAddScalar and the deriver that uses it', () => {
  const n = secp256k1.Point.CURVE().n;
  const toBig = (b: Uint8Array) => b.reduce((a, x) => (a << 8n) | BigInt(x), 0n);
  /** @noble/curves' answer: P + t·G, or null for t ≥ n, an invalid P or infinity. */
  const noble = (p: Uint8Array, t: Uint8Array) => {
    try {
      const tt = toBig(t);
      if (tt >= n) return null;
      const P = secp256k1.Point.fromBytes(p);
      const sum = tt === 0n ? P : P.add(secp256k1.Point.BASE.multiply(tt));
      return sum.equals(secp256k1.Point.ZERO) ? null : sum.toBytes(true);
    } catch {
      return null;
    }
  };
  const adders = { native: native!.pointAddScalar, wasm: wasmPointAddScalar };

  it('answers as @noble/curves on valid, altered and out-of-range points and tweaks', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.nat({ max: 33 * 8 + 32 * 8 }),
        (seed, tweak, bit) => {
          let p: Uint8Array;
          try {
            p = secp256k1.getPublicKey(seed, true);
          } catch {
            return;
          }
          const all = new Uint8Array([...p, ...tweak]);
          // bit 0…519 flips one bit (often off the curve); the last value leaves both as they are
          if (bit < 520) all[bit >> 3]! ^= 1 << (bit & 7);
          const [p2, t2] = [all.subarray(0, 33), all.subarray(33)];
          const want = noble(p2, t2);
          for (const [name, add] of Object.entries(adders)) {
            const got = add(p2, t2);
            expect([name, got && bytesToHex(got)]).toEqual([name, want && bytesToHex(want)]);
          }
        },
      ),
      { numRuns: 300 },
    );
    const p = secp256k1.getPublicKey(new Uint8Array(32).fill(5), true);
    const nBytes = hexToBytes(n.toString(16).padStart(64, '0'));
    for (const add of Object.values(adders)) {
      expect(add(p, nBytes)).toBeNull(); // t = n
      expect(add(p, new Uint8Array(32).fill(0xff))).toBeNull(); // t > n
      expect(add(p.subarray(0, 32), new Uint8Array(32))).toBeNull(); // short point
    }
    // P = 0x0505…05·G plus t = n − 0x0505…05 is the point at infinity: null
    const k = toBig(new Uint8Array(32).fill(5));
    const cancel = hexToBytes((n - k).toString(16).padStart(64, '0'));
    for (const add of Object.values(adders)) expect(add(p, cancel)).toBeNull();
  });

  it('a deriver with it derives the same keys, scripts and addresses as @scure/bip32', () => {
    const keys = Array.from({ length: 3 }, (_, i) =>
      HDKey.fromMasterSeed(new Uint8Array(32).fill(i + 1)).derive("m/48'/1'/0'/2'"),
    );
    for (const wrap of ['wsh', 'sh(wsh'] as const) {
      const inner = `sortedmulti(2,${keys.map((k) => `${k.publicExtendedKey}/<0;1>/*`).join(',')})`;
      const text = wrap === 'wsh' ? `wsh(${inner})` : `sh(wsh(${inner}))`;
      const d = parseMultisigDescriptor(text);
      const net = network('regtest');
      const slow = makeDeriver(d, net);
      const fast = makeDeriver(d, net, { pointAddScalar: fastPointAddScalar });
      for (const [index, branch] of [
        [0, 0],
        [1, 1],
        [77, 0],
        [2 ** 31 - 1, 1],
      ] as const) {
        const a = slow.derive(index, branch);
        const b = fast.derive(index, branch);
        expect(b.address).toBe(a.address);
        expect(bytesToHex(b.script)).toBe(bytesToHex(a.script));
        expect(b.bip32.map((x) => bytesToHex(x.pubkey))).toEqual(
          a.bip32.map((x) => bytesToHex(x.pubkey)),
        );
        // and what btc-signer's own payment builders say, keys re-validated
        const ms = { type: 'ms' as const, script: a.witnessScript! };
        const ref = wrap === 'wsh' ? p2wsh(ms, net.btc) : p2sh(p2wsh(ms, net.btc), net.btc);
        expect(b.address).toBe(ref.address);
        expect(bytesToHex(b.script)).toBe(bytesToHex(ref.script));
      }
    }
  });
});
