/**
 * The fast BIP340 verifier the cosigner shells inject into the pure check: libsecp256k1 (the
 * Bitcoin Core library) compiled to WebAssembly, through bitcoinjs' tiny-secp256k1. It answers
 * as @noble/curves does (a property test compares them) but several times faster, which matters
 * when one batch carries hundreds of signed approvals. Not a signer: signing stays on noble.
 */
import { verifySchnorr } from 'tiny-secp256k1';
import type { SchnorrVerify } from './core/trust.js';

/**
 * BIP340 verification by libsecp256k1. A malformed key or signature (not on the curve, r ≥ p,
 * s ≥ n, wrong length) is `false`, never a throw.
 * @example fastSchnorrVerify(sig, digest, xOnlyKey) // true | false
 */
export const fastSchnorrVerify: SchnorrVerify = (sig, msg, publicKey) => {
  try {
    return verifySchnorr(msg, publicKey, sig);
  } catch {
    return false;
  }
};
