/**
 * The fast secp256k1 operations the cosigner shells inject into the pure check: BIP340
 * verification and the tweak addition of BIP32 public derivation, by libsecp256k1 (the Bitcoin
 * Core library). The system's library through koffi when it loads and passes its self-test
 * (`secp-native.ts`, about 6× the WebAssembly build), else the same library compiled to
 * WebAssembly (bitcoinjs' tiny-secp256k1). Both answer as @noble/curves does (property tests
 * compare all three); they matter when one batch carries hundreds of signed approvals. Not a
 * signer: signing stays on noble, and no secret crosses into either.
 */
import { pointAddScalar, verifySchnorr } from 'tiny-secp256k1';
import type { PointAddScalar } from './core/descriptor.js';
import type { SchnorrVerify } from './core/trust.js';
import { nativeSecp } from './secp-native.js';

/** BIP340 verification by libsecp256k1 in WebAssembly; malformed input is `false`. */
export const wasmSchnorrVerify: SchnorrVerify = (sig, msg, publicKey) => {
  try {
    return verifySchnorr(msg, publicKey, sig);
  } catch {
    return false;
  }
};

/** P + t·G by libsecp256k1 in WebAssembly; null for infinity or an invalid point or tweak. */
export const wasmPointAddScalar: PointAddScalar = (point, tweak) => {
  try {
    return pointAddScalar(point, tweak, true);
  } catch {
    return null;
  }
};

/** Which build answers: `native <file>` or `wasm`. */
export function secpBackend(): string {
  const n = nativeSecp();
  return n
    ? `libsecp256k1 native (${n.library}, via koffi)`
    : 'libsecp256k1 WebAssembly (tiny-secp256k1)';
}

/**
 * BIP340 verification by libsecp256k1. A malformed key or signature (not on the curve, r ≥ p,
 * s ≥ n, wrong length) is `false`, never a throw.
 * @example fastSchnorrVerify(sig, digest, xOnlyKey) // true | false
 */
export const fastSchnorrVerify: SchnorrVerify = (sig, msg, publicKey) =>
  (nativeSecp()?.verifySchnorr ?? wasmSchnorrVerify)(sig, msg, publicKey);

/**
 * P + t·G by libsecp256k1, compressed; null for the point at infinity or an invalid point or
 * tweak (the deriver then refuses the key, as BIP32 says).
 * @example fastPointAddScalar(parentPub33, il) // 33 bytes | null
 */
export const fastPointAddScalar: PointAddScalar = (point, tweak) =>
  (nativeSecp()?.pointAddScalar ?? wasmPointAddScalar)(point, tweak);
