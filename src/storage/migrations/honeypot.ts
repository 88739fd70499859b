/**
 * Migrations of the honeypot area's tables (prefixed `honeypot_`). Owned by the honeypot area.
 * Never edit a landed migration: add a new one. Names: `<yyyymmdd>_<nn>_honeypot_<what>`.
 */
import type { MigrationSet } from './types.js';

export const honeypotMigrations: MigrationSet = {};
