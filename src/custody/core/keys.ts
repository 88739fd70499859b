/**
 * Cosigner keys: a BIP39 mnemonic and its BIP48 (P2WSH multisig, script type 2) account key
 * with key origin `[fingerprint/48'/coin'/0'/2']xpub…`. Entropy comes in as a parameter (core is
 * pure). Not the key file: see `../keyfile.ts` for the encrypted storage of the secret.
 */
import { HDKey } from '@scure/bip32';
import { entropyToMnemonic, mnemonicToSeedSync, validateMnemonic } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { MamoriError } from '../../shared/errors.js';
import type { NetworkInfo } from './network.js';

const H = 0x80000000;

export interface CosignerPublic {
  network: string;
  /** Master key fingerprint, 8 hex chars. */
  fingerprint: string;
  /** e.g. `m/48'/1'/0'/2'`. */
  path: string;
  /** The account extended public key (xpub on mainnet, tpub on test networks). */
  xpub: string;
  /** `[fp/48'/1'/0'/2']tpub…`: what `wallet create --xpub` takes. */
  originXpub: string;
}

/** BIP48 account path for P2WSH multisig. */
export function bip48Path(net: NetworkInfo, account = 0): number[] {
  return [48 + H, net.coinType + H, account + H, 2 + H];
}

export function formatPath(path: number[]): string {
  return `m${path.map((c) => `/${c >= H ? `${c - H}'` : c}`).join('')}`;
}

export function fingerprintHex(fp: number): string {
  return fp.toString(16).padStart(8, '0');
}

/** @example mnemonicFromEntropy(randomBytes(32)) // 24 words */
export function mnemonicFromEntropy(entropy: Uint8Array): string {
  return entropyToMnemonic(entropy, wordlist);
}

export function checkMnemonic(mnemonic: string): void {
  if (!validateMnemonic(mnemonic, wordlist)) {
    throw new MamoriError('E_INPUT', 'not a valid BIP39 English mnemonic');
  }
}

/**
 * The master key of a mnemonic (caller zeroes nothing: HDKey keeps its own copy; call
 * `wipe()` on the result when done).
 */
export function masterFromMnemonic(mnemonic: string, net: NetworkInfo, passphrase = ''): HDKey {
  checkMnemonic(mnemonic);
  const seed = mnemonicToSeedSync(mnemonic, passphrase);
  try {
    return HDKey.fromMasterSeed(seed, net.bip32);
  } finally {
    seed.fill(0);
  }
}

/**
 * @example cosignerPublic(masterFromMnemonic(words, network('regtest')), network('regtest')).originXpub
 */
export function cosignerPublic(master: HDKey, net: NetworkInfo): CosignerPublic {
  const path = bip48Path(net);
  let acct = master;
  for (const c of path) acct = acct.deriveChild(c);
  const fingerprint = fingerprintHex(master.fingerprint);
  const p = formatPath(path);
  const xpub = acct.publicExtendedKey;
  acct.wipePrivateData();
  return {
    network: net.name,
    fingerprint,
    path: p,
    xpub,
    originXpub: `[${fingerprint}${p.slice(1)}]${xpub}`,
  };
}
