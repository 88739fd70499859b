/**
 * Migrations of the custody area's tables (prefixed `custody_`). Owned by the custody area.
 * Never edit a landed migration: add a new one. Names: `<yyyymmdd>_<nn>_custody_<what>`.
 */
import type { MigrationSet } from './types.js';

export const custodyMigrations: MigrationSet = {};
