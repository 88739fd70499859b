/**
 * Row types of the exposure area's tables (all prefixed `exposure_`), for Kysely. Types only.
 * The tables themselves are created by `src/storage/migrations/exposure.ts`.
 */

/** Add one property per table: `exposure_example: ExposureExampleTable`. */
export type ExposureTables = Record<never, never>;
