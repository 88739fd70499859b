/**
 * Row types of the guard area's tables (prefixed `guard_`), for Kysely. Types only.
 * The tables themselves are created by `src/storage/migrations/guard.ts`.
 */
import type { Generated } from 'kysely';

/** One rule match seen by `mamori guard proxy` (one request may have several). */
export interface GuardMatchTable {
  id: Generated<number>;
  /** The proxy's request id (also the `x-request-id` of a blocked answer). */
  request_id: string;
  /** ISO-8601 UTC, when the request arrived. */
  time: string;
  rule_id: number;
  /** SecLang phase the rule ran in (1, 2 request; 3, 4 response). */
  phase: number;
  msg: string;
  /** e.g. `ARGS:id`, `RESPONSE_BODY`. */
  matched_var: string;
  /** Escaped (control characters as \xNN) and cut to 512 characters. */
  matched_data: string;
  /** Length in characters of the matched data before it was cut. */
  data_length: number;
  anomaly_score: number;
  action: 'blocked' | 'logged';
  client: string;
  method: string;
  /** Request path without the query string, escaped and cut to 1,024 characters. */
  path: string;
}

export interface GuardTables {
  guard_match: GuardMatchTable;
}
