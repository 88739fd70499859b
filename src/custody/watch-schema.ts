/**
 * Row types of the watcher's tables (`custody_watch`, `custody_watch_spend`), for Kysely. Types
 * only; the tables are created by migration `20261203_01_custody_watch`. Kept apart from
 * `schema.ts` so the watcher and the rest of custody change without touching each other.
 */

/** One row per watcher: its own chain cursor and its heartbeat. */
export interface CustodyWatchTable {
  name: string;
  /** Last block height whose spends were judged; null before the first scan. */
  cursor_height: number | null;
  /** JSON `{ height: hash }` of the last judged blocks, to notice a reorg below the cursor. */
  cursor_hashes: string;
  started_at: string;
  stopped_at: string | null;
  last_poll_at: string;
  last_ok_at: string | null;
  tip_height: number | null;
  tip_changed_at: string | null;
  blind_since: string | null;
  blind_reason: string | null;
  blind_after_ms: number;
  polls: number;
  last_error: string | null;
}

/** Every transaction seen spending our coins, with the watcher's verdict. */
export interface CustodyWatchSpendTable {
  txid: string;
  /** `withdrawal` | `replacement` | `unapproved` */
  verdict: string;
  matched_txid: string | null;
  reason: string | null;
  /** JSON array of the outpoints of ours it spends. */
  coins: string;
  height: number | null;
  first_seen_at: string;
  alerted_at: string | null;
}

export interface CustodyWatchTables {
  custody_watch: CustodyWatchTable;
  custody_watch_spend: CustodyWatchSpendTable;
}
