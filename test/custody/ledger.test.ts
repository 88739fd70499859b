/**
 * The cosigner's ledger is never left half-written: a refused PSBT leaves it byte for byte as
 * it was; a crash before the rename (a stray `.tmp`) or a torn last line from an interrupted
 * append leaves a ledger that still reads, and the next entry lands on whole lines only.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as custody from '../../src/custody/index.js';

const PASS = 'correct horse battery';
const FAST = { N: 2 ** 12, r: 8, p: 1 };
const entry = (i: number): custody.LedgerEntry => ({
  txid: i.toString(16).padStart(64, '0'),
  at: new Date(Date.UTC(2026, 11, 1, 0, i)).toISOString(),
  wallet: 'hot',
  payouts: 1000 * i,
  sweeps: 0,
});

describe('cosigner ledger', () => {
  let dir: string;
  const f = (n: string) => join(dir, n);
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mamori-ledger-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a refusal leaves the ledger exactly as it was', async () => {
    const path = f('refused.jsonl');
    for (let i = 1; i <= 3; i++) custody.appendLedger(path, entry(i));
    const before = readFileSync(path);
    const keys = [];
    for (let i = 0; i < 3; i++) keys.push(await custody.newKey('regtest', PASS, { scrypt: FAST }));
    const net = custody.network('regtest');
    const desc = custody.parseMultisigDescriptor(
      `wsh(sortedmulti(2,${keys.map((k) => `${k.file.public.originXpub}/<0;1>/*`).join(',')}))`,
    );
    const d = custody.makeDeriver(desc, net);
    const built = custody.buildPsbt({
      utxos: [{ txid: '11'.repeat(32), vout: 0, value: 1_000_000, derived: d.derive(0, 0) }],
      payees: [{ address: d.derive(7, 0).address, amount: 500_000 }],
      change: d.derive(0, 1),
      feeRate: 2,
      threshold: 2,
      cosigners: 3,
      net,
    });
    const master = await custody.unlockKeyFile(keys[1]!.file, PASS);
    for (const evidence of [{ format: 'x' }, { format: 'mamori-custody-evidence/1' }]) {
      expect(() =>
        custody.cosign(
          { psbt: custody.encodePsbt(custody.decodePsbt(built.psbt)), evidence },
          { genesis: {}, master, ledgerPath: path, now: Date.now() },
        ),
      ).toThrow(expect.objectContaining({ code: 'E_INPUT' }));
    }
    master.wipePrivateData();
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(existsSync(`${path}.tmp`)).toBe(false);
  });

  it('a crash before the rename, or a torn last line, leaves a ledger that reads; the next entry is whole', () => {
    const path = f('crash.jsonl');
    for (let i = 1; i <= 2; i++) custody.appendLedger(path, entry(i));
    // a write that died before its rename: the ledger is the old one
    writeFileSync(`${path}.tmp`, `${readFileSync(path, 'utf8')}{"txid":"de`);
    expect(custody.readLedger(path).map((e) => e.payouts)).toEqual([1000, 2000]);
    custody.appendLedger(path, entry(3));
    expect(custody.readLedger(path).map((e) => e.payouts)).toEqual([1000, 2000, 3000]);
    expect(existsSync(`${path}.tmp`)).toBe(false);
    // an append cut short (power lost mid-line): read without it, and the next entry does not
    // glue onto it
    writeFileSync(path, `${readFileSync(path, 'utf8')}{"txid":"ab","at":"2026-`);
    expect(custody.readLedger(path)).toHaveLength(3);
    custody.appendLedger(path, entry(4));
    const text = readFileSync(path, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(
      text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l).payouts),
    ).toEqual([1000, 2000, 3000, 4000]);
    // damage in the middle is not guessed around: refused, and the file is left alone
    const damaged = text.replace('"payouts":2000', '"payouts":2000,,');
    writeFileSync(path, damaged);
    expect(() => custody.appendLedger(path, entry(5))).toThrow(
      expect.objectContaining({ code: 'E_INPUT' }),
    );
    expect(readFileSync(path, 'utf8')).toBe(damaged);
  });
});
