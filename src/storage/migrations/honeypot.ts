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
  '20261204_12_honeypot_sensor': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('honeypot_sensor')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .addColumn('last_seen', 'text')
        .addColumn('queue_depth', 'bigint')
        .addColumn('events', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('batches', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('queue_id', 'text')
        .addColumn('last_batch', 'text')
        .execute();
      await db.schema
        .createTable('honeypot_sensor_event')
        .addColumn('sensor', 'text', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('batch', 'text', (c) => c.notNull())
        .addColumn('received_at', 'text', (c) => c.notNull())
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
        .addPrimaryKeyConstraint('honeypot_sensor_event_pk', ['sensor', 'seq'])
        .execute();
      await db.schema
        .createIndex('honeypot_sensor_event_time')
        .on('honeypot_sensor_event')
        .column('time')
        .execute();
      await db.schema
        .createTable('honeypot_sensor_outbox')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('queue_id', 'text', (c) => c.notNull())
        .addColumn('delivered_seq', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
};
