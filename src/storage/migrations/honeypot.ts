/**
 * Migrations of the honeypot area's tables (prefixed `honeypot_`). Owned by the honeypot area.
 * Never edit a landed migration: add a new one. Names: `<yyyymmdd>_<nn>_honeypot_<what>`.
 */
import type { Kysely } from 'kysely';
import { addIdColumn } from './helpers.js';
import type { MigrationSet } from './types.js';

export const honeypotMigrations: MigrationSet = {
  '20261125_01_honeypot_event': {
    async up(db: Kysely<unknown>) {
      await addIdColumn(db.schema.createTable('honeypot_event'), db)
        .addColumn('time', 'text', (c) => c.notNull())
        .addColumn('eventid', 'text', (c) => c.notNull())
        .addColumn('session', 'text', (c) => c.notNull())
        .addColumn('protocol', 'text', (c) => c.notNull())
        .addColumn('src_ip', 'text', (c) => c.notNull())
        .addColumn('src_port', 'integer', (c) => c.notNull())
        .addColumn('dst_port', 'integer', (c) => c.notNull())
        .addColumn('username', 'text')
        .addColumn('password', 'text')
        .addColumn('summary', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('honeypot_event_time')
        .on('honeypot_event')
        .column('time')
        .execute();
      await db.schema
        .createIndex('honeypot_event_src')
        .on('honeypot_event')
        .columns(['src_ip', 'time'])
        .execute();
    },
  },
  '20261125_02_honeypot_run': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('honeypot_run')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('stopped_at', 'text')
        .addColumn('profile', 'text', (c) => c.notNull())
        .addColumn('auth', 'text', (c) => c.notNull())
        .addColumn('bind', 'text', (c) => c.notNull())
        .addColumn('ports', 'text', (c) => c.notNull())
        .execute();
    },
  },
};
