/**
 * Row types of the bulletin area's tables (all prefixed `bulletin_`), for Kysely. Types only.
 * The tables themselves are created by `src/storage/migrations/bulletin.ts`.
 */

/** Add one property per table: `bulletin_example: BulletinExampleTable`. */
export type BulletinTables = Record<never, never>;
