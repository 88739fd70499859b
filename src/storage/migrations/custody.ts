/**
 * Migrations of the custody area's tables (prefixed `custody_`). Owned by the custody area.
 * Never edit a landed migration: add a new one. Names: `<yyyymmdd>_<nn>_custody_<what>`.
 * Amounts are satoshi integers (bigint), times ISO-8601 UTC text. Only public keys and at most
 * one encrypted hot cosigner key file per wallet are kept here, never a key in clear.
 */
import type { Kysely } from 'kysely';
import { addIdColumn, INT64 } from './helpers.js';
import type { MigrationSet } from './types.js';

export const custodyMigrations: MigrationSet = {
  '20261125_01_custody_wallet': {
    async up(db: Kysely<unknown>) {
      await addIdColumn(db.schema.createTable('custody_wallet'), db)
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('tier', 'text', (c) => c.notNull())
        .addColumn('network', 'text', (c) => c.notNull())
        .addColumn('threshold', 'integer', (c) => c.notNull())
        .addColumn('cosigners', 'integer', (c) => c.notNull())
        .addColumn('descriptor', 'text', (c) => c.notNull())
        .addColumn('hot_key', 'text')
        .addColumn('next_receive', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_change', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('gap_limit', 'integer', (c) => c.notNull().defaultTo(20))
        .addColumn('float_cap', INT64)
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await addIdColumn(db.schema.createTable('custody_address'), db)
        .addColumn('wallet_id', INT64, (c) => c.notNull())
        .addColumn('branch', 'integer', (c) => c.notNull())
        .addColumn('idx', 'integer', (c) => c.notNull())
        .addColumn('address', 'text', (c) => c.notNull().unique())
        .addColumn('script', 'text', (c) => c.notNull())
        .addColumn('label', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('custody_address_wallet_branch_idx', ['wallet_id', 'branch', 'idx'])
        .execute();
      await addIdColumn(db.schema.createTable('custody_utxo'), db)
        .addColumn('wallet_id', INT64, (c) => c.notNull())
        .addColumn('txid', 'text', (c) => c.notNull())
        .addColumn('vout', 'integer', (c) => c.notNull())
        .addColumn('value', INT64, (c) => c.notNull())
        .addColumn('address', 'text', (c) => c.notNull())
        .addColumn('height', 'integer')
        .addColumn('spent_txid', 'text')
        .addColumn('spent_height', 'integer')
        .addColumn('seen_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('custody_utxo_outpoint', ['txid', 'vout'])
        .execute();
      await db.schema
        .createTable('custody_policy')
        .addColumn('wallet_id', INT64, (c) => c.primaryKey())
        .addColumn('rules', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await addIdColumn(db.schema.createTable('custody_withdrawal'), db)
        .addColumn('wallet_id', INT64, (c) => c.notNull())
        .addColumn('to_address', 'text', (c) => c.notNull())
        .addColumn('amount', INT64, (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('decision', 'text', (c) => c.notNull())
        .addColumn('requested_by', 'text', (c) => c.notNull())
        .addColumn('requested_at', 'text', (c) => c.notNull())
        .addColumn('eligible_at', 'text')
        .addColumn('psbt_id', INT64)
        .addColumn('txid', 'text')
        .execute();
      await addIdColumn(db.schema.createTable('custody_approval'), db)
        .addColumn('withdrawal_id', INT64, (c) => c.notNull())
        .addColumn('approver', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addUniqueConstraint('custody_approval_once', ['withdrawal_id', 'approver'])
        .execute();
      await addIdColumn(db.schema.createTable('custody_psbt'), db)
        .addColumn('wallet_id', INT64, (c) => c.notNull())
        .addColumn('txid', 'text', (c) => c.notNull().unique())
        .addColumn('psbt', 'text', (c) => c.notNull())
        .addColumn('withdrawal_ids', 'text', (c) => c.notNull())
        .addColumn('fee', INT64, (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('custody_state')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('custody_audit')
        .addColumn('seq', INT64, (c) => c.primaryKey())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('prev_hash', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '20261203_01_custody_watch': {
    // The watcher's own chain cursor and heartbeat (one row per watcher name), and every spend
    // of our coins it has judged, so that an alert is raised once even across restarts.
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('custody_watch')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('cursor_height', 'integer')
        .addColumn('cursor_hashes', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('stopped_at', 'text')
        .addColumn('last_poll_at', 'text', (c) => c.notNull())
        .addColumn('last_ok_at', 'text')
        .addColumn('tip_height', 'integer')
        .addColumn('tip_changed_at', 'text')
        .addColumn('blind_since', 'text')
        .addColumn('blind_reason', 'text')
        .addColumn('blind_after_ms', 'integer', (c) => c.notNull())
        .addColumn('polls', INT64, (c) => c.notNull())
        .addColumn('last_error', 'text')
        .execute();
      await db.schema
        .createTable('custody_watch_spend')
        .addColumn('txid', 'text', (c) => c.primaryKey())
        .addColumn('verdict', 'text', (c) => c.notNull())
        .addColumn('matched_txid', 'text')
        .addColumn('reason', 'text')
        .addColumn('coins', 'text', (c) => c.notNull())
        .addColumn('height', 'integer')
        .addColumn('first_seen_at', 'text', (c) => c.notNull())
        .addColumn('alerted_at', 'text')
        .execute();
    },
  },
  '20261203_01_custody_trust': {
    // Signed authority: the genesis a wallet is bound to, the chain of admin-signed policy
    // versions, signed withdrawal statements and approvals, signed audit entries, and the hot
    // signer's own ledger of what it signed.
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('custody_genesis')
        .addColumn('hash', 'text', (c) => c.primaryKey())
        .addColumn('document', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.alterTable('custody_wallet').addColumn('genesis_hash', 'text').execute();
      await addIdColumn(db.schema.createTable('custody_policy_version'), db)
        .addColumn('wallet_id', INT64, (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('document', 'text', (c) => c.notNull())
        .addColumn('applied_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('custody_policy_version_once', ['wallet_id', 'version'])
        .execute();
      await db.schema.alterTable('custody_withdrawal').addColumn('statement', 'text').execute();
      await db.schema.alterTable('custody_withdrawal').addColumn('request_sig', 'text').execute();
      await db.schema.alterTable('custody_approval').addColumn('sig', 'text').execute();
      await db.schema.alterTable('custody_audit').addColumn('sig', 'text').execute();
      await addIdColumn(db.schema.createTable('custody_hot_ledger'), db)
        .addColumn('wallet', 'text', (c) => c.notNull())
        .addColumn('txid', 'text', (c) => c.notNull().unique())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('payouts', INT64, (c) => c.notNull())
        .addColumn('sweeps', INT64, (c) => c.notNull())
        .execute();
    },
  },
  '20261204_02_custody_balance_snapshots': {
    async up(db: Kysely<unknown>) {
      await addIdColumn(db.schema.createTable('custody_balance_snapshot'), db)
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('height', 'integer', (c) => c.notNull())
        .addColumn('wallet', 'text', (c) => c.notNull())
        .addColumn('tier', 'text', (c) => c.notNull())
        .addColumn('confirmed', INT64, (c) => c.notNull())
        .addColumn('unconfirmed', INT64, (c) => c.notNull())
        .addColumn('float_cap', INT64)
        .execute();
      await db.schema
        .createIndex('custody_balance_snapshot_wallet_at')
        .on('custody_balance_snapshot')
        .columns(['wallet', 'at'])
        .execute();
    },
  },
  '20261204_03_custody_coinbase': {
    // Whether a coin is a coinbase output (immature for 100 blocks): null for coins recorded
    // before this, which coin selection treats as possibly a coinbase.
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('custody_utxo').addColumn('coinbase', 'integer').execute();
    },
  },
  '20261204_90_custody_withdrawal_outputs': {
    // A batch request (one signed statement, several payees) keeps its payees here.
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('custody_withdrawal').addColumn('outputs', 'text').execute();
    },
  },
};
