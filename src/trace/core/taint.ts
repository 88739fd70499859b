/**
 * Taint models over a transaction graph (compiled to typed arrays, see dense.ts), after BlockSci's `heuristics/taint.cpp`:
 * - poison: every output of a transaction with a tainted input is fully tainted;
 * - haircut: a transaction's tainted value is spread over its outputs pro rata to their value.
 * With fee taint, the tainted part of a fee is followed into the coinbase of the same block (as
 * one more input beside the subsidy). Propagation stops at a maximum height (inclusive).
 *
 * Rounding (haircut), in integer satoshi: each output gets
 *   min(value, trunc((value / (outputs + fee)) × tainted), tainted not yet handed out)
 * evaluated in IEEE-754 doubles exactly as BlockSci does, so its figures are reproduced to the
 * satoshi (including its "- 1"); the last clamp (ours) stops double rounding from creating a
 * satoshi of taint. The remainder goes to the fee (up to the fee); anything left
 * over is reported as `roundingLoss` (at most one satoshi per output per transaction). Taint on
 * an unspendable output (OP_RETURN) is reported as `burned`; taint paid as fee without fee
 * taint is reported as `toFees`. So, for haircut:
 * start = tainted + toFees + burned + roundingLoss + absorbed, exactly.
 *
 * Not here: address clustering, FIFO/LIFO models, change heuristics.
 */
import type { OutPointRef } from './block.js';
import { type DenseGraph, RankQueue } from './dense.js';
import type { TxGraph } from './graph.js';

export type TaintModel = 'poison' | 'haircut';

export interface TaintOptions {
  model: TaintModel;
  start: OutPointRef[];
  feeTaint?: boolean;
  /** Inclusive; undefined = no limit. */
  maxHeight?: number | undefined;
  /** Outpoint keys (`txid:vout`) whose taint to report when reached, spent or not (screening). */
  watch?: ReadonlySet<string> | undefined;
}

export interface TaintedOutput {
  txid: string;
  vout: number;
  height: number;
  value: number;
  tainted: number;
  address: string | null;
}

export interface TaintResult {
  model: TaintModel;
  feeTaint: boolean;
  maxHeight: number | null;
  /** Tainted outputs unspent at maxHeight, in chain order. */
  outputs: TaintedOutput[];
  totalValue: number;
  taintedValue: number;
  /** Sum of the start outputs' values. */
  startValue: number;
  toFees: number;
  burned: number;
  roundingLoss: number;
  /** Taint that reached an output already tainted to its full value (overlapping start sets). */
  absorbed: number;
  /** Taint of each watched outpoint that was reached. */
  watched: Record<string, number>;
  /** Transactions the taint passed through. */
  txsVisited: number;
}

/**
 * The model's figures with the tainted outputs kept as one typed array over the compiled graph:
 * what the walk itself produces. `taint` turns it into report objects; screening reads only
 * `watched` and never pays for them.
 */
export interface DenseTaintResult extends Omit<TaintResult, 'outputs'> {
  readonly graph: DenseGraph;
  /** Taint of each global output number still unspent at the end; 0 = none. */
  readonly live: Float64Array;
  /** How many outputs are tainted and unspent. */
  readonly outputCount: number;
}

/**
 * Follow taint forward from the start outputs.
 * @example taint(graph, { model: 'haircut', start: [{ txid, vout: 0 }], feeTaint: true })
 */
export function taint(graph: TxGraph, options: TaintOptions): TaintResult {
  const d = taintDense(graph, options);
  return {
    model: d.model,
    feeTaint: d.feeTaint,
    maxHeight: d.maxHeight,
    outputs: liveOutputs(d.graph, d.live),
    totalValue: d.totalValue,
    taintedValue: d.taintedValue,
    startValue: d.startValue,
    toFees: d.toFees,
    burned: d.burned,
    roundingLoss: d.roundingLoss,
    absorbed: d.absorbed,
    watched: d.watched,
    txsVisited: d.txsVisited,
  };
}

/**
 * The same walk as `taint`, with the result left in typed arrays (no per-output allocation).
 * @example taintDense(graph, { model: 'poison', start, watch }).watched
 */
export function taintDense(graph: TxGraph, options: TaintOptions): DenseTaintResult {
  const g = graph.dense();
  const n = g.txs.length;
  const { outStart, outValue, outSpendable, outSpender, inStart, inOutput, height } = g;
  const { outTotal: txOutTotal, fee: txFee, coinbase: txCoinbase } = g;
  const feeTaint = options.feeTaint ?? false;
  const maxHeight = options.maxHeight ?? Number.POSITIVE_INFINITY;
  const poison = options.model === 'poison';
  /** Taint of each live (tainted, unspent so far) output, by global output number; 0 = none. */
  const live = new Float64Array(outValue.length);
  const queue = new RankQueue(n);
  const queued = new Uint8Array(n);
  /** Fee taint collected for the coinbase of each rank. */
  const coinbaseTaint = new Float64Array(n);
  let startValue = 0;
  let toFees = 0;
  let burned = 0;
  let roundingLoss = 0;
  let absorbed = 0;
  const watchedAt = watchedOutputs(g, options.watch);
  const watched: Record<string, number> = {};
  let txsVisited = 0;

  const place = (o: number, tainted: number) => {
    if (tainted <= 0) return;
    if (!outSpendable[o]) {
      burned += tainted;
      return;
    }
    const already = live[o]!;
    if (already > 0) {
      // A start output reached again (a start set with an output and its ancestor). BlockSci
      // keeps the first figure; we add, capped at the value, and report the excess.
      const merged = Math.min(outValue[o]!, already + tainted);
      absorbed += already + tainted - merged;
      live[o] = merged;
      if (watchedAt) record(o, merged);
      return;
    }
    live[o] = tainted;
    if (watchedAt) record(o, tainted);
    const by = outSpender[o]!;
    if (by >= 0 && !queued[by] && height[by]! <= maxHeight) {
      queued[by] = 1;
      queue.push(by);
    }
  };
  const record = (o: number, tainted: number) => {
    const key = watchedAt?.get(o);
    if (key !== undefined) watched[key] = tainted;
  };

  for (const s of options.start) {
    const r = g.rankOf.get(s.txid);
    if (r === undefined || s.vout >= outStart[r + 1]! - outStart[r]!) continue; // the shell reports unknown outpoints
    const o = outStart[r]! + s.vout;
    if (live[o]! > 0) continue;
    startValue += outValue[o]!;
    place(o, outValue[o]!);
  }

  while (queue.size > 0) {
    const r = queue.pop();
    txsVisited++;
    const first = outStart[r]!;
    const end = outStart[r + 1]!;
    const outTotal = txOutTotal[r]!;
    let inTainted = 0;
    let fee = 0;
    const isCoinbase = txCoinbase[r] === 1;
    if (isCoinbase) {
      inTainted = Math.min(coinbaseTaint[r]!, outTotal);
    } else {
      for (let k = inStart[r]!, kEnd = inStart[r + 1]!; k < kEnd; k++) {
        const o = inOutput[k]!;
        if (o >= 0 && live[o]! > 0) {
          inTainted += live[o]!;
          live[o] = 0;
        }
      }
      fee = txFee[r]!;
    }
    if (inTainted <= 0) continue;
    let feeShare: number;
    if (poison) {
      for (let o = first; o < end; o++) place(o, outValue[o]!);
      // The whole fee is tainted too (BlockSci): poison does not conserve value.
      feeShare = fee;
    } else {
      const totalIn = outTotal + fee;
      let given = 0;
      for (let o = first; o < end; o++) {
        const value = outValue[o]!;
        // Double rounding can push a share one satoshi over the exact figure: never hand out
        // more than came in (BlockSci does not clamp; on its chain this changes nothing).
        const share = Math.min(Math.trunc((value / totalIn) * inTainted), value, inTainted - given);
        given += share;
        place(o, share);
      }
      feeShare = Math.min(inTainted - given, fee);
      roundingLoss += inTainted - given - feeShare;
    }
    if (feeShare > 0 && !isCoinbase) {
      const cb = feeTaint ? g.coinbaseAt.get(g.height[r]!) : undefined;
      if (cb === undefined) toFees += feeShare;
      else {
        coinbaseTaint[cb] = coinbaseTaint[cb]! + feeShare;
        if (!queued[cb]) {
          queued[cb] = 1;
          queue.push(cb);
        }
      }
    }
  }

  let totalValue = 0;
  let taintedValue = 0;
  let outputCount = 0;
  for (let o = 0; o < live.length; o++) {
    const t = live[o]!;
    if (t <= 0) continue;
    outputCount++;
    totalValue += outValue[o]!;
    taintedValue += t;
  }
  return {
    graph: g,
    live,
    outputCount,
    model: options.model,
    feeTaint,
    maxHeight: Number.isFinite(maxHeight) ? maxHeight : null,
    totalValue,
    taintedValue,
    startValue,
    toFees,
    burned,
    roundingLoss,
    absorbed,
    watched,
    txsVisited,
  };
}

/** Global output numbers of the watched outpoints present in the graph, with their keys. */
function watchedOutputs(
  g: DenseGraph,
  watch: ReadonlySet<string> | undefined,
): Map<number, string> | undefined {
  if (!watch || watch.size === 0) return undefined;
  const at = new Map<number, string>();
  for (const key of watch) {
    const colon = key.lastIndexOf(':');
    const r = g.rankOf.get(key.slice(0, colon));
    const vout = Number(key.slice(colon + 1));
    if (r !== undefined && vout < g.outStart[r + 1]! - g.outStart[r]!)
      at.set(g.outStart[r]! + vout, key);
  }
  return at;
}

/** The tainted outputs still unspent, in chain order (height, position in block, vout). */
export function liveOutputs(g: DenseGraph, live: Float64Array): TaintedOutput[] {
  const outputs: TaintedOutput[] = [];
  for (let r = 0; r < g.txs.length; r++) {
    const first = g.outStart[r]!;
    const end = g.outStart[r + 1]!;
    for (let o = first; o < end; o++) {
      const tainted = live[o]!;
      if (tainted <= 0) continue;
      const tx = g.txs[r]!;
      outputs.push({
        txid: tx.txid,
        vout: o - first,
        height: tx.height,
        value: g.outValue[o]!,
        tainted,
        address: tx.outputs[o - first]!.address,
      });
    }
  }
  return outputs;
}
