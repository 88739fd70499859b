/** The pure core on the real BlockSci chain: parser, graph, and every row of EXPECTED.md. */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBlockFile, parseRawTx } from '../../src/trace/core/block.js';
import { buildGraph, orderBlocks, parseOutpoint, TxGraph } from '../../src/trace/core/graph.js';
import {
  type TaintedOutput,
  type TaintResult,
  taint,
  taintDense,
} from '../../src/trace/core/taint.js';
import { BLK, chainGraph, expectedRows, names, startTxids } from './fixtures.js';
import { referenceTaint } from './reference-taint.js';

describe('block file parser', () => {
  it('reads 202 blocks and 356 transactions with heights 0..201', () => {
    const { chain, blocks } = parseBlockFile(readFileSync(BLK()));
    expect(chain).toBe('regtest');
    expect(blocks).toHaveLength(202);
    expect(blocks.reduce((n, b) => n + b.txs.length, 0)).toBe(356);
    const g = chainGraph();
    expect(g.txs.size).toBe(356);
    expect(g.tipHeight).toBe(201);
    // The regtest genesis block hash.
    expect(blocks[0]!.hash).toBe(
      '0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206',
    );
  });

  it('computes the txids and heights BlockSci recorded in output.json (legacy and segwit)', () => {
    const n = names();
    const g = chainGraph();
    let checked = 0;
    for (const [key, value] of Object.entries(n)) {
      if (!key.endsWith('-tx') || typeof value !== 'string') continue;
      const tx = g.tx(value);
      expect(tx, key).toBeDefined();
      const h = n[key.replace(/-tx$/, '-height')];
      if (typeof h === 'number') expect(tx!.height, key).toBe(h);
      checked++;
    }
    expect(checked).toBeGreaterThan(20);
    const { blocks } = parseBlockFile(readFileSync(BLK()));
    expect(blocks.some((b) => b.txs.some((t) => t.segwit))).toBe(true);
    expect(blocks.some((b) => b.txs.some((t) => !t.segwit && !t.coinbase))).toBe(true);
  });

  it('decodes the addresses BlockSci recorded', () => {
    const n = names();
    const g = chainGraph();
    const addresses = new Set<string>();
    for (const tx of g.txs.values())
      for (const o of tx.outputs) if (o.address) addresses.add(o.address);
    let checked = 0;
    for (const [key, value] of Object.entries(n)) {
      if (/^address-p2(pkh|sh|wpkh|wsh)-spend-\d$/.test(key)) {
        expect(addresses.has(String(value)), key).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(12);
  });

  it('rejects a wrong magic, a truncated file and a bad length with E_INPUT', () => {
    const bytes = new Uint8Array(readFileSync(BLK()));
    const wrong = bytes.slice();
    wrong[0] = 0x00;
    wrong[1] = 0x11;
    expect(() => parseBlockFile(wrong)).toThrow(expect.objectContaining({ code: 'E_INPUT' }));
    // The file ends in Core's zero padding: cut inside the last block instead.
    const last = parseBlockFile(bytes).blocks.at(-1)!;
    expect(() => parseBlockFile(bytes.slice(0, last.offset + 120))).toThrow(
      expect.objectContaining({ code: 'E_INPUT' }),
    );
    expect(() => parseBlockFile(bytes.slice(0, 100))).toThrow(
      expect.objectContaining({ code: 'E_INPUT' }),
    );
    expect(() => parseBlockFile(bytes, 'mainnet')).toThrow(
      expect.objectContaining({ code: 'E_INPUT' }),
    );
    expect(() => parseRawTx('00')).toThrow(expect.objectContaining({ code: 'E_INPUT' }));
    expect(() => parseOutpoint('abc:1')).toThrow(expect.objectContaining({ code: 'E_INPUT' }));
    // Trailing zero padding (Core preallocates blk files) is not an error.
    const padded = new Uint8Array(bytes.length + 64);
    padded.set(bytes);
    expect(parseBlockFile(padded).blocks).toHaveLength(202);
  });
});

describe('EXPECTED.md (BlockSci test_taint.py) on the real chain', () => {
  const g = chainGraph();
  for (const row of expectedRows()) {
    it(row.line, () => {
      const starts = startTxids(row);
      const h = g.tx(starts[0]!)!.height;
      const r = taint(g, {
        model: row.model,
        start: starts.map((txid) => ({ txid, vout: 0 })),
        feeTaint: row.feeTaint ?? true,
        maxHeight: row.maxHeight === 'end' ? undefined : h + row.maxHeight,
      });
      expect(r.outputs).toHaveLength(row.outputs);
      if (row.totalValue !== undefined) expect(r.totalValue).toBe(row.totalValue);
      if (row.taintedValue !== undefined) expect(r.taintedValue).toBe(row.taintedValue);
      if (row.model === 'haircut') {
        expect(
          r.taintedValue + r.toFees + r.burned + r.roundingLoss + r.absorbed,
          JSON.stringify({ ...r, outputs: r.outputs.length }),
        ).toBe(r.startValue);
        expect(r.outputs.some((o) => o.tainted < o.value)).toBe(true);
      } else {
        for (const o of r.outputs) expect(o.tainted).toBe(o.value);
      }
    });
  }
});

/** A random DAG of transactions, each spending some earlier unspent outputs. */
const graphArb = fc
  .record({
    blocks: fc.integer({ min: 2, max: 12 }),
    perBlock: fc.integer({ min: 1, max: 6 }),
    seed: fc.integer({ min: 1, max: 2 ** 30 }),
    fee: fc.integer({ min: 0, max: 5000 }),
  })
  .map(({ blocks, perBlock, seed, fee }) => {
    let s = seed;
    const rnd = (n: number) => {
      s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
      return s % n;
    };
    const g = new TxGraph();
    const utxo: { txid: string; vout: number; value: number }[] = [];
    let n = 0;
    const id = () => (n++).toString(16).padStart(64, '0');
    for (let h = 0; h < blocks; h++) {
      const cb = id();
      const cbValue = 5_000_000_000;
      let fees = 0;
      const txs = [];
      for (let i = 0; i < perBlock && utxo.length > 0; i++) {
        const take = 1 + rnd(Math.min(3, utxo.length));
        const ins = [];
        for (let k = 0; k < take && utxo.length > 0; k++)
          ins.push(utxo.splice(rnd(utxo.length), 1)[0]!);
        const inValue = ins.reduce((a, x) => a + x.value, 0);
        const f = Math.min(fee, inValue);
        const outs = 1 + rnd(4);
        const values: number[] = [];
        let left = inValue - f;
        for (let k = 0; k < outs - 1; k++) {
          const v = rnd(left + 1);
          values.push(v);
          left -= v;
        }
        values.push(left);
        const txid = id();
        txs.push({ txid, ins, values, f });
        fees += f;
      }
      g.add({
        txid: cb,
        height: h,
        index: 0,
        coinbase: true,
        fee: 0,
        outputs: [{ value: cbValue + fees, spendable: true, address: null }],
        inputs: [],
      });
      txs.forEach((t, i) => {
        g.add({
          txid: t.txid,
          height: h,
          index: i + 1,
          coinbase: false,
          fee: t.f,
          outputs: t.values.map((v) => ({ value: v, spendable: true, address: null })),
          inputs: t.ins.map((x) => ({ txid: x.txid, vout: x.vout })),
        });
      });
      utxo.push({ txid: cb, vout: 0, value: cbValue + fees });
      for (const t of txs)
        t.values.forEach((value, vout) => {
          utxo.push({ txid: t.txid, vout, value });
        });
    }
    return g;
  });

describe('haircut conservation (property)', () => {
  it('never exceeds the start value; start = tainted + fees + burned + rounding + absorbed; rounding small', () => {
    fc.assert(
      fc.property(graphArb, fc.boolean(), fc.integer({ min: 0, max: 3 }), (g, feeTaint, k) => {
        const coinbases = [...g.coinbases.values()];
        const start = coinbases.slice(0, k + 1).map((t) => ({ txid: t.txid, vout: 0 }));
        const r = taint(g, { model: 'haircut', start, feeTaint });
        expect(r.taintedValue).toBeLessThanOrEqual(r.startValue);
        expect(
          r.taintedValue + r.toFees + r.burned + r.roundingLoss + r.absorbed,
          JSON.stringify({ ...r, outputs: r.outputs.length }),
        ).toBe(r.startValue);
        expect(r.roundingLoss).toBeGreaterThanOrEqual(0);
        expect(r.roundingLoss).toBeLessThanOrEqual(r.txsVisited * 4);
        if (feeTaint) expect(r.toFees).toBe(0);
        for (const o of r.outputs) expect(o.tainted).toBeLessThanOrEqual(o.value);
        const p = taint(g, { model: 'poison', start, feeTaint });
        // Poison reaches at least every output haircut reaches.
        const reached = new Set(p.outputs.map((o) => `${o.txid}:${o.vout}`));
        for (const o of r.outputs) expect(reached.has(`${o.txid}:${o.vout}`)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

/** The reference lists outputs by height then txid; the typed-array walk in chain order. */
function canonical(r: TaintResult): TaintResult {
  const byKey = (a: TaintedOutput, b: TaintedOutput) =>
    a.height - b.height || (a.txid < b.txid ? -1 : a.txid > b.txid ? 1 : a.vout - b.vout);
  return { ...r, outputs: [...r.outputs].sort(byKey) };
}

describe('typed-array walk against the reference implementation (property)', () => {
  it('lists outputs in chain order: height, position in block, vout', () => {
    const g = chainGraph();
    const start = [...g.coinbases.values()].map((cb) => ({ txid: cb.txid, vout: 0 }));
    const r = taint(g, { model: 'poison', start });
    const pos = (o: TaintedOutput) => [
      o.height,
      g.tx(o.txid)!.coinbase ? 1e9 : g.tx(o.txid)!.index,
      o.vout,
    ];
    for (let i = 1; i < r.outputs.length; i++) {
      const [a, b] = [pos(r.outputs[i - 1]!), pos(r.outputs[i]!)];
      const cmp = a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!;
      expect(cmp).toBeLessThan(0);
    }
    expect(r.outputs.length).toBeGreaterThan(100);
  });
  it('gives the same result as the Map-based models on random graphs, start sets and limits', () => {
    fc.assert(
      fc.property(
        graphArb,
        fc.boolean(),
        fc.constantFrom<'haircut' | 'poison'>('haircut', 'poison'),
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 0, max: 12 }),
        fc.boolean(),
        (g, feeTaint, model, pick, limit, limited) => {
          const all = [...g.txs.values()];
          // Any outputs as the start, including a transaction and its ancestor (absorbed taint).
          const start = all
            .filter((_, i) => i % (pick + 1) === 0)
            .flatMap((t) => t.outputs.map((_, vout) => ({ txid: t.txid, vout })))
            .slice(0, 5);
          const watch = new Set(all.flatMap((t) => t.outputs.map((_, v) => `${t.txid}:${v}`)));
          const options = { model, start, feeTaint, maxHeight: limited ? limit : undefined, watch };
          const full = taint(g, options);
          expect(canonical(full)).toEqual(canonical(referenceTaint(g, options)));
          // The typed-array result screening uses carries the same figures and outputs.
          const dense = taintDense(g, options);
          expect(dense.outputCount).toBe(full.outputs.length);
          expect(dense.watched).toEqual(full.watched);
          expect([dense.taintedValue, dense.totalValue]).toEqual([
            full.taintedValue,
            full.totalValue,
          ]);
          const live = full.outputs.map(
            (o) => dense.live[dense.graph.outStart[dense.graph.rankOf.get(o.txid)!]! + o.vout],
          );
          expect(live).toEqual(full.outputs.map((o) => o.tainted));
        },
      ),
      { numRuns: 300 },
    );
  });
  it('agrees with the reference on every EXPECTED.md row of the real chain', () => {
    const g = chainGraph();
    for (const row of expectedRows()) {
      const starts = startTxids(row);
      const h = g.tx(starts[0]!)!.height;
      const options = {
        model: row.model,
        start: starts.map((txid) => ({ txid, vout: 0 })),
        feeTaint: row.feeTaint ?? true,
        maxHeight: row.maxHeight === 'end' ? undefined : h + row.maxHeight,
      };
      expect(canonical(taint(g, options)), row.line).toEqual(canonical(referenceTaint(g, options)));
    }
  });
});

describe('graph', () => {
  it('orders shuffled blocks by prev-hash links', () => {
    const { blocks } = parseBlockFile(readFileSync(BLK()));
    const shuffled = [...blocks].reverse();
    const g = buildGraph(orderBlocks(shuffled));
    expect(g.tipHeight).toBe(201);
    expect(g.txs.size).toBe(356);
  });
});
