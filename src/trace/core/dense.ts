/**
 * The transaction graph compiled for the taint walk: every transaction gets a rank in chain
 * order (height, position, the coinbase last in its block), and outputs, inputs and spent-by
 * links become flat typed arrays indexed by rank and by a global output number. The models then
 * touch no Map and allocate nothing per output while they run. Built once per `TxGraph` and kept
 * until the graph changes. Not a store: txids and addresses stay strings, looked up only to
 * report the result.
 */
import type { ChainTx } from './graph.js';

/** Blocks are at most 2^21 transactions here; the coinbase sorts last within its block. */
const SLOT = 2 ** 21;
const orderKey = (tx: ChainTx) => tx.height * SLOT + (tx.coinbase ? SLOT - 1 : tx.index);

export interface DenseGraph {
  /** Transactions in chain order. */
  readonly txs: readonly ChainTx[];
  /** Rank of each txid. */
  readonly rankOf: ReadonlyMap<string, number>;
  readonly height: Int32Array;
  readonly coinbase: Uint8Array;
  /** Fee in satoshi; 0 when a prevout is unknown (no taint can be paid to an unknown fee). */
  readonly fee: Float64Array;
  /** Sum of the output values of each rank. */
  readonly outTotal: Float64Array;
  /** Outputs of rank r are outStart[r] … outStart[r + 1] - 1. */
  readonly outStart: Int32Array;
  readonly outValue: Float64Array;
  readonly outSpendable: Uint8Array;
  /** Rank of the spending transaction, or -1 (unspent, or its spender is not in the graph). */
  readonly outSpender: Int32Array;
  /** Inputs of rank r are inStart[r] … inStart[r + 1] - 1, each a global output number or -1. */
  readonly inStart: Int32Array;
  readonly inOutput: Int32Array;
  /** Rank of the coinbase at each height present. */
  readonly coinbaseAt: ReadonlyMap<number, number>;
}

/**
 * Compile transactions (any order) and their spent-by links into a DenseGraph.
 * @example const d = compileDense([...graph.txs.values()], (txid, vout) => graph.spender(txid, vout));
 */
export function compileDense(
  all: Iterable<ChainTx>,
  spender: (txid: string, vout: number) => string | undefined,
): DenseGraph {
  const txs = [...all];
  const keys = new Float64Array(txs.length);
  txs.forEach((t, i) => {
    keys[i] = orderKey(t);
  });
  const order = Array.from({ length: txs.length }, (_, i) => i).sort(
    (a, b) => keys[a]! - keys[b]! || (txs[a]!.txid < txs[b]!.txid ? -1 : 1),
  );
  const sorted = order.map((i) => txs[i]!);
  const n = sorted.length;
  const rankOf = new Map<string, number>();
  const height = new Int32Array(n);
  const coinbase = new Uint8Array(n);
  const fee = new Float64Array(n);
  const outStart = new Int32Array(n + 1);
  const inStart = new Int32Array(n + 1);
  const coinbaseAt = new Map<number, number>();
  let outputs = 0;
  let inputs = 0;
  sorted.forEach((t, r) => {
    rankOf.set(t.txid, r);
    height[r] = t.height;
    coinbase[r] = t.coinbase ? 1 : 0;
    fee[r] = t.fee ?? 0;
    if (t.coinbase) coinbaseAt.set(t.height, r);
    outStart[r] = outputs;
    inStart[r] = inputs;
    outputs += t.outputs.length;
    inputs += t.inputs.length;
  });
  outStart[n] = outputs;
  inStart[n] = inputs;
  const outValue = new Float64Array(outputs);
  const outTotal = new Float64Array(n);
  const outSpendable = new Uint8Array(outputs);
  const outSpender = new Int32Array(outputs).fill(-1);
  const inOutput = new Int32Array(inputs).fill(-1);
  sorted.forEach((t, r) => {
    const base = outStart[r]!;
    t.outputs.forEach((o, vout) => {
      outValue[base + vout] = o.value;
      outTotal[r] = outTotal[r]! + o.value;
      outSpendable[base + vout] = o.spendable ? 1 : 0;
      const by = spender(t.txid, vout);
      if (by !== undefined) outSpender[base + vout] = rankOf.get(by) ?? -1;
    });
    const inBase = inStart[r]!;
    t.inputs.forEach((i, k) => {
      const prev = rankOf.get(i.txid);
      if (prev !== undefined && i.vout < outStart[prev + 1]! - outStart[prev]!)
        inOutput[inBase + k] = outStart[prev]! + i.vout;
    });
  });
  return {
    txs: sorted,
    rankOf,
    height,
    coinbase,
    fee,
    outTotal,
    outStart,
    outValue,
    outSpendable,
    outSpender,
    inStart,
    inOutput,
    coinbaseAt,
  };
}

/**
 * Ranks waiting to be visited, popped in increasing order. Taint only flows forward in chain
 * order, so a sweep over a bitset finds the next rank; a push behind the sweep moves it back,
 * which keeps it correct for any input.
 */
export class RankQueue {
  private readonly bits: Uint32Array;
  private cursor = 0;
  size = 0;
  constructor(n: number) {
    this.bits = new Uint32Array((n >>> 5) + 1);
  }
  push(rank: number): void {
    const w = rank >>> 5;
    const m = 1 << (rank & 31);
    const word = this.bits[w]!;
    if (word & m) return;
    this.bits[w] = word | m;
    this.size++;
    if (w < this.cursor) this.cursor = w;
  }
  pop(): number {
    const bits = this.bits;
    let w = this.cursor;
    while (bits[w] === 0) w++;
    this.cursor = w;
    const word = bits[w]!;
    const low = word & -word;
    bits[w] = word ^ low;
    this.size--;
    return (w << 5) + 31 - Math.clz32(low);
  }
}
