/**
 * libsecp256k1 (Bitcoin Core's library) as the system ships it, called through koffi (the C FFI
 * the SYN scan already uses): BIP340 verification about 6× faster than the same library in
 * WebAssembly, and the tweak addition of BIP32 public derivation. Verification only: nothing
 * secret ever crosses this boundary, and signing stays on @noble/curves.
 *
 * Loaded once, on first use. It is used only when the library loads, has the 0.2 API
 * (`secp256k1_schnorrsig_verify` with a message length, marked by `secp256k1_schnorrsig_sign32`)
 * and answers a known-good and a known-bad signature as BIP340 says; otherwise `undefined`, and
 * `../verifier.ts` keeps the WebAssembly build. `MAMORI_LIBSECP256K1` names the library file;
 * `MAMORI_LIBSECP256K1=off` disables it.
 */
import { createRequire } from 'node:module';
import { schnorr } from '@noble/curves/secp256k1.js';
import type { PointAddScalar } from './core/descriptor.js';
import type { SchnorrVerify } from './core/trust.js';

type Fn = (...a: unknown[]) => number;

export interface NativeSecp {
  /** Which file was loaded. */
  library: string;
  verifySchnorr: SchnorrVerify;
  pointAddScalar: PointAddScalar;
}

const CONTEXT_VERIFY = 0x0101;
const EC_COMPRESSED = 0x0102;
const CANDIDATES = [
  'libsecp256k1.so.2',
  'libsecp256k1.so.1',
  'libsecp256k1.so',
  'libsecp256k1.dylib',
];

let loaded: NativeSecp | null | undefined;

function open(): NativeSecp | null {
  const want = process.env.MAMORI_LIBSECP256K1;
  if (want === 'off') return null;
  let koffi: { load(lib: string): { func(sig: string): Fn } };
  try {
    koffi = createRequire(import.meta.url)('koffi');
  } catch {
    return null;
  }
  for (const name of want ? [want] : CANDIDATES) {
    try {
      const lib = koffi.load(name);
      lib.func(
        'int secp256k1_schnorrsig_sign32(void*, _Out_ uint8_t*, const uint8_t*, const void*, const uint8_t*)',
      );
      const ctx = lib.func('void* secp256k1_context_create(unsigned int)')(CONTEXT_VERIFY);
      const xonlyParse = lib.func(
        'int secp256k1_xonly_pubkey_parse(void*, _Out_ uint8_t*, const uint8_t*)',
      );
      const verify = lib.func(
        'int secp256k1_schnorrsig_verify(void*, const uint8_t*, const uint8_t*, size_t, const uint8_t*)',
      );
      const parse = lib.func(
        'int secp256k1_ec_pubkey_parse(void*, _Out_ uint8_t*, const uint8_t*, size_t)',
      );
      const tweakAdd = lib.func(
        'int secp256k1_ec_pubkey_tweak_add(void*, _Inout_ uint8_t*, const uint8_t*)',
      );
      const serialize = lib.func(
        'int secp256k1_ec_pubkey_serialize(void*, _Out_ uint8_t*, _Inout_ size_t*, const uint8_t*, unsigned int)',
      );
      const xonly = new Uint8Array(64);
      const point = new Uint8Array(64);
      // Lengths are checked here: the library reads fixed-size buffers through raw pointers.
      const verifySchnorr: SchnorrVerify = (sig, msg, pub) =>
        sig.length === 64 &&
        msg.length === 32 &&
        pub.length === 32 &&
        xonlyParse(ctx, xonly, pub) === 1 &&
        verify(ctx, sig, msg, 32, xonly) === 1;
      const pointAddScalar: PointAddScalar = (p, tweak) => {
        if (p.length !== 33 || tweak.length !== 32) return null;
        if (parse(ctx, point, p, 33) !== 1 || tweakAdd(ctx, point, tweak) !== 1) return null;
        const out = new Uint8Array(33);
        const len = [33];
        return serialize(ctx, out, len, point, EC_COMPRESSED) === 1 && len[0] === 33 ? out : null;
      };
      if (!selfTest(verifySchnorr)) continue;
      return { library: name, verifySchnorr, pointAddScalar };
    } catch {
      // not this file, or not the 0.2 API: try the next
    }
  }
  return null;
}

/** A signature made by @noble/curves verifies, and the same with one bit changed does not. */
function selfTest(v: SchnorrVerify): boolean {
  const sk = new Uint8Array(32).fill(0x4d);
  const msg = new Uint8Array(32).fill(0x61);
  const sig = schnorr.sign(msg, sk, new Uint8Array(32));
  const pub = schnorr.getPublicKey(sk);
  const bad = Uint8Array.from(sig);
  bad[63]! ^= 1;
  return v(sig, msg, pub) && !v(bad, msg, pub) && !v(sig, msg, new Uint8Array(32).fill(0xff));
}

/**
 * The system's libsecp256k1, or undefined when it is missing or unfit (see the file comment).
 * @example nativeSecp()?.verifySchnorr(sig, digest, xOnlyKey)
 */
export function nativeSecp(): NativeSecp | undefined {
  if (loaded === undefined) loaded = open();
  return loaded ?? undefined;
}
