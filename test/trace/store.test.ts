/**
 * The store path on SQLite and PostgreSQL: ingest of the real BlockSci chain (idempotent,
 * all-or-nothing), every EXPECTED.md row through taintFromStore, tags and deposit screening,
 * and ingest from a JSON-RPC node served on 127.0.0.1.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hex } from '@scure/base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseBlockFile } from '../../src/trace/core/block.js';
import { taint } from '../../src/trace/core/taint.js';
import {
  ingestFiles,
  ingestFromNode,
  screenDeposit,
  tagFunds,
  taintFromStore,
  traceStats,
} from '../../src/trace/index.js';
import { ingestBlocks } from '../../src/trace/store.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';
import { BLK, chainGraph, expectedRows, names, startTxids } from './fixtures.js';

const tmpFile = (name: string, bytes: Uint8Array) => {
  const p = `${process.env.TMPDIR ?? '/tmp'}/mamori-trace-${process.pid}-${name}`;
  writeFileSync(p, bytes);
  return p;
};

for (const backend of testBackends()) {
  describe(`trace store (${backend})`, () => {
    let t: TestStore;
    beforeEach(async () => {
      t = await freshStore(backend);
    });
    afterEach(async () => {
      await t.cleanup();
    });

    it('ingests blk00000.dat once; a second run stores nothing new', async () => {
      const first = await ingestFiles(t.store, [BLK()]);
      expect(first).toMatchObject({
        blocks: 202,
        txs: 356,
        tipHeight: 201,
        skipped: 0,
        orphaned: 0,
      });
      const before = await traceStats(t.store);
      expect(before).toMatchObject({
        blocks: 202,
        txs: 356,
        outputs: first.outputs,
        tipHeight: 201,
      });
      const again = await ingestFiles(t.store, [BLK()]);
      expect(again).toMatchObject({ blocks: 0, skipped: 202 });
      expect(await traceStats(t.store)).toEqual(before);
      // Spent-by links: every non-coinbase input links one output.
      const g = chainGraph();
      let inputs = 0;
      for (const tx of g.txs.values()) inputs += tx.inputs.length;
      const linked = await t.store.db
        .selectFrom('trace_output')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('spent_by_txid', 'is not', null)
        .executeTakeFirstOrThrow();
      expect(Number(linked.n)).toBe(inputs);
    });

    it('reproduces every EXPECTED.md row from the store, and agrees with the in-memory graph', async () => {
      await ingestFiles(t.store, [BLK()]);
      const g = chainGraph();
      for (const row of expectedRows()) {
        const start = startTxids(row).map((txid) => ({ txid, vout: 0 }));
        const r = await taintFromStore(t.store, {
          model: row.model,
          start,
          feeTaint: row.feeTaint ?? true,
          maxHeight: row.maxHeight === 'end' ? undefined : `+${row.maxHeight}`,
        });
        expect(r.outputs, row.line).toHaveLength(row.outputs);
        if (row.totalValue !== undefined) expect(r.totalValue, row.line).toBe(row.totalValue);
        if (row.taintedValue !== undefined) expect(r.taintedValue, row.line).toBe(row.taintedValue);
        const h = g.tx(start[0]!.txid)!.height;
        const mem = taint(g, {
          model: row.model,
          start,
          feeTaint: row.feeTaint ?? true,
          maxHeight: row.maxHeight === 'end' ? undefined : h + row.maxHeight,
        });
        expect(r.outputs).toEqual(mem.outputs);
      }
    });

    it('tags stolen funds and screens deposits (refuse, review, accept) by label', async () => {
      await ingestFiles(t.store, [BLK()]);
      const n = names();
      const split = String(n['taint-split-tx-1']);
      const tag = await tagFunds(t.store, {
        target: `${split}:0`,
        label: 'nem-2018',
        source: 'test',
      });
      expect(tag).toMatchObject({ kind: 'outpoint', outputs: 1, value: 99_990_000 });
      // Tagging twice is idempotent.
      await tagFunds(t.store, { target: `${split}:0`, label: 'nem-2018', source: 'test' });
      expect((await traceStats(t.store)).tags).toBe(1);
      const byLabel = await taintFromStore(t.store, { model: 'haircut', label: 'nem-2018' });
      const direct = await taintFromStore(t.store, {
        model: 'haircut',
        start: [{ txid: split, vout: 0 }],
      });
      expect(byLabel.taintedValue).toBe(direct.taintedValue);
      expect(byLabel.outputs.length).toBeGreaterThan(0);

      // The transaction that spends the tagged output: a large share of its value is tainted.
      const spender = chainGraph().spender(split, 0)!;
      const refused = await screenDeposit(t.store, spender, { reviewAt: 0.001, refuseAt: 0.1 });
      expect(refused.verdict).toBe('refuse');
      expect(refused.sources[0]).toMatchObject({ label: 'nem-2018', sources: ['test'] });
      expect(refused.taintedValue).toBeGreaterThan(0);
      expect(refused.taintedValue).toBeLessThanOrEqual(99_990_000);
      // The same deposit with a higher refuse threshold is only reviewed.
      const reviewed = await screenDeposit(t.store, spender, { reviewAt: 0.001, refuseAt: 0.9 });
      expect(reviewed.verdict).toBe('review');
      // A coinbase from before the theft is clean.
      const cb = chainGraph().coinbaseAt(5)!;
      const clean = await screenDeposit(t.store, cb.txid);
      expect(clean).toMatchObject({ verdict: 'accept', taintedValue: 0, sources: [] });
      // Screening an address: the last tainted output's address.
      const last = byLabel.outputs.find((o) => o.address);
      if (!last) throw new Error('expected a tainted output with an address');
      const byAddress = await screenDeposit(t.store, last.address!);
      expect(byAddress.taintedValue).toBeGreaterThanOrEqual(last.tainted);
    });

    it('stores the connected chain and reports blocks after a gap as orphaned', async () => {
      const { blocks } = parseBlockFile(new Uint8Array(readFileSync(BLK())));
      const gap = blocks.filter((_, i) => i !== 100);
      const r = await ingestBlocks(t.store, gap, { source: 'gap' });
      expect(r).toMatchObject({ blocks: 100, orphaned: 101, tipHeight: 99 });
      // The missing block arrives later: the rest connects.
      const rest = await ingestBlocks(t.store, blocks, { source: 'full' });
      expect(rest).toMatchObject({ blocks: 102, skipped: 100, orphaned: 0, tipHeight: 201 });
      expect(await traceStats(t.store)).toMatchObject({ blocks: 202, txs: 356 });
    });

    it('rejects bad input with clear codes and stores nothing', async () => {
      const bytes = new Uint8Array(readFileSync(BLK()));
      const last = parseBlockFile(bytes).blocks.at(-1)!;
      const truncated = tmpFile('trunc.dat', bytes.slice(0, last.offset + 100));
      await expect(ingestFiles(t.store, [truncated])).rejects.toMatchObject({ code: 'E_INPUT' });
      const wrong = bytes.slice();
      wrong.set([0xf9, 0xbe, 0xb4, 0xd9], 0);
      const wrongMagic = tmpFile('magic.dat', wrong);
      await expect(ingestFiles(t.store, [wrongMagic])).rejects.toMatchObject({ code: 'E_INPUT' });
      // A good file followed by a bad one: nothing of either is stored.
      await expect(ingestFiles(t.store, [BLK(), truncated])).rejects.toMatchObject({
        code: 'E_INPUT',
      });
      expect(await traceStats(t.store)).toMatchObject({ blocks: 0, txs: 0, outputs: 0 });
      await ingestFiles(t.store, [BLK()]);
      await expect(
        taintFromStore(t.store, { model: 'poison', start: [{ txid: 'ab'.repeat(32), vout: 0 }] }),
      ).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
      await expect(
        tagFunds(t.store, { target: `${'cd'.repeat(32)}:1`, label: 'x' }),
      ).rejects.toMatchObject({
        code: 'E_NOT_FOUND',
      });
      await expect(
        taintFromStore(t.store, { model: 'poison', label: 'no-such' }),
      ).rejects.toMatchObject({
        code: 'E_NOT_FOUND',
      });
      await expect(screenDeposit(t.store, 'ef'.repeat(32))).rejects.toMatchObject({
        code: 'E_NOT_FOUND',
      });
      // A txid without its output index, or a string that is no address: E_INPUT.
      await expect(
        tagFunds(t.store, { target: 'cd'.repeat(32), label: 'x' }),
      ).rejects.toMatchObject({
        code: 'E_INPUT',
        hint: 'add the output index: <txid>:<vout>',
      });
      await expect(
        tagFunds(t.store, { target: 'notanaddress123456', label: 'x' }),
      ).rejects.toMatchObject({
        code: 'E_INPUT',
      });
      // An address with no outputs yet can be tagged (funds may arrive later).
      const tag = await tagFunds(t.store, {
        target: 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq',
        label: 'watch',
      });
      expect(tag).toMatchObject({ kind: 'address', outputs: 0 });
    });
  });
}

describe('ingest from a JSON-RPC node on 127.0.0.1', () => {
  let server: Server | undefined;
  let t: TestStore | undefined;
  afterEach(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    await t?.cleanup();
  });

  it('fetches blocks by height and stores the same chain as the file', async () => {
    const bytes = new Uint8Array(readFileSync(BLK()));
    const { blocks } = parseBlockFile(bytes);
    const raw = blocks.map((b) => {
      const len = new DataView(bytes.buffer, bytes.byteOffset + b.offset - 4, 4).getUint32(0, true);
      return { hash: b.hash, hex: hex.encode(bytes.subarray(b.offset, b.offset + len)) };
    });
    let calls = 0;
    let auth = '';
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        calls++;
        auth = req.headers.authorization ?? '';
        const { method, params, id } = JSON.parse(body);
        let result: unknown = null;
        let error: unknown = null;
        if (method === 'getblockchaininfo') result = { chain: 'regtest', blocks: raw.length - 1 };
        else if (method === 'getblockhash') result = raw[params[0]]?.hash ?? null;
        else if (method === 'getblock') result = raw.find((r) => r.hash === params[0])?.hex ?? null;
        else error = { code: -32601, message: 'Method not found' };
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ result, error, id }));
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    const { port } = server.address() as AddressInfo;
    t = await freshStore('sqlite');
    // In two runs, so that the second links spends of outputs stored by the first.
    const url = `http://user:secret@127.0.0.1:${port}`;
    const first = await ingestFromNode(t.store, url, { to: 120 });
    expect(first).toMatchObject({ blocks: 121, tipHeight: 120, chain: 'regtest' });
    const second = await ingestFromNode(t.store, url, { from: 121 });
    expect(second).toMatchObject({ blocks: 81, tipHeight: 201 });
    expect(auth).toBe(`Basic ${Buffer.from('user:secret').toString('base64')}`);
    expect(calls).toBe(2 + 2 * 202);
    expect(await traceStats(t.store)).toMatchObject({ blocks: 202, txs: 356 });
    let inputs = 0;
    for (const tx of chainGraph().txs.values()) inputs += tx.inputs.length;
    const linked = await t.store.db
      .selectFrom('trace_output')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('spent_by_txid', 'is not', null)
      .executeTakeFirstOrThrow();
    expect(Number(linked.n)).toBe(inputs);
    const row = expectedRows().find((r) => r.model === 'haircut' && r.maxHeight === 'end')!;
    const r = await taintFromStore(t.store, {
      model: 'haircut',
      start: startTxids(row).map((txid) => ({ txid, vout: 0 })),
      feeTaint: row.feeTaint ?? true,
    });
    expect(r.taintedValue).toBe(row.taintedValue);
    // The node URL's password is not stored.
    const src = await t.store.db
      .selectFrom('trace_block')
      .select('source')
      .executeTakeFirstOrThrow();
    expect(src.source).not.toContain('secret');
    // A closed port: E_NETWORK.
    await expect(ingestFromNode(t.store, 'http://127.0.0.1:1')).rejects.toMatchObject({
      code: 'E_NETWORK',
    });
  });
});
