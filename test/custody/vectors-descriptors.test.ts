/**
 * Descriptors against Bitcoin Core's vectors (via bcoin's copies): BIP380 checksums for every
 * valid descriptor, addresses of the wsh/sh-wsh multisig descriptors, and the invalid ones
 * (bad checksums, thresholds, hardened steps without private keys) refused.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { descriptorChecksum } from '../../src/custody/core/checksum.js';
import {
  formatDescriptor,
  makeDeriver,
  parseMultisigDescriptor,
} from '../../src/custody/core/descriptor.js';
import { network } from '../../src/custody/core/network.js';
import { vector } from '../helpers/vectors.js';

const load = (f: string) => JSON.parse(readFileSync(vector(`bitcoin/descriptors/${f}`), 'utf8'));
const isMultisigShape = (s: string) => /^(sh\()?wsh\((sorted)?multi\(/.test(s);

describe('descriptor vectors', () => {
  const valid = load('desc-valid.json') as Record<
    string,
    { input: string; descriptor: string; checksum: string; network?: string }[]
  >;
  const all = Object.values(valid).flat();

  it('BIP380 checksum of every valid descriptor (input and normalized form)', () => {
    expect(all.length).toBeGreaterThan(50);
    for (const v of all) {
      const [body, sum] = v.descriptor.split('#');
      expect(descriptorChecksum(body!), v.descriptor).toBe(sum);
      expect(descriptorChecksum(v.input.split('#')[0]!), v.input).toBe(v.checksum);
    }
  });

  it('parses every valid wsh/sh-wsh multisig descriptor and re-checks its checksum', () => {
    const ms = all.filter((v) => isMultisigShape(v.input));
    expect(ms.length).toBeGreaterThanOrEqual(5);
    for (const v of ms) {
      const d = parseMultisigDescriptor(v.descriptor);
      expect(d.threshold).toBeGreaterThan(0);
      if (d.keys.some((k) => k.hasPrivate)) continue; // formatted back as public keys
      // formatting back gives a descriptor whose checksum verifies, with the same keys
      const again = parseMultisigDescriptor(formatDescriptor(d));
      expect(again.keys.length).toBe(d.keys.length);
    }
  });

  it('derives the addresses Core derives for wsh/sh-wsh multisig', () => {
    const doc = load('desc-addresses.json') as Record<
      string,
      {
        input: string;
        addresses?: string[];
        error?: string;
        range?: [number, number];
        network?: string;
      }[]
    >;
    const cases = Object.values(doc)
      .flat()
      .filter((v) => isMultisigShape(v.input));
    expect(cases.length).toBeGreaterThanOrEqual(7);
    let checked = 0;
    for (const v of cases) {
      if (v.error) {
        expect(
          () => makeDeriver(parseMultisigDescriptor(v.input), network(v.network ?? 'mainnet')),
          v.input,
        ).toThrow(/hardened|private/i);
        continue;
      }
      const dv = makeDeriver(parseMultisigDescriptor(v.input), network(v.network ?? 'mainnet'));
      const [lo, hi] = v.range ?? [0, 0];
      const got: string[] = [];
      for (let i = lo; i <= hi; i++) got.push(dv.derive(i).address);
      expect(got, v.input).toEqual(v.addresses);
      checked += got.length;
    }
    expect(checked).toBeGreaterThanOrEqual(10);
  });

  it('refuses every invalid descriptor, checksum errors as checksum errors', () => {
    const invalid = load('desc-invalid.json') as {
      input: string;
      error: string;
      requirechecksum?: boolean;
    }[];
    expect(invalid.length).toBeGreaterThan(30);
    let checksumCases = 0;
    for (const v of invalid) {
      if (v.input.includes('<0;1>')) {
        // bcoin predates BIP389; multipath `<0;1>` is valid now and both branches derive.
        const d = parseMultisigDescriptor(v.input);
        const dv = makeDeriver(d, network('testnet'));
        expect(dv.derive(0, 0).address).not.toBe(dv.derive(0, 1).address);
        continue;
      }
      const opts = { requireChecksum: v.requirechecksum === true };
      expect(() => parseMultisigDescriptor(v.input, opts), v.input).toThrow();
      if (/checksum|'#'/i.test(v.error)) {
        checksumCases++;
        expect(() => parseMultisigDescriptor(v.input, opts), v.input).toThrow(/checksum|'#'/i);
      }
    }
    expect(checksumCases).toBeGreaterThanOrEqual(4);
  });

  it('multipath <0;1> gives the receive and change branches', () => {
    const tpub =
      'tpubD6NzVbkrYhZ4WaWSyoBvQwbpLkojyoTZPRsgXELWz3Popb3qkjcJyJUGLnL4qHHoQvao8ESaAstxYSnhyswJ76uZPStJRJCTKvosUCJZL5B';
    const d = parseMultisigDescriptor(`wsh(multi(1,${tpub}/<1;0>/0/*,${tpub}/<0;1>/0/*))`);
    const single = parseMultisigDescriptor(`wsh(multi(1,${tpub}/1/0/*,${tpub}/0/0/*))`);
    const net = network('testnet');
    expect(makeDeriver(d, net).derive(0, 0).address).toBe(
      makeDeriver(single, net).derive(0).address,
    );
    expect(formatDescriptor(d, 0)).toBe(formatDescriptor(single));
    expect(() => parseMultisigDescriptor(`wsh(multi(1,${tpub}/<0;1>/<0;1>/*))`)).toThrow(
      /multipath/,
    );
  });
});
