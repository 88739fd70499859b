/**
 * The built CLI end to end on the real BlockSci chain: ingest (twice), taint (table and JSON,
 * figures from EXPECTED.md), tag, screen (exit 4 on refuse), and bad input (exit 2, nothing
 * stored). Runs on SQLite and, when MAMORI_TEST_PG is set, PostgreSQL.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hex } from '@scure/base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBlockFile } from '../../src/trace/core/block.js';
import { runMamori } from '../helpers/cli.js';
import { freshSpec, testBackends } from '../helpers/db.js';
import { BLK, chainGraph, expectedRows, names, startTxids } from './fixtures.js';

for (const backend of testBackends()) {
  describe(`mamori trace (${backend})`, () => {
    let spec: string;
    let cleanup: () => Promise<void>;
    const run = (args: string[]) => runMamori(args, { env: { MAMORI_DB: spec } });
    beforeAll(async () => {
      ({ spec, cleanup } = await freshSpec(backend));
    });
    afterAll(async () => {
      await cleanup();
    });

    it('rejects a truncated block file with exit 2 and stores nothing', async () => {
      const bytes = new Uint8Array(readFileSync(BLK()));
      const last = parseBlockFile(bytes).blocks.at(-1)!;
      const bad = `${process.env.TMPDIR ?? '/tmp'}/mamori-cli-trunc-${process.pid}.dat`;
      writeFileSync(bad, bytes.slice(0, last.offset + 100));
      const r = await run(['trace', 'ingest', BLK(), bad, '--json']);
      expect(r.code).toBe(2);
      expect(JSON.parse(r.stdout || r.stderr)).toMatchObject({ error: { code: 'E_INPUT' } });
      const s = await run(['db', 'status', '--json']);
      const tables = JSON.parse(s.stdout).tables as { name: string; rows: number }[];
      expect(tables.find((x) => x.name === 'trace_block')?.rows).toBe(0);
    });

    it('ingests, is idempotent, and reproduces EXPECTED.md rows', async () => {
      const a = await run(['trace', 'ingest', BLK(), '--json']);
      expect(a.code, a.stderr).toBe(0);
      expect(JSON.parse(a.stdout)).toMatchObject({ blocks: 202, txs: 356, tipHeight: 201 });
      const b = await run(['trace', 'ingest', BLK()]);
      expect(b.code).toBe(0);
      expect(b.stdout).toContain('nothing new: 202 block(s) already stored');
      // Four rows through the binary (the store tests cover every row): each model, with and
      // without fee taint, absolute end and +N heights, one and two start outputs.
      const rows = expectedRows().filter((r) => r.totalValue !== undefined);
      const pick = [
        rows.find((r) => r.model === 'poison' && r.feeTaint === false && r.maxHeight === 'end'),
        rows.find((r) => r.model === 'haircut' && r.feeTaint === false && r.maxHeight === 1),
        rows.find((r) => r.model === 'haircut' && r.start.length === 2 && r.maxHeight === 'end'),
        rows.find((r) => r.model === 'haircut' && r.feeTaint === undefined),
      ];
      for (const row of pick) {
        if (!row) throw new Error('EXPECTED.md lacks a row this test needs');
        const args = ['trace', 'taint', '--model', row.model, '--json'];
        for (const txid of startTxids(row)) args.push('--from', `${txid}:0`);
        if (row.feeTaint !== false) args.push('--fee-taint');
        if (row.maxHeight !== 'end') args.push('--max-height', `+${row.maxHeight}`);
        const r = await run(args);
        expect(r.code, r.stderr).toBe(0);
        const j = JSON.parse(r.stdout);
        expect(j.outputCount, row.line).toBe(row.outputs);
        expect(j.totalValue, row.line).toBe(row.totalValue);
        expect(j.taintedValue, row.line).toBe(row.taintedValue);
      }
      const table = await run([
        'trace',
        'taint',
        '--model',
        'haircut',
        '--from',
        `${names()['taint-split-tx-1']}:0`,
      ]);
      expect(table.code).toBe(0);
      expect(table.stdout).toMatch(/^output\s+height\s+address\s+value \(sat\)\s+tainted \(sat\)/);
      expect(table.stdout).toContain('1 output(s)');
    });

    it('tags stolen funds and refuses a tainted deposit with exit 4', async () => {
      const split = String(names()['taint-split-tx-1']);
      const tag = await run([
        'trace',
        'tag',
        `${split}:0`,
        '--label',
        'nem-2018',
        '--source',
        'e2e',
        '--json',
      ]);
      expect(tag.code, tag.stderr).toBe(0);
      expect(JSON.parse(tag.stdout)).toMatchObject({ kind: 'outpoint', label: 'nem-2018' });
      const spender = chainGraph().spender(split, 0)!;
      const refuse = await run(['trace', 'screen', spender, '--json']);
      expect(refuse.code).toBe(4);
      const j = JSON.parse(refuse.stdout);
      expect(j).toMatchObject({
        verdict: 'refuse',
        sources: [{ label: 'nem-2018', sources: ['e2e'] }],
      });
      const review = await run(['trace', 'screen', spender, '--refuse-at', '90%']);
      expect(review.code).toBe(0);
      expect(review.stdout).toMatch(/^REVIEW: /);
      const clean = await run(['trace', 'screen', chainGraph().coinbaseAt(3)!.txid]);
      expect(clean.code).toBe(0);
      expect(clean.stdout).toMatch(/^ACCEPT: 0 of/);
      const byLabel = await run([
        'trace',
        'taint',
        '--model',
        'poison',
        '--label',
        'nem-2018',
        '--json',
      ]);
      expect(JSON.parse(byLabel.stdout).outputCount).toBeGreaterThan(0);
    });

    it('says clearly what is wrong: unknown txid, bad flags', async () => {
      const unknown = await run(['trace', 'screen', 'ab'.repeat(32)]);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('E_NOT_FOUND');
      const badFrom = await run([
        'trace',
        'taint',
        '--model',
        'poison',
        '--from',
        `${'cd'.repeat(32)}:0`,
      ]);
      expect(badFrom.code).toBe(2);
      expect(badFrom.stderr).toContain('unknown outpoint');
      const badModel = await run(['trace', 'taint', '--model', 'fifo', '--label', 'nem-2018']);
      expect(badModel.code).toBe(2);
      expect(badModel.stderr).toContain('--model must be poison or haircut');
      const noLabel = await run(['trace', 'tag', `${names()['taint-split-tx-1']}:0`]);
      expect(noLabel.code).toBe(2);
    });
  });
}

describe('mamori trace ingest --node (a JSON-RPC server on 127.0.0.1)', () => {
  let server: Server | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  afterAll(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    await cleanup?.();
  });

  it('ingests from the node, and a node error exits 3', async () => {
    const bytes = new Uint8Array(readFileSync(BLK()));
    const raw = parseBlockFile(bytes).blocks.map((b) => {
      const len = new DataView(bytes.buffer, bytes.byteOffset + b.offset - 4, 4).getUint32(0, true);
      return { hash: b.hash, hex: hex.encode(bytes.subarray(b.offset, b.offset + len)) };
    });
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        const { method, params, id } = JSON.parse(body);
        let result: unknown = null;
        let error: unknown = null;
        if (method === 'getblockchaininfo') result = { chain: 'regtest', blocks: raw.length - 1 };
        else if (method === 'getblockhash' && raw[params[0]]) result = raw[params[0]]!.hash;
        else if (method === 'getblock') result = raw.find((r) => r.hash === params[0])?.hex ?? null;
        else error = { code: -8, message: 'Block height out of range' };
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ result, error, id }));
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    const { port } = server.address() as AddressInfo;
    const fresh = await freshSpec('sqlite');
    cleanup = fresh.cleanup;
    const env = { env: { MAMORI_DB: fresh.spec } };
    const ok = await runMamori(
      ['trace', 'ingest', '--node', `http://u:p@127.0.0.1:${port}`, '--json'],
      env,
    );
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ blocks: 202, txs: 356, chain: 'regtest' });
    const beyond = await runMamori(
      ['trace', 'ingest', '--node', `http://127.0.0.1:${port}`, '--from', '300', '--to', '301'],
      env,
    );
    expect(beyond.code).toBe(0);
    expect(beyond.stdout).toContain('nothing new');
    const closed = await runMamori(['trace', 'ingest', '--node', 'http://127.0.0.1:1'], env);
    expect(closed.code).toBe(3);
    expect(closed.stderr).toContain('E_NETWORK');
  });
});
