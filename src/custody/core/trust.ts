/**
 * Custody trust, the signatures: identities (a BIP340 Schnorr key over secp256k1, or a WebAuthn
 * ES256 passkey), signed statements, the genesis document (who is admin, approver, operator;
 * admin quorum) and the chain of admin-signed policy versions. Pure: keys, times and documents
 * come in as parameters. Not the withdrawal check: see `cosign.ts`; not the key files: see
 * `../identity.ts`.
 */
import { p256 } from '@noble/curves/nist.js';
import { schnorr } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { base64urlnopad, bech32m } from '@scure/base';
import { MamoriError } from '../../shared/errors.js';
import { canonicalJson } from './audit.js';
import { bytesToHex, hexToBytes } from './descriptor.js';
import { type Policy, parsePolicy } from './policy.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** How far a signing time may run ahead of the verifier's clock. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/**
 * Why a trust check refused: stable strings, in `details.reason` of the MamoriError, so that
 * scripts and tests branch on them.
 */
export type RefusalReason =
  | 'evidence-malformed'
  | 'genesis-mismatch'
  | 'genesis-under-signed'
  | 'unknown-identity'
  | 'bad-signature'
  | 'clock-skew'
  | 'signing-time-regressed'
  | 'policy-under-signed'
  | 'policy-chain-broken'
  | 'policy-wallet-mismatch'
  | 'not-an-operator'
  | 'not-an-approver'
  | 'approval-quorum-not-met'
  | 'approval-expired'
  | 'outputs-not-approved'
  | 'policy-refused'
  | 'time-locked'
  | 'sweep-not-own-wallet'
  | 'sweep-limit'
  | 'inputs-not-wallet'
  | 'change-not-wallet'
  | 'frozen';

/** A refusal of a trust check (exit 4), or malformed evidence (exit 2). */
export function refuse(reason: RefusalReason, message: string): MamoriError {
  return new MamoriError(reason === 'evidence-malformed' ? 'E_INPUT' : 'E_POLICY', message, {
    details: { reason },
  });
}

// ---------------------------------------------------------------- identities

export type IdentityKind = 'schnorr' | 'webauthn';

/** An identity as the genesis lists it: public part only. */
export interface IdentityDoc {
  id: string;
  name: string;
  kind: IdentityKind;
  /** schnorr: 32-byte x-only key; webauthn: 65-byte uncompressed (or 33 compressed) P-256 key. Hex. */
  publicKey: string;
  /** webauthn only: the relying party id the passkey is registered to (e.g. `custody.example`). */
  rpId?: string;
}

/**
 * The printable id of a public key: `mid1…` (bech32m of the x-only key) for Schnorr keys,
 * `mpk1…` (bech32m of sha256 of the key) for passkeys.
 * @example identityId('schnorr', xOnly) // 'mid1…'
 */
export function identityId(kind: IdentityKind, publicKey: Uint8Array): string {
  if (kind === 'schnorr') {
    if (publicKey.length !== 32) throw new MamoriError('E_INPUT', 'a Schnorr key has 32 bytes');
    return bech32m.encode('mid', bech32m.toWords(publicKey));
  }
  return bech32m.encode('mpk', bech32m.toWords(sha256(publicKey)));
}

/** Check an identity document: its id matches its key. */
export function checkIdentityDoc(d: IdentityDoc): IdentityDoc {
  if (!d || typeof d.id !== 'string' || typeof d.publicKey !== 'string') {
    throw refuse('evidence-malformed', 'an identity needs id and publicKey');
  }
  if (d.kind !== 'schnorr' && d.kind !== 'webauthn') {
    throw refuse('evidence-malformed', `identity ${d.id}: unknown kind "${d.kind}"`);
  }
  let pub: Uint8Array;
  try {
    pub = hexToBytes(d.publicKey);
    if (d.kind === 'webauthn') p256.Point.fromBytes(pub);
  } catch {
    throw refuse('evidence-malformed', `identity ${d.id}: public key is not valid`);
  }
  if (d.kind === 'webauthn' && !d.rpId) {
    throw refuse('evidence-malformed', `passkey identity ${d.id} needs its rpId`);
  }
  if (identityId(d.kind, pub) !== d.id) {
    throw refuse('evidence-malformed', `identity ${d.id} does not match its public key`);
  }
  return d;
}

// ---------------------------------------------------------------- signatures

export interface WebAuthnAssertion {
  /** base64url (no padding), as the browser returns them. */
  authenticatorData: string;
  clientDataJSON: string;
  /** DER ECDSA signature. */
  signature: string;
}

/** One signature by one identity at one time over (domain, body). */
export interface Signature {
  by: string;
  at: string;
  /** schnorr: 64-byte BIP340 signature, hex. */
  sig?: string;
  webauthn?: WebAuthnAssertion;
}

/**
 * The canonical statement an identity signs: the domain (what kind of act), the signing time
 * and the body, as canonical JSON (keys sorted). Its sha256 is what a Schnorr key signs and,
 * base64url-encoded, a passkey's WebAuthn challenge.
 * @example statementDigest('mamori/withdraw.approve', at, statement)
 */
export function canonicalStatement(domain: string, at: string, body: unknown): string {
  if (body instanceof CanonicalBody && typeof at === 'string' && typeof domain === 'string') {
    // The same text canonicalJson({ domain, at, body }) writes: keys in order at, body, domain.
    return `{"at":${JSON.stringify(at)},"body":${body.json},"domain":${JSON.stringify(domain)}}`;
  }
  return canonicalJson({ domain, at, body });
}

/**
 * A body written as canonical JSON once, for a statement that several signatures cover (a
 * batch withdrawal of 100 outputs is signed by its requester and each approver, and checked per
 * output): `statementDigest(domain, at, canonicalBody(b))` equals `statementDigest(domain, at, b)`.
 */
export class CanonicalBody {
  constructor(readonly json: string) {}
}

/** @example const b = canonicalBody(statement); countSignatures(sigs, ids, map, domain, b, now, what) */
export function canonicalBody(body: unknown): CanonicalBody {
  return new CanonicalBody(canonicalJson(body));
}

export function statementDigest(domain: string, at: string, body: unknown): Uint8Array {
  return sha256(enc.encode(canonicalStatement(domain, at, body)));
}

/** The WebAuthn challenge for a statement: base64url(sha256(canonical statement)). */
export function webauthnChallenge(domain: string, at: string, body: unknown): string {
  return base64urlnopad.encode(statementDigest(domain, at, body));
}

/**
 * Sign with a Schnorr identity key. `auxRand` is BIP340's auxiliary randomness (the shell
 * passes fresh random bytes; core takes no randomness from globals).
 */
export function signStatement(
  secretKey: Uint8Array,
  domain: string,
  at: string,
  body: unknown,
  auxRand: Uint8Array,
): Signature {
  const pub = schnorr.getPublicKey(secretKey);
  const sig = schnorr.sign(statementDigest(domain, at, body), secretKey, auxRand);
  return { by: identityId('schnorr', pub), at, sig: bytesToHex(sig) };
}

function b64u(s: string): Uint8Array {
  return base64urlnopad.decode(s.replace(/=+$/, ''));
}

/**
 * Verify a WebAuthn ES256 assertion over a digest: clientDataJSON is `webauthn.get` with the
 * challenge base64url(digest), authenticatorData starts with sha256(rpId) and has the user
 * presence flag, and the P-256 signature covers authenticatorData ‖ sha256(clientDataJSON).
 * @example verifyWebAuthn(assertion, digest, publicKey, 'custody.example')
 */
export function verifyWebAuthn(
  a: WebAuthnAssertion,
  digest: Uint8Array,
  publicKey: Uint8Array,
  rpId: string,
): boolean {
  try {
    const clientDataJSON = b64u(a.clientDataJSON);
    const clientData = JSON.parse(dec.decode(clientDataJSON)) as {
      type?: string;
      challenge?: string;
    };
    if (clientData.type !== 'webauthn.get') return false;
    if (clientData.challenge?.replace(/=+$/, '') !== base64urlnopad.encode(digest)) return false;
    const authData = b64u(a.authenticatorData);
    if (authData.length < 37) return false;
    if (bytesToHex(authData.subarray(0, 32)) !== bytesToHex(sha256(enc.encode(rpId)))) {
      return false;
    }
    if ((authData[32]! & 0x01) === 0) return false; // user presence
    const signed = new Uint8Array(authData.length + 32);
    signed.set(authData);
    signed.set(sha256(clientDataJSON), authData.length);
    return p256.verify(b64u(a.signature), signed, publicKey, {
      prehash: true,
      format: 'der',
      lowS: false,
    });
  } catch {
    return false;
  }
}

/**
 * A BIP340 verifier: (64-byte signature, 32-byte message, 32-byte x-only key) → valid. The
 * checks take one as a parameter so that a shell can inject a faster one (libsecp256k1 in
 * WebAssembly, see `../verifier.ts`); it must answer exactly as BIP340 does, and false (not a
 * throw) for a key that is not on the curve.
 */
export type SchnorrVerify = (sig: Uint8Array, msg: Uint8Array, publicKey: Uint8Array) => boolean;

/** The default verifier: @noble/curves' BIP340. */
export const nobleSchnorrVerify: SchnorrVerify = (sig, msg, pub) => {
  try {
    return schnorr.verify(sig, msg, pub);
  } catch {
    return false;
  }
};

/**
 * A verifier that verifies each distinct (key, message, signature) once: one cosigner check
 * (or one long-lived cosigner) asks about the same signature more than once when evidence
 * repeats a document. Only `true` and `false` answers are kept; the inner verifier decides.
 * @example const v = memoSchnorrVerify(nobleSchnorrVerify)
 */
export function memoSchnorrVerify(inner: SchnorrVerify, max = 100_000): SchnorrVerify {
  const seen = new Map<string, boolean>();
  return (sig, msg, pub) => {
    const k = `${bytesToHex(pub)}${bytesToHex(msg)}${bytesToHex(sig)}`;
    const hit = seen.get(k);
    if (hit !== undefined) return hit;
    const ok = inner(sig, msg, pub);
    if (seen.size >= max) seen.clear();
    seen.set(k, ok);
    return ok;
  };
}

/** Verify one signature by a known identity (BIP340 by `verify`, default @noble/curves). */
export function verifySignature(
  s: Signature,
  identity: IdentityDoc,
  domain: string,
  body: unknown,
  verify: SchnorrVerify = nobleSchnorrVerify,
): boolean {
  if (s.by !== identity.id || typeof s.at !== 'string') return false;
  const digest = statementDigest(domain, s.at, body);
  try {
    if (identity.kind === 'schnorr') {
      if (typeof s.sig !== 'string') return false;
      const sig = hexToBytes(s.sig);
      return sig.length === 64 && verify(sig, digest, hexToBytes(identity.publicKey));
    }
    return (
      s.webauthn !== undefined &&
      verifyWebAuthn(s.webauthn, digest, hexToBytes(identity.publicKey), identity.rpId ?? '')
    );
  } catch {
    return false;
  }
}

/** A Schnorr id's own key, so that an identity that signed can be checked without a genesis. */
export function schnorrIdentityOf(id: string): IdentityDoc | undefined {
  try {
    const d = bech32m.decode(id as `${string}1${string}`);
    if (d.prefix !== 'mid') return undefined;
    const pub = bech32m.fromWords(d.words);
    return { id, name: id, kind: 'schnorr', publicKey: bytesToHex(pub) };
  } catch {
    return undefined;
  }
}

function checkTime(at: string, nowMs: number, what: string): number {
  const t = Date.parse(at);
  if (!/^\d{4}-\d\d-\d\dT/.test(at) || Number.isNaN(t)) {
    throw refuse('evidence-malformed', `${what}: signing time "${at}" is not ISO-8601`);
  }
  if (t > nowMs + MAX_CLOCK_SKEW_MS) {
    throw refuse(
      'clock-skew',
      `${what}: signed at ${at}, in the future of this clock (${new Date(nowMs).toISOString()})`,
    );
  }
  return t;
}

/**
 * Count valid signatures of distinct members of `allowed` over (domain, body). Returns the
 * signers and the time the k-th of them signed (when the quorum was reached).
 */
export function countSignatures(
  sigs: Signature[],
  allowed: string[],
  identities: Map<string, IdentityDoc>,
  domain: string,
  body: unknown,
  nowMs: number,
  what: string,
  verify: SchnorrVerify = nobleSchnorrVerify,
): { signers: string[]; times: number[] } {
  const signers: string[] = [];
  const times: number[] = [];
  for (const s of Array.isArray(sigs) ? sigs : []) {
    if (!s || typeof s.by !== 'string')
      throw refuse('evidence-malformed', `${what}: bad signature`);
    if (!allowed.includes(s.by) || signers.includes(s.by)) continue;
    const idn = identities.get(s.by);
    if (!idn) continue;
    const t = checkTime(s.at, nowMs, what);
    if (!verifySignature(s, idn, domain, body, verify)) {
      throw refuse('bad-signature', `${what}: the signature of ${idn.name} does not verify`);
    }
    signers.push(s.by);
    times.push(t);
  }
  return { signers, times: times.sort((a, b) => a - b) };
}

// ---------------------------------------------------------------- genesis

export const GENESIS_FORMAT = 'mamori-custody-genesis/1';
export const GENESIS_DOMAIN = 'mamori/trust.genesis';

export interface GenesisBody {
  format: typeof GENESIS_FORMAT;
  identities: IdentityDoc[];
  admins: string[];
  adminThreshold: number;
  approvers: string[];
  /** Approver signatures needed to lift a freeze. */
  approverThreshold: number;
  operators: string[];
  createdAt: string;
}

export interface Genesis extends GenesisBody {
  signatures: Signature[];
}

export function genesisBody(g: Genesis): GenesisBody {
  const { signatures: _s, ...body } = g;
  return body;
}

/** The hash a cosigner pins: sha256 of the canonical body, hex. */
export function genesisHash(g: GenesisBody | Genesis): string {
  const body = 'signatures' in g ? genesisBody(g) : g;
  return bytesToHex(sha256(enc.encode(canonicalJson(body))));
}

/**
 * A new, unsigned genesis document.
 * @example makeGenesis({ identities, admins, adminThreshold: 2, approvers, operators, createdAt })
 */
export function makeGenesis(
  b: Omit<GenesisBody, 'format' | 'approverThreshold'> & {
    approverThreshold?: number;
  },
): Genesis {
  const g: Genesis = {
    format: GENESIS_FORMAT,
    identities: b.identities,
    admins: b.admins,
    adminThreshold: b.adminThreshold,
    approvers: b.approvers,
    approverThreshold: b.approverThreshold ?? Math.min(b.adminThreshold, b.approvers.length),
    operators: b.operators,
    createdAt: b.createdAt,
    signatures: [],
  };
  checkGenesisShape(g);
  return g;
}

function checkGenesisShape(g: Genesis): void {
  if (!g || g.format !== GENESIS_FORMAT || !Array.isArray(g.identities)) {
    throw refuse('evidence-malformed', `not a ${GENESIS_FORMAT} document`);
  }
  const ids = new Map(g.identities.map((d) => [checkIdentityDoc(d).id, d]));
  for (const [role, list] of [
    ['admins', g.admins],
    ['approvers', g.approvers],
    ['operators', g.operators],
  ] as const) {
    if (!Array.isArray(list)) throw refuse('evidence-malformed', `genesis: ${role} missing`);
    for (const id of list) {
      if (!ids.has(id)) throw refuse('unknown-identity', `genesis: ${role} lists unknown ${id}`);
    }
  }
  if (!(g.adminThreshold >= 1) || g.adminThreshold > g.admins.length) {
    throw refuse('evidence-malformed', 'genesis: admin threshold must be 1 ≤ k ≤ admins');
  }
  if (
    g.approvers.length &&
    (!(g.approverThreshold >= 1) || g.approverThreshold > g.approvers.length)
  ) {
    throw refuse('evidence-malformed', 'genesis: approver threshold must be 1 ≤ k ≤ approvers');
  }
  if (g.admins.some((a) => ids.get(a)!.kind !== 'schnorr')) {
    throw refuse('evidence-malformed', 'genesis: admins sign with identity keys, not passkeys');
  }
}

export interface TrustRoot {
  genesis: Genesis;
  hash: string;
  identities: Map<string, IdentityDoc>;
  /** When the admin quorum had signed the genesis (epoch ms). */
  signedAt: number;
}

/**
 * Check a genesis: well formed, and signed by at least k of its admins. `pinnedHash`, when
 * given, must match.
 * @example const root = checkGenesis(JSON.parse(text), Date.now())
 */
export function checkGenesis(
  doc: unknown,
  nowMs: number,
  pinnedHash?: string,
  verify: SchnorrVerify = nobleSchnorrVerify,
): TrustRoot {
  const g = doc as Genesis;
  checkGenesisShape(g);
  const hash = genesisHash(g);
  if (pinnedHash && pinnedHash !== hash) {
    throw refuse('genesis-mismatch', `genesis ${hash} is not the pinned ${pinnedHash}`);
  }
  const identities = new Map(g.identities.map((d) => [d.id, d]));
  const c = countSignatures(
    g.signatures,
    g.admins,
    identities,
    GENESIS_DOMAIN,
    genesisBody(g),
    nowMs,
    'genesis',
    verify,
  );
  if (c.signers.length < g.adminThreshold) {
    throw refuse(
      'genesis-under-signed',
      `genesis is signed by ${c.signers.length} of the ${g.adminThreshold} admins it needs`,
    );
  }
  return { genesis: g, hash, identities, signedAt: c.times[g.adminThreshold - 1]! };
}

/** Role lookup: who is this id in the genesis. */
export function rolesOf(root: TrustRoot, id: string): string[] {
  const g = root.genesis;
  return [
    ...(g.admins.includes(id) ? ['admin'] : []),
    ...(g.approvers.includes(id) ? ['approver'] : []),
    ...(g.operators.includes(id) ? ['operator'] : []),
  ];
}

// ---------------------------------------------------------------- policy chain

export const POLICY_FORMAT = 'mamori-custody-policy/1';
export const POLICY_DOMAIN = 'mamori/policy.version';

export interface WalletRef {
  name: string;
  tier: string;
  network: string;
  descriptor: string;
}

export interface PolicyVersionBody {
  format: typeof POLICY_FORMAT;
  genesis: string;
  wallet: WalletRef;
  version: number;
  /** Hash of the previous version, or the genesis hash for version 1. */
  prev: string;
  policy: Policy;
  /** Our own wallets that sweeps and refills from this wallet may pay. */
  ownWallets: WalletRef[];
  /** Limits of sweeps/refills to own wallets, apart from the customers' velocity. */
  sweepLimits: { perTxSats?: number; velocity24hSats?: number };
  proposedAt: string;
}

export interface PolicyVersion extends PolicyVersionBody {
  signatures: Signature[];
}

export function policyBody(p: PolicyVersion): PolicyVersionBody {
  const { signatures: _s, ...body } = p;
  return body;
}

export function policyHash(p: PolicyVersionBody | PolicyVersion): string {
  const body = 'signatures' in p ? policyBody(p) : p;
  return bytesToHex(sha256(enc.encode(canonicalJson(body))));
}

export interface VerifiedPolicy {
  wallet: WalletRef;
  version: number;
  hash: string;
  /** The head policy, whitelist `addedAt` replaced by when the admin quorum signed it. */
  policy: Policy;
  ownWallets: WalletRef[];
  sweepLimits: PolicyVersionBody['sweepLimits'];
  /** When the head's admin quorum was reached (epoch ms). */
  signedAt: number;
}

/**
 * Verify a wallet's policy chain from the genesis: version 1 follows the genesis, each next
 * version names the hash of the one before, each is signed by k admins, quorum times never go
 * back and never run ahead of the clock. A whitelist entry counts as added when the quorum of
 * the first version holding it signed, whatever `addedAt` the document claims.
 * @example verifyPolicyChain(root, chain, Date.now()).policy
 */
export function verifyPolicyChain(
  root: TrustRoot,
  chain: PolicyVersion[],
  nowMs: number,
  verify: SchnorrVerify = nobleSchnorrVerify,
): VerifiedPolicy {
  if (!Array.isArray(chain) || chain.length === 0) {
    throw refuse('policy-under-signed', 'no signed policy: every withdrawal is refused');
  }
  const g = root.genesis;
  let prevHash = root.hash;
  let prevTime = root.signedAt;
  const firstSeen = new Map<string, number>();
  let head: VerifiedPolicy | undefined;
  for (const [i, v] of chain.entries()) {
    if (!v || v.format !== POLICY_FORMAT || !v.wallet || !v.policy) {
      throw refuse(
        'evidence-malformed',
        `policy version ${i + 1} is not a ${POLICY_FORMAT} document`,
      );
    }
    if (v.genesis !== root.hash) {
      throw refuse('genesis-mismatch', `policy version ${v.version} belongs to another genesis`);
    }
    if (v.version !== i + 1 || v.prev !== prevHash) {
      throw refuse(
        'policy-chain-broken',
        `policy version ${v.version} does not follow version ${i}`,
      );
    }
    if (i > 0 && canonicalJson(v.wallet) !== canonicalJson(chain[0]!.wallet)) {
      throw refuse('policy-wallet-mismatch', `policy version ${v.version} is for another wallet`);
    }
    const body = policyBody(v);
    const c = countSignatures(
      v.signatures,
      g.admins,
      root.identities,
      POLICY_DOMAIN,
      body,
      nowMs,
      `policy version ${v.version}`,
      verify,
    );
    if (c.signers.length < g.adminThreshold) {
      throw refuse(
        'policy-under-signed',
        `policy version ${v.version} of ${v.wallet.name} is signed by ${c.signers.length} of the ${g.adminThreshold} admins it needs`,
      );
    }
    const signedAt = c.times[g.adminThreshold - 1]!;
    if (signedAt < prevTime) {
      throw refuse(
        'signing-time-regressed',
        `policy version ${v.version} was signed at ${new Date(signedAt).toISOString()}, before the version it replaces`,
      );
    }
    const policy = parsePolicy(structuredClone(v.policy));
    const present = new Set(policy.whitelist.map((w) => w.address));
    for (const a of [...firstSeen.keys()]) if (!present.has(a)) firstSeen.delete(a);
    for (const a of present) if (!firstSeen.has(a)) firstSeen.set(a, signedAt);
    policy.whitelist = policy.whitelist.map((w) => ({
      ...w,
      addedAt: new Date(firstSeen.get(w.address)!).toISOString(),
    }));
    const hash = policyHash(body);
    head = {
      wallet: v.wallet,
      version: v.version,
      hash,
      policy,
      ownWallets: Array.isArray(v.ownWallets) ? v.ownWallets : [],
      sweepLimits: v.sweepLimits ?? {},
      signedAt,
    };
    prevHash = hash;
    prevTime = signedAt;
  }
  return head!;
}

/** Parse JSON text as a document, malformed → E_INPUT `evidence-malformed`. */
export function parseDocument<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw refuse('evidence-malformed', `${what} is not JSON (truncated or altered?)`);
  }
}
