/**
 * Migrations of the spine's own tables. Never edit a landed migration: add a new one.
 * Migration names are `<yyyymmdd>_<nn>_<area>_<what>`; they run in name order.
 */
import type { Kysely } from 'kysely';
import { addIdColumn } from './helpers.js';
import type { MigrationSet } from './types.js';

export const coreMigrations: MigrationSet = {
  '20261125_00_core_meta': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('mamori_meta')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '20261125_01_core_alert': {
    async up(db: Kysely<unknown>) {
      await addIdColumn(db.schema.createTable('alert'), db)
        .addColumn('time', 'text', (c) => c.notNull())
        .addColumn('area', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('next_step', 'text')
        .addColumn('details', 'text')
        .execute();
      await db.schema.createIndex('alert_time').on('alert').columns(['time']).execute();
    },
  },
};
