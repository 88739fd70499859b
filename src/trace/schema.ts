/**
 * Row types of the trace area's tables (all prefixed `trace_`), for Kysely. Types only.
 * The tables themselves are created by `src/storage/migrations/trace.ts`.
 */

/** Add one property per table: `trace_example: TraceExampleTable`. */
export type TraceTables = Record<never, never>;
