/**
 * Migrations of the jobs area's tables (prefixed `jobs_`). Owned by the jobs area.
 * Never edit a landed migration: add a new one. Names: `<yyyymmdd>_<nn>_jobs_<what>`.
 */
import type { Kysely } from 'kysely';
import type { MigrationSet } from './types.js';

export const jobsMigrations: MigrationSet = {
  '20261203_01_jobs_schedule_workers': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('jobs_schedule')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('every_seconds', 'integer', (c) => c.notNull())
        .addColumn('args', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('jobs_schedule_run')
        .addColumn('schedule_id', 'text', (c) => c.notNull())
        .addColumn('slot', 'bigint', (c) => c.notNull())
        .addColumn('claimed_by', 'text', (c) => c.notNull())
        .addColumn('claimed_at', 'text', (c) => c.notNull())
        .addColumn('job_id', 'text')
        .addPrimaryKeyConstraint('jobs_schedule_run_pk', ['schedule_id', 'slot'])
        .execute();
      await db.schema
        .createTable('jobs_worker')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('host', 'text', (c) => c.notNull())
        .addColumn('pid', 'integer', (c) => c.notNull())
        .addColumn('queues', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('last_seen', 'text', (c) => c.notNull())
        .addColumn('stopped_at', 'text')
        .addColumn('jobs_done', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('jobs_failed', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    },
  },
};
