/**
 * Migrations of the bulletin area's tables (prefixed `bulletin_`). Owned by the bulletin area.
 * Never edit a landed migration: add a new one. Names: `<yyyymmdd>_<nn>_bulletin_<what>`.
 */
import type { MigrationSet } from './types.js';

export const bulletinMigrations: MigrationSet = {};
