/**
 * Migrations of the trace area's tables (prefixed `trace_`). Owned by the trace area.
 * Never edit a landed migration: add a new one. Names: `<yyyymmdd>_<nn>_trace_<what>`.
 */
import type { Kysely } from 'kysely';
import { addIdColumn, INT64 } from './helpers.js';
import type { MigrationSet } from './types.js';

export const traceMigrations: MigrationSet = {
  '20261125_01_trace_chain': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('trace_block')
        .addColumn('hash', 'text', (c) => c.primaryKey())
        .addColumn('height', 'integer', (c) => c.notNull())
        .addColumn('prev_hash', 'text', (c) => c.notNull())
        .addColumn('time', 'text', (c) => c.notNull())
        .addColumn('tx_count', 'integer', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('ingested_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('trace_block_height')
        .on('trace_block')
        .column('height')
        .execute();
      await db.schema
        .createTable('trace_tx')
        .addColumn('txid', 'text', (c) => c.primaryKey())
        .addColumn('block_hash', 'text', (c) => c.notNull().references('trace_block.hash'))
        .addColumn('height', 'integer', (c) => c.notNull())
        .addColumn('idx', 'integer', (c) => c.notNull())
        .addColumn('coinbase', 'integer', (c) => c.notNull())
        .addColumn('fee', INT64)
        .addColumn('output_count', 'integer', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('trace_tx_height')
        .on('trace_tx')
        .columns(['height', 'idx'])
        .execute();
      await db.schema
        .createTable('trace_output')
        .addColumn('txid', 'text', (c) => c.notNull().references('trace_tx.txid'))
        .addColumn('vout', 'integer', (c) => c.notNull())
        .addColumn('height', 'integer', (c) => c.notNull())
        .addColumn('value', INT64, (c) => c.notNull())
        .addColumn('address', 'text')
        .addColumn('spendable', 'integer', (c) => c.notNull())
        .addColumn('spent_by_txid', 'text')
        .addColumn('spent_by_vin', 'integer')
        .addPrimaryKeyConstraint('trace_output_pk', ['txid', 'vout'])
        .execute();
      await db.schema
        .createIndex('trace_output_address')
        .on('trace_output')
        .column('address')
        .execute();
      await db.schema
        .createIndex('trace_output_spent_by')
        .on('trace_output')
        .column('spent_by_txid')
        .execute();
      await addIdColumn(db.schema.createTable('trace_tag'), db)
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('label', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('trace_tag_natural', ['kind', 'target', 'label'])
        .execute();
      await db.schema.createIndex('trace_tag_label').on('trace_tag').column('label').execute();
      await addIdColumn(db.schema.createTable('trace_result'), db)
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('fee_taint', 'integer', (c) => c.notNull())
        .addColumn('max_height', 'integer')
        .addColumn('start', 'text', (c) => c.notNull())
        .addColumn('label', 'text')
        .addColumn('output_count', 'integer', (c) => c.notNull())
        .addColumn('total_value', INT64, (c) => c.notNull())
        .addColumn('tainted_value', INT64, (c) => c.notNull())
        .addColumn('outputs', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '20261204_01_trace_screening': {
    async up(db: Kysely<unknown>) {
      await addIdColumn(db.schema.createTable('trace_screening'), db)
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('deposit_value', INT64, (c) => c.notNull())
        .addColumn('tainted_value', INT64, (c) => c.notNull())
        .addColumn('verdict', 'text', (c) => c.notNull())
        .addColumn('labels', 'text', (c) => c.notNull())
        .execute();
    },
  },
};
