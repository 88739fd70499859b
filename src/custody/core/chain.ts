/**
 * The chain-adapter boundary: what custody needs from a chain (tip, blocks' transactions,
 * mempool, broadcast, fee rate), in chain-neutral shapes. Bitcoin Core JSON-RPC and Esplora
 * fill it today (`../chain/`); a second chain (NEM/Symbol) would fill it later. Types only.
 */

export interface ChainTx {
  txid: string;
  /** Spent outpoints (empty for coinbase). */
  vin: { txid: string; vout: number }[];
  /** Outputs: index, value in base units, scriptPubKey hex. */
  vout: { n: number; value: number; script: string }[];
}

export interface ChainAdapter {
  readonly kind: string;
  tipHeight(): Promise<number>;
  /** Hash of the block at a height on the node's best chain. */
  blockHash(height: number): Promise<string>;
  blockAt(height: number): Promise<{ hash: string; txs: ChainTx[] }>;
  mempoolTxids(): Promise<string[]>;
  tx(txid: string): Promise<ChainTx>;
  /** Returns the txid. */
  broadcast(hex: string): Promise<string>;
  /** sat/vB, or undefined when the node has no estimate. */
  feeRate(): Promise<number | undefined>;
}
