/**
 * Output script descriptors (BIP380–383, BIP389 multipath) for the multisig shapes custody uses:
 * `wsh(multi|sortedmulti(M, keys…))` and `sh(wsh(…))`, keys as hex pubkeys, WIF, or extended
 * keys with key origin, derivation steps, `*` and `<a;b>`. Parses, checks the checksum, formats
 * and derives addresses. Not a general miniscript engine: other functions are E_UNSUPPORTED.
 */

import { secp256k1 } from '@noble/curves/secp256k1.js';
import { hmac } from '@noble/hashes/hmac.js';
import { ripemd160 } from '@noble/hashes/legacy.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { HDKey } from '@scure/bip32';
import { Address, OutScript, Script, WIF } from '@scure/btc-signer';
import { MamoriError } from '../../shared/errors.js';
import { descriptorChecksum } from './checksum.js';
import { NETWORKS, type NetworkInfo } from './network.js';

const HARDENED = 0x80000000;

function isPoint(pub: Uint8Array): boolean {
  try {
    secp256k1.Point.fromBytes(pub);
    return pub.length === 33;
  } catch {
    return false;
  }
}

export interface KeyOrigin {
  /** 8 hex characters. */
  fingerprint: string;
  /** Child numbers, hardened ones have the 0x80000000 bit. */
  path: number[];
}

/** One derivation step after an extended key. */
export type Step =
  | { kind: 'fixed'; index: number }
  | { kind: 'wildcard'; hardened: boolean }
  | { kind: 'multi'; indexes: number[] };

export interface DescriptorKey {
  origin: KeyOrigin | undefined;
  /** The key as written (for formatting back); private keys are formatted as their public. */
  text: string;
  /** A plain public key (33 bytes), or undefined for extended keys. */
  pubkey: Uint8Array | undefined;
  /** An extended key (public or private). */
  hd: HDKey | undefined;
  steps: Step[];
  hasPrivate: boolean;
}

export interface MultisigDescriptor {
  /** `wsh` or `sh-wsh`. */
  wrapper: 'wsh' | 'sh-wsh';
  sorted: boolean;
  threshold: number;
  keys: DescriptorKey[];
}

function err(msg: string, hint?: string): MamoriError {
  return new MamoriError('E_INPUT', `descriptor: ${msg}`, hint ? { hint } : {});
}

/** Split `a,b(c,d),e` at top-level commas. */
function splitArgs(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(' || ch === '[' || ch === '<') depth++;
    if (ch === ')' || ch === ']' || ch === '>') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function call(s: string): { name: string; inner: string } | undefined {
  const m = /^([a-z_]+)\((.*)\)$/s.exec(s);
  return m ? { name: m[1]!, inner: m[2]! } : undefined;
}

function parseIndex(t: string, where: string): number {
  const hard = /['h]$/.test(t);
  const num = hard ? t.slice(0, -1) : t;
  if (!/^\d+$/.test(num)) throw err(`key path value '${t}' is not a valid uint32 in ${where}`);
  const v = Number(num);
  if (v >= HARDENED) throw err(`key path value ${t} is out of range`);
  return hard ? v + HARDENED : v;
}

function formatIndex(i: number): string {
  return i >= HARDENED ? `${i - HARDENED}'` : String(i);
}

function hdVersions(text: string) {
  return /^[xX]p(ub|rv)/.test(text) ? NETWORKS.mainnet.bip32 : NETWORKS.testnet.bip32;
}

/**
 * Parse one key expression.
 * @example parseKey("[d34db33f/48'/1'/0'/2']tpubD…/<0;1>/*")
 */
export function parseKey(expr: string): DescriptorKey {
  let rest = expr;
  let origin: KeyOrigin | undefined;
  if (rest.startsWith('[')) {
    const end = rest.indexOf(']');
    if (end < 0) throw err(`key '${expr}' has an unclosed origin`);
    const parts = rest.slice(1, end).split('/');
    const fp = parts.shift()!;
    if (!/^[0-9a-fA-F]{8}$/.test(fp)) throw err(`fingerprint '${fp}' is not 4 bytes of hex`);
    origin = { fingerprint: fp.toLowerCase(), path: parts.map((p) => parseIndex(p, 'origin')) };
    rest = rest.slice(end + 1);
    if (rest.includes('[')) throw err('multiple key origins');
  }
  const [head, ...stepTexts] = rest.split('/');
  if (!head) throw err('no key provided');
  let pubkey: Uint8Array | undefined;
  let hd: HDKey | undefined;
  let hasPrivate = false;
  if (/^[0-9a-fA-F]+$/.test(head)) {
    if (stepTexts.length) throw err(`a plain public key cannot be derived: '${expr}'`);
    if (head.length !== 66 || !/^0[23]/.test(head)) {
      throw err(`public key '${head}' is not a 33-byte compressed key (segwit needs those)`);
    }
    pubkey = hexToBytes(head);
    if (!isPoint(pubkey)) throw err(`public key '${head}' is not a point on secp256k1`);
  } else if (/^[xt]p(ub|rv)/.test(head)) {
    try {
      hd = HDKey.fromExtendedKey(head, hdVersions(head));
    } catch (e) {
      throw err(`key '${head.slice(0, 12)}…' is not a valid extended key`, String(e));
    }
    hasPrivate = hd.privateKey !== null;
  } else {
    try {
      const priv = decodeWif(head);
      hasPrivate = true;
      pubkey = pubFromPriv(priv);
    } catch {
      throw err(`key '${head.slice(0, 12)}…' is not a valid public or private key`);
    }
  }
  const steps: Step[] = [];
  stepTexts.forEach((t, i) => {
    if (t === '*' || t === "*'" || t === '*h') {
      if (i !== stepTexts.length - 1) throw err("'*' may only appear as the last step");
      steps.push({ kind: 'wildcard', hardened: t !== '*' });
    } else if (t.startsWith('<')) {
      const m = /^<([^>]+)>$/.exec(t);
      if (!m) throw err(`bad multipath step '${t}'`);
      const idx = m[1]!.split(';').map((x) => parseIndex(x, 'multipath'));
      if (idx.length < 2) throw err(`multipath '${t}' needs at least two values`);
      if (new Set(idx).size !== idx.length) throw err(`multipath '${t}' repeats a value`);
      if (steps.some((s) => s.kind === 'multi')) throw err('only one multipath step per key');
      steps.push({ kind: 'multi', indexes: idx });
    } else steps.push({ kind: 'fixed', index: parseIndex(t, 'key') });
  });
  const hardenedStep = steps.some(
    (s) =>
      (s.kind === 'fixed' && s.index >= HARDENED) ||
      (s.kind === 'wildcard' && s.hardened) ||
      (s.kind === 'multi' && s.indexes.some((x) => x >= HARDENED)),
  );
  // Parsing succeeds (Core agrees); deriving a hardened step needs the private key.
  void hardenedStep;
  const text = hd ? (hd.publicExtendedKey as string) : bytesToHex(pubkey!);
  return { origin, text, pubkey, hd, steps, hasPrivate };
}

/**
 * Parse `wsh(sortedmulti(2,…))` or `sh(wsh(multi(…)))`, checking the `#checksum` when present
 * (or always, with requireChecksum).
 * @example parseMultisigDescriptor('wsh(sortedmulti(2,[…]tpub…/<0;1>/*,…))#abcd1234')
 */
export function parseMultisigDescriptor(
  input: string,
  opts: { requireChecksum?: boolean } = {},
): MultisigDescriptor {
  const text = input.trim();
  const hashes = text.split('#');
  if (hashes.length > 2) throw err("multiple '#' symbols");
  const body = hashes[0]!;
  if (hashes.length === 2) {
    const given = hashes[1]!;
    if (given.length !== 8)
      throw err(`expected 8 character checksum, not ${given.length} characters`);
    const want = descriptorChecksum(body);
    if (want === undefined) throw err('invalid characters in payload');
    if (want !== given) throw err(`expected checksum ${want}, found ${given}`);
  } else if (opts.requireChecksum) throw err('missing checksum');
  if (descriptorChecksum(body) === undefined) throw err('invalid characters in payload');
  let wrapper: MultisigDescriptor['wrapper'];
  let innerText: string;
  const top = call(body);
  if (!top) throw err(`'${body.slice(0, 20)}' is not a valid descriptor function`);
  if (top.name === 'wsh') {
    wrapper = 'wsh';
    innerText = top.inner;
  } else if (top.name === 'sh') {
    const w = call(top.inner);
    if (w?.name !== 'wsh') {
      throw new MamoriError(
        'E_UNSUPPORTED',
        'descriptor: only sh(wsh(multi…)) is supported under sh()',
      );
    }
    wrapper = 'sh-wsh';
    innerText = w.inner;
  } else {
    throw new MamoriError(
      'E_UNSUPPORTED',
      `descriptor: ${top.name}() is not a multisig shape custody uses`,
      {
        hint: 'use wsh(sortedmulti(M,…))',
      },
    );
  }
  const ms = call(innerText);
  if (!ms || (ms.name !== 'multi' && ms.name !== 'sortedmulti')) {
    throw new MamoriError('E_UNSUPPORTED', 'descriptor: wsh() must hold multi() or sortedmulti()');
  }
  const args = splitArgs(ms.inner);
  const thr = args.shift()!;
  if (!/^\d+$/.test(thr) || Number(thr) < 1) throw err(`multisig threshold '${thr}' is not valid`);
  const threshold = Number(thr);
  if (args.length === 0 || args.some((a) => a === '')) throw err('no key provided');
  if (threshold > args.length) {
    throw err(`threshold greater than number of keys (${threshold} > ${args.length})`);
  }
  if (args.length > 20)
    throw err(`cannot have ${args.length} keys in multisig; must have between 1 and 20 keys`);
  const keys = args.map(parseKey);
  const multis = keys.map((k) => {
    const m = k.steps.find((s) => s.kind === 'multi');
    return m && m.kind === 'multi' ? m.indexes.length : 1;
  });
  if (multis.some((n) => n !== 1 && n !== Math.max(...multis))) {
    throw err('multipath steps must have the same number of values in every key');
  }
  return { wrapper, sorted: ms.name === 'sortedmulti', threshold, keys };
}

function formatKey(k: DescriptorKey): string {
  const origin = k.origin
    ? `[${k.origin.fingerprint}${k.origin.path.map((p) => `/${formatIndex(p)}`).join('')}]`
    : '';
  const steps = k.steps
    .map((s) =>
      s.kind === 'fixed'
        ? `/${formatIndex(s.index)}`
        : s.kind === 'wildcard'
          ? s.hardened
            ? "/*'"
            : '/*'
          : `/<${s.indexes.map(formatIndex).join(';')}>`,
    )
    .join('');
  return `${origin}${k.text}${steps}`;
}

/**
 * The descriptor text with its checksum (public keys only).
 * @example formatDescriptor(d) // 'wsh(sortedmulti(2,…))#…'
 */
export function formatDescriptor(d: MultisigDescriptor, branch?: number): string {
  const keys = d.keys.map((k) =>
    formatKey(
      branch === undefined
        ? k
        : {
            ...k,
            steps: k.steps.map((s) =>
              s.kind === 'multi' ? { kind: 'fixed', index: s.indexes[branch]! } : s,
            ),
          },
    ),
  );
  const inner = `${d.sorted ? 'sortedmulti' : 'multi'}(${d.threshold},${keys.join(',')})`;
  const body = d.wrapper === 'wsh' ? `wsh(${inner})` : `sh(wsh(${inner}))`;
  return `${body}#${descriptorChecksum(body)}`;
}

export function isRange(d: MultisigDescriptor): boolean {
  return d.keys.some((k) => k.steps.some((s) => s.kind === 'wildcard'));
}

/** Per-key cache of the derived parent (everything before the wildcard) per branch. */
export interface Deriver {
  /** Public keys in script order for index/branch. */
  pubkeys(index: number, branch?: number): Uint8Array[];
  /** The witness script, scriptPubKey and address for index/branch. */
  derive(index: number, branch?: number): DerivedAddress;
}

export interface DerivedAddress {
  index: number;
  branch: number;
  address: string;
  script: Uint8Array;
  witnessScript: Uint8Array;
  redeemScript: Uint8Array | undefined;
  /** One entry per key, in descriptor key order: pubkey, master fingerprint and full path. */
  bip32: { pubkey: Uint8Array; fingerprint: number; path: number[] }[];
}

/**
 * Public-key tweak addition, P + t·G, 33-byte compressed in and out; null when the sum is the
 * point at infinity. A shell may inject libsecp256k1's (`../verifier.ts`) so that a cosigner
 * re-deriving a wallet's scripts is several times faster than @noble/curves; the answer is the
 * same (a property test compares the two derivations).
 */
export type PointAddScalar = (point: Uint8Array, tweak: Uint8Array) => Uint8Array | null;

/** A node of a BIP32 tree, able to derive its children. */
interface PublicNode {
  publicKey: Uint8Array;
  child(index: number): PublicNode;
}

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/**
 * BIP32 CKDpub with an injected tweak addition: I = HMAC-SHA512(chain code, K ‖ ser32(i)),
 * child = K + I_L·G, chain code I_R. An I_L ≥ n or an infinite child is BIP32's invalid key
 * (probability below 2^-127): refused, as @scure/bip32 refuses it. Hardened steps and private
 * keys stay with @scure/bip32.
 */
function nodeOf(hd: HDKey, add: PointAddScalar | undefined): PublicNode {
  if (!add || hd.privateKey || !hd.chainCode) {
    return { publicKey: hd.publicKey!, child: (i) => nodeOf(hd.deriveChild(i), add) };
  }
  const fast = (publicKey: Uint8Array, chainCode: Uint8Array): PublicNode => ({
    publicKey,
    child(i) {
      if (i >= HARDENED) throw err('private key not available for hardened derivation');
      const data = new Uint8Array(37);
      data.set(publicKey);
      new DataView(data.buffer).setUint32(33, i);
      const I = hmac(sha512, chainCode, data);
      const il = I.subarray(0, 32);
      let t = 0n;
      for (const b of il) t = (t << 8n) | BigInt(b);
      const next = t < SECP256K1_N ? add(publicKey, il) : null;
      if (!next) throw err(`BIP32: child ${i} is an invalid key; use another index`);
      return fast(next, I.slice(32));
    },
  });
  return fast(hd.publicKey!, hd.chainCode);
}

/**
 * @example makeDeriver(parseMultisigDescriptor(text), network('regtest')).derive(0, 0).address
 */
export function makeDeriver(
  d: MultisigDescriptor,
  net: NetworkInfo,
  opts: { pointAddScalar?: PointAddScalar } = {},
): Deriver {
  const cache = new Map<string, PublicNode>();
  for (const k of d.keys) {
    const hardened = k.steps.some(
      (s) =>
        (s.kind === 'fixed' && s.index >= HARDENED) ||
        (s.kind === 'wildcard' && s.hardened) ||
        (s.kind === 'multi' && s.indexes.some((x) => x >= HARDENED)),
    );
    if (hardened && !k.hasPrivate) throw err('private key not available for hardened derivation');
  }
  const keyAt = (k: DescriptorKey, ki: number, index: number, branch: number) => {
    if (k.pubkey) return { pub: k.pubkey, path: [] as number[] };
    const path: number[] = [];
    const cacheKey = `${ki}:${branch}`;
    const fixed = k.steps.filter((s) => s.kind !== 'wildcard');
    for (const s of fixed) {
      path.push(s.kind === 'fixed' ? s.index : (s as { indexes: number[] }).indexes[branch]!);
    }
    let parent = cache.get(cacheKey);
    if (!parent) {
      parent = nodeOf(k.hd!, opts.pointAddScalar);
      for (const c of path) parent = parent.child(c);
      cache.set(cacheKey, parent);
    }
    const wild = k.steps.find((s) => s.kind === 'wildcard');
    if (wild && wild.kind === 'wildcard') {
      const c = wild.hardened ? index + HARDENED : index;
      path.push(c);
      return { pub: parent.child(c).publicKey, path };
    }
    return { pub: parent.publicKey, path };
  };
  const derive = (index: number, branch = 0): DerivedAddress => {
    const bip32 = d.keys.map((k, ki) => {
      const { pub, path } = keyAt(k, ki, index, branch);
      const fp = k.origin ? Number.parseInt(k.origin.fingerprint, 16) : (k.hd?.fingerprint ?? 0);
      return { pubkey: pub, fingerprint: fp, path: [...(k.origin?.path ?? []), ...path] };
    });
    let pubs = bip32.map((b) => b.pubkey);
    if (d.sorted) pubs = [...pubs].sort(compareBytes);
    // Script.encode writes numbers above 16 as minimal pushes, which p2ms() refuses (wsh allows 20).
    const ms = {
      type: 'wsh-multi',
      script: Script.encode([d.threshold, ...pubs, pubs.length, 'CHECKMULTISIG']),
    };
    // What p2wsh()/p2sh() return, without their re-validation of every key (a square root
    // each): derived keys are valid by construction and plain keys were checked above.
    const wsh = { type: 'wsh' as const, hash: sha256(ms.script) };
    const wScript = OutScript.encode(wsh);
    if (d.wrapper === 'wsh') {
      return {
        index,
        branch,
        address: Address(net.btc).encode(wsh),
        script: wScript,
        witnessScript: ms.script,
        redeemScript: undefined,
        bip32,
      };
    }
    const sh = { type: 'sh' as const, hash: ripemd160(sha256(wScript)) };
    return {
      index,
      branch,
      address: Address(net.btc).encode(sh),
      script: OutScript.encode(sh),
      witnessScript: ms.script,
      redeemScript: wScript,
      bip32,
    };
  };
  return {
    derive,
    pubkeys: (index, branch) => {
      const pubs = derive(index, branch).bip32.map((b) => b.pubkey);
      return d.sorted ? pubs.sort(compareBytes) : pubs;
    },
  };
}

/**
 * Decode an address for the given network; a wrong-network or malformed address is E_INPUT.
 * @example addressScript('bcrt1q…', network('regtest'))
 */
export function addressScript(address: string, net: NetworkInfo): Uint8Array {
  try {
    return OutScript.encode(Address(net.btc).decode(address));
  } catch (e) {
    throw new MamoriError('E_INPUT', `not a ${net.name} address: "${address}"`, {
      hint: 'check the address and the wallet network',
      cause: e,
    });
  }
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

export function hexToBytes(hex: string): Uint8Array {
  if (hex.length % 2 || !/^[0-9a-fA-F]*$/.test(hex)) throw new Error('bad hex');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function bytesToHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

function decodeWif(text: string): Uint8Array {
  for (const n of [NETWORKS.mainnet, NETWORKS.testnet]) {
    try {
      return WIF(n.btc).decode(text);
    } catch {
      // try the next network
    }
  }
  throw new Error('not WIF');
}

function pubFromPriv(priv: Uint8Array): Uint8Array {
  return secp256k1.getPublicKey(priv, true);
}
