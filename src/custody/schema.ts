/**
 * Row types of the custody area's tables (all prefixed `custody_`), for Kysely. Types only.
 * The tables themselves are created by `src/storage/migrations/custody.ts`.
 */

/** Add one property per table: `custody_example: CustodyExampleTable`. */
export type CustodyTables = Record<never, never>;
