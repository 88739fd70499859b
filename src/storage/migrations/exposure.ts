/**
 * Migrations of the exposure area's tables (prefixed `exposure_`). Owned by the exposure area.
 * Never edit a landed migration: add a new one. Names: `<yyyymmdd>_<nn>_exposure_<what>`.
 */
import type { MigrationSet } from './types.js';

export const exposureMigrations: MigrationSet = {};
