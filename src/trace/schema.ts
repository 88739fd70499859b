/**
 * Row types of the trace area's tables (all prefixed `trace_`), for Kysely. Types only.
 * The tables themselves are created by `src/storage/migrations/trace.ts`.
 * Amounts are satoshi in `bigint` columns: pg returns them as strings, SQLite as numbers, so
 * readers convert with Number() (exact: every amount is below 2^53).
 */
import type { Generated } from 'kysely';

type Int64 = number | string | bigint;

export interface TraceBlockTable {
  hash: string;
  height: number;
  prev_hash: string;
  time: string;
  tx_count: number;
  /** Where it came from: a file name or a node URL (without credentials). */
  source: string;
  ingested_at: string;
}

export interface TraceTxTable {
  txid: string;
  block_hash: string;
  height: number;
  /** Position in the block; 0 is the coinbase. */
  idx: number;
  coinbase: number;
  /** Null when an input's prevout is not in the store. */
  fee: Int64 | null;
  output_count: number;
}

export interface TraceOutputTable {
  txid: string;
  vout: number;
  height: number;
  value: Int64;
  address: string | null;
  spendable: number;
  spent_by_txid: string | null;
  spent_by_vin: number | null;
}

export interface TraceTagTable {
  id: Generated<number>;
  /** 'outpoint' (target = txid:vout) or 'address'. */
  kind: string;
  target: string;
  label: string;
  source: string;
  created_at: string;
}

export interface TraceResultTable {
  id: Generated<number>;
  created_at: string;
  model: string;
  fee_taint: number;
  max_height: number | null;
  /** JSON: the start outpoints, or the label they came from. */
  start: string;
  label: string | null;
  output_count: number;
  total_value: Int64;
  tainted_value: Int64;
  /** JSON: the reached outputs. */
  outputs: string;
}

/** One deposit screened through the console or the API (the screening log). */
export interface TraceScreeningTable {
  id: Generated<number>;
  created_at: string;
  /** Who asked: the signed-in user or the token's label. */
  actor: string;
  target: string;
  kind: string;
  model: string;
  deposit_value: Int64;
  tainted_value: Int64;
  verdict: string;
  /** JSON: the labels that reached the deposit, with their tainted value. */
  labels: string;
}

export interface TraceTables {
  trace_block: TraceBlockTable;
  trace_tx: TraceTxTable;
  trace_output: TraceOutputTable;
  trace_tag: TraceTagTable;
  trace_result: TraceResultTable;
  trace_screening: TraceScreeningTable;
}
