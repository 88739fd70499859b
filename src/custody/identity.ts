/**
 * Identity files: a person's BIP340 signing key (secp256k1) sealed like a cosigner key file
 * (scrypt + XChaCha20-Poly1305, public part in clear and bound as associated data), and the
 * `Signer` made from it once unlocked. Not the trust rules: see `core/trust.ts`.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { schnorr } from '@noble/curves/secp256k1.js';
import { MamoriError } from '../shared/errors.js';
import { bytesToHex } from './core/descriptor.js';
import {
  canonicalStatement,
  type IdentityDoc,
  identityId,
  type Signature,
  signStatement,
} from './core/trust.js';
import { DEFAULT_SCRYPT, openSecret, type SealedSecret, sealSecret } from './keyfile.js';

export const IDENTITY_FILE_FORMAT = 'mamori-custody-identity/1';

export interface IdentityFile extends SealedSecret {
  format: typeof IDENTITY_FILE_FORMAT;
  public: IdentityDoc;
}

/** An unlocked identity: signs statements; `wipe()` zeroes its key. */
export interface Signer {
  id: string;
  name: string;
  sign(domain: string, at: string, body: unknown): Signature;
  wipe(): void;
}

/**
 * A new identity and its encrypted file.
 * @example const file = await newIdentity('alice', passphrase)
 */
export async function newIdentity(
  name: string,
  passphrase: string,
  opts: { scrypt?: typeof DEFAULT_SCRYPT } = {},
): Promise<IdentityFile> {
  if (!/^[A-Za-z0-9_.@-]{1,64}$/.test(name)) {
    throw new MamoriError('E_INPUT', `identity name "${name}" must be 1–64 of A-Z a-z 0-9 _ . @ -`);
  }
  const secret = new Uint8Array(randomBytes(32));
  try {
    const pub = schnorr.getPublicKey(secret);
    const doc: IdentityDoc = {
      id: identityId('schnorr', pub),
      name,
      kind: 'schnorr',
      publicKey: bytesToHex(pub),
    };
    const sealed = await sealSecret(secret, doc, passphrase, opts.scrypt ?? DEFAULT_SCRYPT);
    return { format: IDENTITY_FILE_FORMAT, public: doc, ...sealed };
  } finally {
    secret.fill(0);
  }
}

export function parseIdentityFile(text: string, where = 'identity file'): IdentityFile {
  let doc: IdentityFile;
  try {
    doc = JSON.parse(text) as IdentityFile;
  } catch {
    throw new MamoriError('E_INPUT', `${where} is not a mamori identity file (not JSON)`);
  }
  if (
    doc?.format !== IDENTITY_FILE_FORMAT ||
    doc.public?.kind !== 'schnorr' ||
    typeof doc.public.id !== 'string' ||
    doc.kdf?.name !== 'scrypt'
  ) {
    throw new MamoriError('E_INPUT', `${where} is not a ${IDENTITY_FILE_FORMAT} file`);
  }
  return doc;
}

export function readIdentityFile(path: string): IdentityFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new MamoriError('E_INPUT', `cannot read identity file ${path}`, { cause: e });
  }
  return parseIdentityFile(text, path);
}

/**
 * Unlock an identity file into a signer; its public part is checked against the secret.
 * @example const me = await unlockIdentity(file, pass); try { me.sign(d, at, body) } finally { me.wipe() }
 */
export async function unlockIdentity(file: IdentityFile, passphrase: string): Promise<Signer> {
  const secret = await openSecret(file, file.public, passphrase);
  const pub = schnorr.getPublicKey(secret);
  if (identityId('schnorr', pub) !== file.public.id) {
    secret.fill(0);
    throw new MamoriError('E_AUTH', 'identity file public part does not match its secret');
  }
  return {
    id: file.public.id,
    name: file.public.name,
    sign(domain, at, body) {
      return signStatement(secret, domain, at, body, new Uint8Array(randomBytes(32)));
    },
    wipe() {
      secret.fill(0);
    },
  };
}

/** For showing what is being signed (never secret). */
export const describeStatement = canonicalStatement;
