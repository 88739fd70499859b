/**
 * Migrations of the guard area's tables (prefixed `guard_`). Owned by the guard area.
 * Never edit a landed migration: add a new one. Names: `<yyyymmdd>_<nn>_guard_<what>`.
 */
import type { Kysely } from 'kysely';
import { addIdColumn } from './helpers.js';
import type { MigrationSet } from './types.js';

export const guardMigrations: MigrationSet = {
  '20261204_01_guard_match': {
    async up(db: Kysely<unknown>) {
      await addIdColumn(db.schema.createTable('guard_match'), db)
        .addColumn('request_id', 'text', (c) => c.notNull())
        .addColumn('time', 'text', (c) => c.notNull())
        .addColumn('rule_id', 'integer', (c) => c.notNull())
        .addColumn('phase', 'integer', (c) => c.notNull())
        .addColumn('msg', 'text', (c) => c.notNull())
        .addColumn('matched_var', 'text', (c) => c.notNull())
        .addColumn('matched_data', 'text', (c) => c.notNull())
        .addColumn('data_length', 'integer', (c) => c.notNull())
        .addColumn('anomaly_score', 'integer', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('client', 'text', (c) => c.notNull())
        .addColumn('method', 'text', (c) => c.notNull())
        .addColumn('path', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('guard_match_time').on('guard_match').column('time').execute();
      await db.schema
        .createIndex('guard_match_rule')
        .on('guard_match')
        .columns(['rule_id', 'time'])
        .execute();
      await db.schema
        .createIndex('guard_match_client')
        .on('guard_match')
        .columns(['client', 'time'])
        .execute();
      await db.schema
        .createIndex('guard_match_request')
        .on('guard_match')
        .column('request_id')
        .execute();
    },
  },
};
