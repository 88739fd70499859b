/**
 * The transaction graph the taint models walk: transactions in chain order (height, position in
 * block), their outputs with value, and spent-by links. `ChainView` is the narrow interface the
 * models need, so the same models run over an in-memory graph built from block files or over a
 * subgraph loaded from the store. Not a UTXO validator: inputs whose prevout is unknown only
 * make the fee unknown.
 */
import { MamoriError } from '../../shared/errors.js';
import type { OutPointRef, ParsedBlock } from './block.js';
import { compileDense, type DenseGraph } from './dense.js';

export interface ChainOutput {
  value: number;
  spendable: boolean;
  address: string | null;
}

export interface ChainTx {
  txid: string;
  height: number;
  /** Position in its block; the coinbase is 0. */
  index: number;
  coinbase: boolean;
  /** Inputs minus outputs in satoshi; 0 for a coinbase; null when a prevout is unknown. */
  fee: number | null;
  outputs: ChainOutput[];
  /** Spent outpoints, in input order (empty for a coinbase). */
  inputs: OutPointRef[];
}

/** What the taint models read. Synchronous: the shell loads what is needed first. */
export interface ChainView {
  tx(txid: string): ChainTx | undefined;
  /** Txid of the transaction that spends this output, if any (in the view). */
  spender(txid: string, vout: number): string | undefined;
  /** The coinbase of the block at this height. */
  coinbaseAt(height: number): ChainTx | undefined;
}

export function outpointKey(txid: string, vout: number): string {
  return `${txid}:${vout}`;
}

/** Parse `txid:vout`. @example parseOutpoint('ab…cd:0') */
export function parseOutpoint(s: string): OutPointRef {
  const m = /^([0-9a-fA-F]{64}):(\d{1,6})$/.exec(s.trim());
  if (!m) {
    throw new MamoriError('E_INPUT', `not an outpoint: "${s}"`, {
      hint: 'use <64-hex txid>:<vout>',
    });
  }
  return { txid: m[1]!.toLowerCase(), vout: Number(m[2]) };
}

/**
 * An in-memory ChainView. Spent-by links are kept per txid (an array indexed by vout), so a
 * lookup hashes the txid string the transaction already holds instead of building `txid:vout`.
 */
export class TxGraph implements ChainView {
  readonly txs = new Map<string, ChainTx>();
  readonly coinbases = new Map<number, ChainTx>();
  private readonly spent = new Map<string, (string | undefined)[]>();
  /** Number of spent-by links. */
  spends = 0;
  tipHeight = -1;
  private compiled: DenseGraph | undefined;

  add(tx: ChainTx): void {
    this.compiled = undefined;
    this.txs.set(tx.txid, tx);
    if (tx.coinbase) this.coinbases.set(tx.height, tx);
    for (const i of tx.inputs) this.link(i.txid, i.vout, tx.txid);
    if (tx.height > this.tipHeight) this.tipHeight = tx.height;
  }
  /** Record that `by` spends txid:vout. */
  link(txid: string, vout: number, by: string): void {
    this.compiled = undefined;
    let list = this.spent.get(txid);
    if (!list) {
      list = [];
      this.spent.set(txid, list);
    }
    if (list[vout] === undefined) this.spends++;
    list[vout] = by;
  }
  tx(txid: string): ChainTx | undefined {
    return this.txs.get(txid);
  }
  spender(txid: string, vout: number): string | undefined {
    return this.spent.get(txid)?.[vout];
  }
  coinbaseAt(height: number): ChainTx | undefined {
    return this.coinbases.get(height);
  }
  /**
   * The graph compiled for the taint walk, built on first use and kept until `add` or `link`.
   * A transaction's `inputs` changed in place afterwards need `invalidate()`.
   */
  dense(): DenseGraph {
    this.compiled ??= compileDense(this.txs.values(), (txid, vout) => this.spender(txid, vout));
    return this.compiled;
  }
  invalidate(): void {
    this.compiled = undefined;
  }
}

export interface OrderedBlock {
  height: number;
  block: ParsedBlock;
}

/**
 * Order blocks by following prev-hash links from the genesis (prev = all zeros) or from a
 * known parent height. Blocks off the best chain are dropped; a block file can hold blocks
 * out of order.
 * @example orderBlocks(parseBlockFile(bytes).blocks)
 */
export function orderBlocks(blocks: ParsedBlock[], known?: Map<string, number>): OrderedBlock[] {
  const byPrev = new Map<string, ParsedBlock[]>();
  for (const b of blocks) {
    const list = byPrev.get(b.prevHash);
    if (list) list.push(b);
    else byPrev.set(b.prevHash, [b]);
  }
  const roots: OrderedBlock[] = [];
  const hashes = new Set(blocks.map((b) => b.hash));
  for (const b of blocks) {
    if (b.prevHash === '0'.repeat(64)) roots.push({ height: 0, block: b });
    else if (!hashes.has(b.prevHash) && known?.has(b.prevHash))
      roots.push({ height: known.get(b.prevHash)! + 1, block: b });
  }
  if (roots.length === 0) {
    throw new MamoriError('E_INPUT', 'no block connects to the genesis or to a stored block', {
      hint: 'ingest block files in order, starting with blk00000.dat',
    });
  }
  // Longest chain from each root (iterative depth-first, first child on ties).
  let best: OrderedBlock[] = [];
  for (const root of roots) {
    const chain: OrderedBlock[] = [root];
    let cur = root;
    for (;;) {
      const next = byPrev.get(cur.block.hash);
      if (!next || next.length === 0) break;
      cur = { height: cur.height + 1, block: next[0]! };
      chain.push(cur);
    }
    if (chain.length > best.length) best = chain;
  }
  return best;
}

/**
 * Build the in-memory graph from ordered blocks, resolving input values for fees.
 * @example const g = buildGraph(orderBlocks(blocks));
 */
export function buildGraph(ordered: OrderedBlock[], graph = new TxGraph()): TxGraph {
  for (const { height, block } of ordered) {
    block.txs.forEach((t, index) => {
      let fee: number | null = 0;
      if (!t.coinbase) {
        let inSum = 0;
        for (const i of t.inputs) {
          const prev = graph.txs.get(i.prevout!.txid)?.outputs[i.prevout!.vout];
          if (!prev) {
            fee = null;
            break;
          }
          inSum += prev.value;
        }
        if (fee !== null) fee = inSum - t.outputs.reduce((s, o) => s + o.value, 0);
      }
      graph.add({
        txid: t.txid,
        height,
        index,
        coinbase: t.coinbase,
        fee,
        outputs: t.outputs.map((o) => ({
          value: o.value,
          spendable: o.spendable,
          address: o.address,
        })),
        inputs: t.coinbase ? [] : t.inputs.map((i) => i.prevout!),
      });
    });
  }
  return graph;
}
