/**
 * The taint models as first written, over Maps and objects (commit 0f1f124's
 * src/trace/core/taint.ts, unchanged but for this header): the reference the typed-array
 * implementation is compared with on random graphs.
 *
 * Taint models over a ChainView, after BlockSci's `heuristics/taint.cpp`:
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
import type { OutPointRef } from '../../src/trace/core/block.js';
import { type ChainTx, type ChainView, outpointKey } from '../../src/trace/core/graph.js';

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

/** Blocks are at most 2^21 transactions here; the coinbase sorts last within its block. */
const SLOT = 2 ** 21;
const orderKey = (tx: ChainTx) => tx.height * SLOT + (tx.coinbase ? SLOT - 1 : tx.index);

/** A binary min-heap of order keys (numbers), each with a transaction. */
class Queue {
  private keys: number[] = [];
  private items: ChainTx[] = [];
  get size(): number {
    return this.keys.length;
  }
  push(key: number, tx: ChainTx): void {
    const k = this.keys;
    const it = this.items;
    let i = k.length;
    k.push(key);
    it.push(tx);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (k[p]! <= key) break;
      k[i] = k[p]!;
      it[i] = it[p]!;
      i = p;
    }
    k[i] = key;
    it[i] = tx;
  }
  pop(): ChainTx {
    const k = this.keys;
    const it = this.items;
    const top = it[0]!;
    const lastK = k.pop()!;
    const lastI = it.pop()!;
    const n = k.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && k[r]! < k[l]! ? r : l;
        if (k[c]! >= lastK) break;
        k[i] = k[c]!;
        it[i] = it[c]!;
        i = c;
      }
      k[i] = lastK;
      it[i] = lastI;
    }
    return top;
  }
}

interface Taint {
  tainted: number;
  height: number;
  value: number;
  address: string | null;
}

/**
 * Follow taint forward from the start outputs.
 * @example taint(graph, { model: 'haircut', start: [{ txid, vout: 0 }], feeTaint: true })
 */
export function referenceTaint(view: ChainView, options: TaintOptions): TaintResult {
  const feeTaint = options.feeTaint ?? false;
  const maxHeight = options.maxHeight ?? Number.POSITIVE_INFINITY;
  /** Live (tainted, unspent so far) outputs: per txid, an array indexed by vout. */
  const live = new Map<string, (Taint | undefined)[]>();
  const queue = new Queue();
  const queued = new Set<string>();
  const coinbaseTaint = new Map<number, number>();
  let startValue = 0;
  let toFees = 0;
  let burned = 0;
  let roundingLoss = 0;
  let absorbed = 0;
  const watch = options.watch;
  const watched: Record<string, number> = {};
  let txsVisited = 0;

  const schedule = (txid: string, vout: number) => {
    const by = view.spender(txid, vout);
    if (by === undefined || queued.has(by)) return;
    const tx = view.tx(by);
    if (!tx || tx.height > maxHeight) return;
    queued.add(by);
    queue.push(orderKey(tx), tx);
  };
  const place = (tx: ChainTx, vout: number, tainted: number) => {
    if (tainted <= 0) return;
    const out = tx.outputs[vout]!;
    if (!out.spendable) {
      burned += tainted;
      return;
    }
    let slots = live.get(tx.txid);
    const already = slots?.[vout];
    if (already) {
      // A start output reached again (a start set with an output and its ancestor). BlockSci
      // keeps the first figure; we add, capped at the value, and report the excess.
      const merged = Math.min(out.value, already.tainted + tainted);
      absorbed += already.tainted + tainted - merged;
      already.tainted = merged;
      if (watch) {
        const key = outpointKey(tx.txid, vout);
        if (watch.has(key)) watched[key] = merged;
      }
      return;
    }
    if (watch) {
      const key = outpointKey(tx.txid, vout);
      if (watch.has(key)) watched[key] = tainted;
    }
    if (!slots) {
      slots = [];
      live.set(tx.txid, slots);
    }
    slots[vout] = { tainted, height: tx.height, value: out.value, address: out.address };
    schedule(tx.txid, vout);
  };

  for (const s of options.start) {
    const tx = view.tx(s.txid);
    const out = tx?.outputs[s.vout];
    if (!tx || !out) continue; // the shell checks existence and reports unknown outpoints
    if (live.get(s.txid)?.[s.vout]) continue;
    startValue += out.value;
    place(tx, s.vout, out.value);
  }

  while (queue.size > 0) {
    const tx = queue.pop();
    txsVisited++;
    const outTotal = tx.outputs.reduce((a, o) => a + o.value, 0);
    let inTainted: number;
    let fee: number;
    if (tx.coinbase) {
      inTainted = Math.min(coinbaseTaint.get(tx.height) ?? 0, outTotal);
      fee = 0;
    } else {
      inTainted = 0;
      for (const i of tx.inputs) {
        const slots = live.get(i.txid);
        const t = slots?.[i.vout];
        if (t) {
          inTainted += t.tainted;
          slots![i.vout] = undefined;
        }
      }
      fee = tx.fee ?? 0;
    }
    if (inTainted <= 0) continue;
    let feeShare: number;
    if (options.model === 'poison') {
      tx.outputs.forEach((o, vout) => {
        place(tx, vout, o.value);
      });
      // The whole fee is tainted too (BlockSci): poison does not conserve value.
      feeShare = fee;
    } else {
      const totalIn = outTotal + fee;
      let given = 0;
      tx.outputs.forEach((o, vout) => {
        // Double rounding can push a share one satoshi over the exact figure: never hand out
        // more than came in (BlockSci does not clamp; on its chain this changes nothing).
        const share = Math.min(
          Math.trunc((o.value / totalIn) * inTainted),
          o.value,
          inTainted - given,
        );
        given += share;
        place(tx, vout, share);
      });
      feeShare = Math.min(inTainted - given, fee);
      roundingLoss += inTainted - given - feeShare;
    }
    if (feeShare > 0 && !tx.coinbase) {
      if (feeTaint) {
        const cb = view.coinbaseAt(tx.height);
        coinbaseTaint.set(tx.height, (coinbaseTaint.get(tx.height) ?? 0) + feeShare);
        if (cb && !queued.has(cb.txid)) {
          queued.add(cb.txid);
          queue.push(orderKey(cb), cb);
        } else if (!cb) toFees += feeShare;
      } else toFees += feeShare;
    }
  }

  const outputs: TaintedOutput[] = [];
  for (const [txid, slots] of live) {
    slots.forEach((t, vout) => {
      if (t) {
        outputs.push({
          txid,
          vout,
          height: t.height,
          value: t.value,
          tainted: t.tainted,
          address: t.address,
        });
      }
    });
  }
  outputs.sort(
    (a, b) => a.height - b.height || (a.txid < b.txid ? -1 : a.txid > b.txid ? 1 : a.vout - b.vout),
  );
  return {
    model: options.model,
    feeTaint,
    maxHeight: Number.isFinite(maxHeight) ? maxHeight : null,
    outputs,
    totalValue: outputs.reduce((a, o) => a + o.value, 0),
    taintedValue: outputs.reduce((a, o) => a + o.tainted, 0),
    startValue,
    toFees,
    burned,
    roundingLoss,
    absorbed,
    watched,
    txsVisited,
  };
}
