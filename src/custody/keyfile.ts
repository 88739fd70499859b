/**
 * The encrypted key file: a cosigner's BIP39 entropy sealed with scrypt + XChaCha20-Poly1305
 * (@noble), the public part in clear beside it and bound to the ciphertext as associated data.
 * A wrong passphrase or an edited file is E_AUTH. Not a hardware wallet and not a key store:
 * one file, one cosigner.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { scryptAsync } from '@noble/hashes/scrypt.js';
import type { HDKey } from '@scure/bip32';
import { mnemonicToEntropy } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { MamoriError } from '../shared/errors.js';
import { bytesToHex, hexToBytes } from './core/descriptor.js';
import {
  type CosignerPublic,
  cosignerPublic,
  masterFromMnemonic,
  mnemonicFromEntropy,
} from './core/keys.js';
import { network } from './core/network.js';

export const KEY_FILE_FORMAT = 'mamori-custody-key/1';

export interface KeyFile {
  format: typeof KEY_FILE_FORMAT;
  public: CosignerPublic;
  kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: string };
  cipher: 'xchacha20poly1305';
  nonce: string;
  ciphertext: string;
}

/** scrypt cost: 2^16 × 8 = 64 MiB, about a second in JavaScript; the file records it. */
export const DEFAULT_SCRYPT = { N: 2 ** 16, r: 8, p: 1 };

const enc = new TextEncoder();

async function kek(passphrase: string, kdf: KeyFile['kdf']): Promise<Uint8Array> {
  const pw = enc.encode(passphrase.normalize('NFKD'));
  try {
    return await scryptAsync(pw, hexToBytes(kdf.salt), { N: kdf.N, r: kdf.r, p: kdf.p, dkLen: 32 });
  } finally {
    pw.fill(0);
  }
}

/** The encrypted part of a key file: the secret sealed, the public part as associated data. */
export interface SealedSecret {
  kdf: KeyFile['kdf'];
  cipher: 'xchacha20poly1305';
  nonce: string;
  ciphertext: string;
}

/** Seal a secret under a passphrase, bound to its public part (same format as cosigner keys). */
export async function sealSecret(
  secret: Uint8Array,
  publicPart: unknown,
  passphrase: string,
  params: typeof DEFAULT_SCRYPT = DEFAULT_SCRYPT,
): Promise<SealedSecret> {
  if (passphrase.length < 8) {
    throw new MamoriError('E_INPUT', 'the key passphrase must be at least 8 characters');
  }
  const kdf = { name: 'scrypt' as const, ...params, salt: bytesToHex(randomBytes(16)) };
  const key = await kek(passphrase, kdf);
  const nonce = new Uint8Array(randomBytes(24));
  const ciphertext = xchacha20poly1305(key, nonce, enc.encode(JSON.stringify(publicPart))).encrypt(
    secret,
  );
  key.fill(0);
  return {
    kdf,
    cipher: 'xchacha20poly1305',
    nonce: bytesToHex(nonce),
    ciphertext: bytesToHex(ciphertext),
  };
}

/** Open a sealed secret (E_AUTH on a wrong passphrase or an edited file). Zero it after use. */
export async function openSecret(
  sealed: SealedSecret,
  publicPart: unknown,
  passphrase: string,
): Promise<Uint8Array> {
  const key = await kek(passphrase, sealed.kdf);
  try {
    return xchacha20poly1305(
      key,
      hexToBytes(sealed.nonce),
      enc.encode(JSON.stringify(publicPart)),
    ).decrypt(hexToBytes(sealed.ciphertext));
  } catch {
    throw new MamoriError('E_AUTH', 'wrong passphrase for the key file (or the file was altered)', {
      hint: 'check MAMORI_KEY_PASSPHRASE or the passphrase you typed',
    });
  } finally {
    key.fill(0);
  }
}

export interface NewKey {
  /** Shown once to the user to write down; never stored in clear. */
  mnemonic: string;
  file: KeyFile;
}

/**
 * A new 24-word cosigner key and its encrypted file.
 * @example const { mnemonic, file } = await newKey('regtest', passphrase)
 */
export async function newKey(
  networkName: string,
  passphrase: string,
  opts: { entropy?: Uint8Array; scrypt?: typeof DEFAULT_SCRYPT } = {},
): Promise<NewKey> {
  if (passphrase.length < 8) {
    throw new MamoriError('E_INPUT', 'the key passphrase must be at least 8 characters');
  }
  const net = network(networkName);
  const entropy = opts.entropy ?? new Uint8Array(randomBytes(32));
  const mnemonic = mnemonicFromEntropy(entropy);
  const master = masterFromMnemonic(mnemonic, net);
  const pub = cosignerPublic(master, net);
  master.wipePrivateData();
  const params = opts.scrypt ?? DEFAULT_SCRYPT;
  const kdf = { name: 'scrypt' as const, ...params, salt: bytesToHex(randomBytes(16)) };
  const key = await kek(passphrase, kdf);
  const nonce = new Uint8Array(randomBytes(24));
  const aad = enc.encode(JSON.stringify(pub));
  const ciphertext = xchacha20poly1305(key, nonce, aad).encrypt(entropy);
  key.fill(0);
  if (!opts.entropy) entropy.fill(0);
  return {
    mnemonic,
    file: {
      format: KEY_FILE_FORMAT,
      public: pub,
      kdf,
      cipher: 'xchacha20poly1305',
      nonce: bytesToHex(nonce),
      ciphertext: bytesToHex(ciphertext),
    },
  };
}

/** Parse a key file's JSON (public part checked, nothing decrypted). */
export function parseKeyFile(text: string, where = 'key file'): KeyFile {
  let doc: KeyFile;
  try {
    doc = JSON.parse(text) as KeyFile;
  } catch {
    throw new MamoriError('E_INPUT', `${where} is not a mamori key file (not JSON)`);
  }
  if (
    doc?.format !== KEY_FILE_FORMAT ||
    typeof doc.public?.xpub !== 'string' ||
    doc.kdf?.name !== 'scrypt' ||
    doc.cipher !== 'xchacha20poly1305'
  ) {
    throw new MamoriError('E_INPUT', `${where} is not a ${KEY_FILE_FORMAT} key file`);
  }
  return doc;
}

export function readKeyFile(path: string): KeyFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new MamoriError('E_INPUT', `cannot read key file ${path}`, { cause: e });
  }
  return parseKeyFile(text, path);
}

/**
 * Decrypt a key file to its master HDKey. Call `wipePrivateData()` on it when done.
 * @example const master = await unlockKeyFile(file, pass); try { … } finally { master.wipePrivateData() }
 */
export async function unlockKeyFile(file: KeyFile, passphrase: string): Promise<HDKey> {
  const key = await kek(passphrase, file.kdf);
  let entropy: Uint8Array;
  try {
    entropy = xchacha20poly1305(
      key,
      hexToBytes(file.nonce),
      enc.encode(JSON.stringify(file.public)),
    ).decrypt(hexToBytes(file.ciphertext));
  } catch {
    throw new MamoriError('E_AUTH', 'wrong passphrase for the key file (or the file was altered)', {
      hint: 'check MAMORI_KEY_PASSPHRASE or the passphrase you typed',
    });
  } finally {
    key.fill(0);
  }
  const net = network(file.public.network);
  const mnemonic = mnemonicFromEntropy(entropy);
  entropy.fill(0);
  const master = masterFromMnemonic(mnemonic, net);
  const check = cosignerPublic(master, net);
  if (
    check.xpub !== file.public.xpub ||
    check.originXpub !== file.public.originXpub ||
    check.fingerprint !== file.public.fingerprint
  ) {
    master.wipePrivateData();
    throw new MamoriError('E_AUTH', 'key file public part does not match its secret');
  }
  return master;
}

/** Round-trip helper for tests: the entropy of a mnemonic. */
export function entropyOf(mnemonic: string): Uint8Array {
  return mnemonicToEntropy(mnemonic, wordlist);
}
