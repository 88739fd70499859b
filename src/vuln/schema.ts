/**
 * Row types of the vuln area's tables (all prefixed `vuln_`), for Kysely. Types only.
 * The tables themselves are created by `src/storage/migrations/vuln.ts`.
 */

/** Add one property per table: `vuln_example: VulnExampleTable`. */
export type VulnTables = Record<never, never>;
