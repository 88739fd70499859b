/**
 * Migrations of the vuln area's tables (prefixed `vuln_`). Owned by the vuln area.
 * Never edit a landed migration: add a new one. Names: `<yyyymmdd>_<nn>_vuln_<what>`.
 */
import type { MigrationSet } from './types.js';

export const vulnMigrations: MigrationSet = {};
