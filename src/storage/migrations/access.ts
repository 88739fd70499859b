/**
 * Migrations of the access area's tables (prefixed `access_`): console users, tokens, sessions,
 * sign-in failures, the audit trail and alert triage. Never edit a landed migration: add a new one.
 */
import type { Kysely } from 'kysely';
import { addIdColumn } from './helpers.js';
import type { MigrationSet } from './types.js';

export const accessMigrations: MigrationSet = {
  '20261203_01_access_users_tokens_sessions': {
    async up(db: Kysely<unknown>) {
      await addIdColumn(db.schema.createTable('access_user'), db)
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('must_change', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('password_changed_at', 'text', (c) => c.notNull())
        .addColumn('disabled_at', 'text')
        .execute();
      await addIdColumn(db.schema.createTable('access_token'), db)
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('label', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .addColumn('last_used_at', 'text')
        .execute();
      await db.schema
        .createTable('access_session')
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'integer', (c) => c.notNull())
        .addColumn('csrf', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('last_seen_at', 'text', (c) => c.notNull())
        .execute();
      await addIdColumn(db.schema.createTable('access_login_failure'), db)
        .addColumn('time', 'text', (c) => c.notNull())
        .addColumn('user_name', 'text', (c) => c.notNull())
        .addColumn('client', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('access_login_failure_name')
        .on('access_login_failure')
        .columns(['user_name', 'time'])
        .execute();
      await db.schema
        .createIndex('access_login_failure_client')
        .on('access_login_failure')
        .columns(['client', 'time'])
        .execute();
      await addIdColumn(db.schema.createTable('access_audit'), db)
        .addColumn('time', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target', 'text')
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('client', 'text')
        .execute();
      await db.schema
        .createTable('access_alert_state')
        .addColumn('alert_id', 'integer', (c) => c.primaryKey())
        .addColumn('acknowledged_by', 'text')
        .addColumn('acknowledged_at', 'text')
        .addColumn('assignee', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '20261204_01_access_passkeys': {
    async up(db: Kysely<unknown>) {
      await addIdColumn(db.schema.createTable('access_passkey'), db)
        .addColumn('user_id', 'integer', (c) => c.notNull())
        .addColumn('label', 'text', (c) => c.notNull())
        .addColumn('credential_id', 'text', (c) => c.notNull().unique())
        .addColumn('public_key_cose', 'text', (c) => c.notNull())
        .addColumn('public_key', 'text', (c) => c.notNull())
        .addColumn('identity_id', 'text', (c) => c.notNull().unique())
        .addColumn('rp_id', 'text', (c) => c.notNull())
        .addColumn('sign_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('access_passkey_challenge')
        .addColumn('user_id', 'integer', (c) => c.primaryKey())
        .addColumn('challenge', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
};
