/**
 * `trace-taint`: outputs per second through haircut propagation (the pure core, in memory) on a
 * synthetic graph made by replicating the real BlockSci regtest chain's shape, as a ratio to a
 * plain breadth-first walk over the same spent-by edges from the same start outputs, in the
 * same run. The ratio says what the models' bookkeeping (chain-order queue, pro-rata split,
 * per-output taint map) costs over the bare graph walk.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBlockFile } from '../src/trace/core/block.js';
import { buildGraph, type ChainTx, orderBlocks, TxGraph } from '../src/trace/core/graph.js';
import { taint } from '../src/trace/core/taint.js';
import type { BenchFn } from './lib.js';

const VECTOR = join(
  import.meta.dirname,
  '..',
  '..',
  'shared',
  'vectors',
  'trace',
  'blocksci-btc',
  'blk00000.dat',
);

/** K copies of the chain at disjoint heights, txids rewritten per copy. */
function replicate(base: TxGraph, copies: number): TxGraph {
  const span = base.tipHeight + 1;
  const g = new TxGraph();
  const rename = (k: number, txid: string) => k.toString(16).padStart(8, '0') + txid.slice(8);
  const txs = [...base.txs.values()];
  for (let k = 0; k < copies; k++) {
    for (const t of txs) {
      const copy: ChainTx = {
        ...t,
        txid: rename(k, t.txid),
        height: t.height + k * span,
        inputs: t.inputs.map((i) => ({ txid: rename(k, i.txid), vout: i.vout })),
      };
      g.add(copy);
    }
  }
  return g;
}

function bfs(g: TxGraph, start: { txid: string; vout: number }[]): number {
  const seen = new Set<string>();
  const queue: string[] = [];
  let outputs = 0;
  for (const s of start) {
    const by = g.spender(s.txid, s.vout);
    outputs++;
    if (by && !seen.has(by)) {
      seen.add(by);
      queue.push(by);
    }
  }
  for (let i = 0; i < queue.length; i++) {
    const tx = g.txs.get(queue[i]!)!;
    for (let vout = 0; vout < tx.outputs.length; vout++) {
      outputs++;
      const by = g.spender(tx.txid, vout);
      if (by && !seen.has(by)) {
        seen.add(by);
        queue.push(by);
      }
    }
  }
  return outputs;
}

export const run: BenchFn = async (ctx) => {
  const base = buildGraph(orderBlocks(parseBlockFile(readFileSync(VECTOR)).blocks));
  const copies = Math.max(10, Math.round(1000 * ctx.scale));
  const g = replicate(base, copies);
  ctx.log(`graph: ${copies} copies, ${g.txs.size} transactions, ${g.spends} spends`);
  // Start from every coinbase output: the taint then reaches nearly every transaction.
  const start = [...g.coinbases.values()].flatMap((cb) =>
    cb.outputs
      .map((o, vout) => ({ txid: cb.txid, vout, spendable: o.spendable }))
      .filter((o) => o.spendable),
  );
  const rounds = 3;
  let bestTaint = Number.POSITIVE_INFINITY;
  let bestBfs = Number.POSITIVE_INFINITY;
  let taintOutputs = 0;
  let bfsOutputs = 0;
  let reached = 0;
  for (let r = 0; r < rounds; r++) {
    let t0 = performance.now();
    const res = taint(g, { model: 'haircut', start, feeTaint: false });
    bestTaint = Math.min(bestTaint, performance.now() - t0);
    // Outputs handled: the start outputs plus every output of every visited transaction.
    reached = res.outputs.length;
    const nonCoinbase = g.txs.size - g.coinbases.size;
    if (res.txsVisited !== nonCoinbase) {
      throw new Error(`haircut visited ${res.txsVisited} of ${nonCoinbase} transactions`);
    }
    // Every non-coinbase transaction is reached from the coinbases (checked above).
    let visited = 0;
    for (const tx of g.txs.values()) if (!tx.coinbase) visited += tx.outputs.length;
    taintOutputs = start.length + visited;
    t0 = performance.now();
    bfsOutputs = bfs(g, start);
    bestBfs = Math.min(bestBfs, performance.now() - t0);
  }
  const taintRate = taintOutputs / (bestTaint / 1000);
  const bfsRate = bfsOutputs / (bestBfs / 1000);
  return {
    figures: [
      {
        name: 'haircut propagation (in memory)',
        value: Math.round(taintRate),
        unit: 'outputs/s',
        base: 'plain BFS over the same spent-by edges',
        baseValue: Math.round(bfsRate),
        ratio: taintRate / bfsRate,
      },
    ],
    notes: [
      `Graph: the BlockSci regtest chain (202 blocks, 356 transactions) replicated ${copies} times at disjoint heights: ${g.txs.size} transactions, ${g.spends} spent-by edges. Start: all ${start.length} spendable coinbase outputs; haircut, no fee taint, no height limit; ${reached} tainted outputs unspent at the end.`,
      `Outputs/s = (start outputs + outputs of every transaction visited) / time: haircut ${taintOutputs}, BFS ${bfsOutputs}. Best of ${rounds} rounds each, same process. Graph building and parsing are not timed.`,
      'Scaled for 2 cores: about 356k transactions at --scale 1; real chains need the store path (subgraph loading), which this does not measure.',
    ],
  };
};
