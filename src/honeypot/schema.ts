/**
 * Row types of the honeypot area's tables (all prefixed `honeypot_`), for Kysely. Types only.
 * The tables themselves are created by `src/storage/migrations/honeypot.ts`.
 */

/** Add one property per table: `honeypot_example: HoneypotExampleTable`. */
export type HoneypotTables = Record<never, never>;
