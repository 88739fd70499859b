/**
 * BIP383 (multi/sortedmulti) and BIP389 (multipath) test vectors, parsed from the BIP texts,
 * where they concern what custody supports: wsh()/sh(wsh()) multisig scripts, multipath
 * expansion, and the invalid multipath key expressions.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  bytesToHex,
  makeDeriver,
  parseKey,
  parseMultisigDescriptor,
} from '../../src/custody/core/descriptor.js';
import { network } from '../../src/custody/core/network.js';
import { vector } from '../helpers/vectors.js';

const main = network('mainnet');

/** `* <tt>desc</tt>` followed by `** <tt>result</tt>` lines, from one section of a BIP. */
function bullets(text: string): { desc: string; results: string[] }[] {
  const out: { desc: string; results: string[] }[] = [];
  for (const line of text.split('\n')) {
    const top = /^\* (?:[^<]*: )?<tt>(.+)<\/tt>$/.exec(line);
    const sub = /^\*\* <tt>(.+)<\/tt>$/.exec(line);
    if (top) out.push({ desc: top[1]!, results: [] });
    else if (sub && out.length) out[out.length - 1]!.results.push(sub[1]!);
  }
  return out;
}

describe('BIP383 multisig vectors', () => {
  const text = readFileSync(vector('bitcoin/bips/bip-0383.mediawiki'), 'utf8');
  const valid = bullets(
    text.slice(text.indexOf('==Test Vectors=='), text.indexOf('Invalid descriptors')),
  );
  it('wsh and sh(wsh) multisig produce the listed scripts', () => {
    const ours = valid.filter((v) => /^(sh\()?wsh\(/.test(v.desc));
    expect(ours.length).toBeGreaterThanOrEqual(4);
    for (const v of ours) {
      const dv = makeDeriver(parseMultisigDescriptor(v.desc), main);
      v.results.forEach((script, i) => {
        expect(bytesToHex(dv.derive(i).script), `${v.desc.slice(0, 30)} #${i}`).toBe(script);
      });
    }
  });
});

describe('BIP389 multipath vectors', () => {
  const text = readFileSync(vector('bitcoin/bips/bip-0389.mediawiki'), 'utf8');
  const section = text.slice(
    text.indexOf('==Test Vectors=='),
    text.indexOf('==Backwards Compatibility=='),
  );
  const [validPart, invalidPart] = section.split('Invalid descriptors');
  it('a multi() multipath descriptor expands into its listed branches', () => {
    const multi = bullets(validPart!).filter((v) => v.desc.startsWith('multi('));
    expect(multi).toHaveLength(1);
    const { desc, results } = multi[0]!;
    const d = makeDeriver(parseMultisigDescriptor(`wsh(${desc})`), main);
    results.forEach((expanded, branch) => {
      const e = makeDeriver(parseMultisigDescriptor(`wsh(${expanded})`), main);
      for (let i = 0; i < 3; i++) expect(d.derive(i, branch).address).toBe(e.derive(i).address);
    });
  });
  it('every invalid multipath key expression is refused', () => {
    const invalid = bullets(invalidPart!);
    expect(invalid.length).toBeGreaterThanOrEqual(7);
    let checked = 0;
    for (const { desc } of invalid) {
      const m = /^(?:pkh|wpkh)\((.+)\)$/.exec(desc);
      if (m) {
        expect(() => parseKey(m[1]!), desc).toThrow();
        checked++;
      } else if (desc.startsWith('sh(multi(')) {
        // mismatched multipath lengths, moved into the wsh() shape custody supports
        const wsh = `wsh(${desc.slice(3, -1)})`;
        expect(() => parseMultisigDescriptor(wsh), desc).toThrow(/multipath/);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(7);
  });
});
