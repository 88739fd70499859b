/**
 * Migrations of the trace area's tables (prefixed `trace_`). Owned by the trace area.
 * Never edit a landed migration: add a new one. Names: `<yyyymmdd>_<nn>_trace_<what>`.
 */
import type { MigrationSet } from './types.js';

export const traceMigrations: MigrationSet = {};
