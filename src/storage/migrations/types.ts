/** The shape of one area's migrations. */
import type { Migration } from 'kysely';

export type MigrationSet = Record<string, Migration>;
