/**
 * Key derivation against the published vectors: BIP32 1–5 (5 = invalid keys, parsed out of the
 * BIP text), BIP39 vectors.json (English), BIP84 and BIP86 account/address vectors.
 */
import { readFileSync } from 'node:fs';
import { HDKey } from '@scure/bip32';
import { entropyToMnemonic, mnemonicToSeedSync, validateMnemonic } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { Address, OutScript, p2tr, p2wpkh } from '@scure/btc-signer';
import { describe, expect, it } from 'vitest';
import { hexToBytes } from '../../src/custody/core/descriptor.js';
import { cosignerPublic, masterFromMnemonic } from '../../src/custody/core/keys.js';
import { network } from '../../src/custody/core/network.js';
import { vector } from '../helpers/vectors.js';

interface Bip32Vector {
  n: number;
  seed: string;
  chains: { path: string; pub: string; prv: string }[];
}

function parseBip32(text: string): { valid: Bip32Vector[]; invalid: string[] } {
  const valid: Bip32Vector[] = [];
  const invalid: string[] = [];
  const sections = text.split(/===Test vector (\d)===/);
  for (let i = 1; i < sections.length; i += 2) {
    const n = Number(sections[i]);
    const body = sections[i + 1]!.split(/\n==[A-Z]/)[0]!;
    if (n === 5) {
      for (const m of body.matchAll(/^\* ([xt]p(?:ub|rv)\w+|DMwo\w+)/gm)) invalid.push(m[1]!);
      continue;
    }
    const seed = /Seed \(hex\): ([0-9a-f]+)/.exec(body)![1]!;
    const chains: Bip32Vector['chains'] = [];
    const re = /\* Chain (m[^\n]*)\n\*\* ext pub: (\w+)\n\*\* ext prv: (\w+)/g;
    for (const m of body.matchAll(re)) {
      chains.push({ path: m[1]!.replace(/<sub>H<\/sub>/g, "'").trim(), pub: m[2]!, prv: m[3]! });
    }
    valid.push({ n, seed, chains });
  }
  return { valid, invalid };
}

describe('BIP32 vectors', () => {
  const { valid, invalid } = parseBip32(
    readFileSync(vector('bitcoin/bips/bip-0032.mediawiki'), 'utf8'),
  );
  it('finds vectors 1–4 and the invalid keys of vector 5', () => {
    expect(valid.map((v) => v.n)).toEqual([1, 2, 3, 4]);
    expect(valid.reduce((s, v) => s + v.chains.length, 0)).toBeGreaterThanOrEqual(16);
    expect(invalid.length).toBeGreaterThanOrEqual(16);
  });
  for (const v of valid) {
    it(`vector ${v.n}: every chain's xpub and xprv`, () => {
      const master = HDKey.fromMasterSeed(hexToBytes(v.seed));
      for (const c of v.chains) {
        const k = c.path === 'm' ? master : master.derive(c.path);
        expect(k.publicExtendedKey, c.path).toBe(c.pub);
        expect(k.privateExtendedKey, c.path).toBe(c.prv);
        expect(HDKey.fromExtendedKey(c.pub).publicExtendedKey).toBe(c.pub);
      }
    });
  }
  it('vector 5: every invalid extended key is refused', () => {
    for (const key of invalid) expect(() => HDKey.fromExtendedKey(key), key).toThrow();
  });
});

describe('BIP39 vectors (English, passphrase TREZOR)', () => {
  const doc = JSON.parse(readFileSync(vector('bitcoin/bip39/vectors.json'), 'utf8')) as {
    english: [string, string, string, string][];
  };
  it('entropy → mnemonic → seed → xprv', () => {
    expect(doc.english.length).toBeGreaterThanOrEqual(24);
    for (const [entropy, mnemonic, seed, xprv] of doc.english) {
      expect(entropyToMnemonic(hexToBytes(entropy), wordlist)).toBe(mnemonic);
      expect(validateMnemonic(mnemonic, wordlist)).toBe(true);
      const s = mnemonicToSeedSync(mnemonic, 'TREZOR');
      expect(Buffer.from(s).toString('hex')).toBe(seed);
      expect(HDKey.fromMasterSeed(s).privateExtendedKey).toBe(xprv);
    }
  });
  it('a mnemonic with a wrong checksum word is refused', () => {
    expect(() => masterFromMnemonic(`${'abandon '.repeat(11)}abandon`, network('mainnet'))).toThrow(
      /mnemonic/,
    );
  });
});

function pre(text: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const block = [...text.matchAll(/<pre>([\s\S]*?)<\/pre>/g)]
    .map((m) => m[1]!)
    .find((b) => b.includes('mnemonic'))!;
  for (const m of block.matchAll(/^\s*(\w+)\s*=\s*(.+)$/gm)) {
    const list = out[m[1]!] ?? [];
    list.push(m[2]!.trim());
    out[m[1]!] = list;
  }
  return out;
}

describe('BIP84 / BIP86 vectors', () => {
  it('BIP84: account zpub and P2WPKH addresses', () => {
    const v = pre(readFileSync(vector('bitcoin/bips/bip-0084.mediawiki'), 'utf8'));
    const zpub = { public: 0x04b24746, private: 0x04b2430c };
    const master = HDKey.fromMasterSeed(mnemonicToSeedSync(v.mnemonic![0]!), zpub);
    expect(master.publicExtendedKey).toBe(v.rootpub![0]);
    expect(master.derive("m/84'/0'/0'").publicExtendedKey).toBe(v.xpub![0]);
    const paths = ["m/84'/0'/0'/0/0", "m/84'/0'/0'/0/1", "m/84'/0'/0'/1/0"];
    expect(v.address).toHaveLength(3);
    paths.forEach((p, i) => {
      const k = master.derive(p);
      expect(Buffer.from(k.publicKey!).toString('hex')).toBe(v.pubkey![i]);
      expect(p2wpkh(k.publicKey!).address).toBe(v.address![i]);
    });
  });
  it('BIP86: account xpub and P2TR key-path addresses', () => {
    const v = pre(readFileSync(vector('bitcoin/bips/bip-0086.mediawiki'), 'utf8'));
    const master = HDKey.fromMasterSeed(mnemonicToSeedSync(v.mnemonic![0]!));
    expect(master.publicExtendedKey).toBe(v.rootpub![0]);
    expect(master.derive("m/86'/0'/0'").publicExtendedKey).toBe(v.xpub![0]);
    const paths = ["m/86'/0'/0'/0/0", "m/86'/0'/0'/0/1", "m/86'/0'/0'/1/0"];
    expect(v.address).toHaveLength(3);
    paths.forEach((p, i) => {
      const k = master.derive(p);
      const pay = p2tr(k.publicKey!.subarray(1));
      expect(Buffer.from(k.publicKey!.subarray(1)).toString('hex')).toBe(v.internal_key![i]);
      expect(Buffer.from(pay.script).toString('hex')).toBe(v.scriptPubKey![i]);
      expect(pay.address).toBe(v.address![i]);
      expect(OutScript.encode(Address().decode(v.address![i]!))).toEqual(pay.script);
    });
  });
  it('BIP48 account key: origin path and network prefix', () => {
    const words = `${'abandon '.repeat(11)}about`;
    for (const [name, prefix, coin] of [
      ['mainnet', 'xpub', 0],
      ['regtest', 'tpub', 1],
    ] as const) {
      const net = network(name);
      const master = masterFromMnemonic(words, net);
      const pub = cosignerPublic(master, net);
      expect(pub.path).toBe(`m/48'/${coin}'/0'/2'`);
      expect(pub.xpub.startsWith(prefix)).toBe(true);
      expect(pub.fingerprint).toBe('73c5da0a');
      expect(pub.originXpub).toBe(`[73c5da0a/48'/${coin}'/0'/2']${pub.xpub}`);
      // the same key derived directly by path
      expect(master.derive(`m/48'/${coin}'/0'/2'`).publicExtendedKey).toBe(pub.xpub);
    }
  });
});
