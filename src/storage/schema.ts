/**
 * Table types for Kysely. Each area owns its tables (prefixed with its name) and declares their
 * row types in `src/<area>/schema.ts`; this file joins them into one `Database`.
 * Not migrations: those are in `migrations/` and are never edited once landed.
 */
import type { Generated } from 'kysely';
import type { AreaTables } from './area-tables.js';

/** Shared alert sink (DESIGN.md "Alerts"). */
export interface AlertTable {
  id: Generated<number>;
  time: string;
  area: string;
  kind: string;
  severity: string;
  message: string;
  next_step: string | null;
  details: string | null;
}

/** Small key/value table for the store's own facts (created_by version, instance id …). */
export interface MetaTable {
  key: string;
  value: string;
}

export interface CoreTables {
  mamori_meta: MetaTable;
  alert: AlertTable;
}

export type Database = CoreTables & AreaTables;
