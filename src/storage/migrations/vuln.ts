/**
 * Migrations of the vuln area's tables (prefixed `vuln_`). Owned by the vuln area.
 * Never edit a landed migration: add a new one. Names: `<yyyymmdd>_<nn>_vuln_<what>`.
 */
import { type Kysely, sql } from 'kysely';
import { addIdColumn, INT64, isPostgres } from './helpers.js';
import type { MigrationSet } from './types.js';

export const vulnMigrations: MigrationSet = {
  '20261125_01_vuln_store': {
    async up(db: Kysely<unknown>) {
      await addIdColumn(db.schema.createTable('vuln_advisory'), db)
        .addColumn('primary_id', 'text', (c) => c.notNull().unique())
        .addColumn('created', 'text', (c) => c.notNull())
        .addColumn('updated', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('vuln_alias')
        .addColumn('alias', 'text', (c) => c.primaryKey())
        .addColumn('advisory_id', INT64, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('vuln_alias_advisory')
        .on('vuln_alias')
        .columns(['advisory_id'])
        .execute();
      await addIdColumn(db.schema.createTable('vuln_record'), db)
        .addColumn('advisory_id', INT64, (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('external_id', 'text', (c) => c.notNull())
        .addColumn('title', 'text')
        .addColumn('title_ja', 'text')
        .addColumn('description', 'text')
        .addColumn('description_ja', 'text')
        .addColumn('published', 'text')
        .addColumn('modified', 'text')
        .addColumn('registered', 'text')
        .addColumn('withdrawn', 'text')
        .addColumn('severity', 'text')
        .addColumn('cvss_score10', 'integer')
        .addColumn('cvss_v2', 'text')
        .addColumn('cvss_v3', 'text')
        .addColumn('cvss_v4', 'text')
        .addColumn('cwes', 'text', (c) => c.notNull())
        .addColumn('refs', 'text', (c) => c.notNull())
        .addColumn('aliases', 'text', (c) => c.notNull())
        .addColumn('content_hash', 'text', (c) => c.notNull())
        .addUniqueConstraint('vuln_record_source_external', ['source', 'external_id'])
        .execute();
      await db.schema
        .createIndex('vuln_record_advisory')
        .on('vuln_record')
        .columns(['advisory_id'])
        .execute();
      await db.schema
        .createIndex('vuln_record_registered')
        .on('vuln_record')
        .columns(['source', 'registered'])
        .execute();
      await addIdColumn(db.schema.createTable('vuln_affected'), db)
        .addColumn('record_id', INT64, (c) => c.notNull())
        .addColumn('advisory_id', INT64, (c) => c.notNull())
        .addColumn('ecosystem', 'text', (c) => c.notNull())
        .addColumn('eco_key', 'text', (c) => c.notNull())
        .addColumn('name_key', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('purl', 'text')
        .addColumn('ranges', 'text', (c) => c.notNull())
        .addColumn('versions', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('vuln_affected_pkg')
        .on('vuln_affected')
        .columns(['eco_key', 'name_key'])
        .execute();
      await db.schema
        .createIndex('vuln_affected_record')
        .on('vuln_affected')
        .columns(['record_id'])
        .execute();
      await addIdColumn(db.schema.createTable('vuln_cpe'), db)
        .addColumn('record_id', INT64, (c) => c.notNull())
        .addColumn('advisory_id', INT64, (c) => c.notNull())
        .addColumn('cpe', 'text', (c) => c.notNull())
        .addColumn('vendor', 'text', (c) => c.notNull())
        .addColumn('product', 'text', (c) => c.notNull())
        .addColumn('version_start_including', 'text')
        .addColumn('version_start_excluding', 'text')
        .addColumn('version_end_including', 'text')
        .addColumn('version_end_excluding', 'text')
        .addColumn('vulnerable', 'integer', (c) => c.notNull())
        .addColumn('confidence', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('vuln_cpe_product')
        .on('vuln_cpe')
        .columns(['vendor', 'product'])
        .execute();
      await db.schema
        .createIndex('vuln_cpe_record')
        .on('vuln_cpe')
        .columns(['record_id'])
        .execute();
      await db.schema
        .createTable('vuln_sync_state')
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('vuln_sync_state_pk', ['source', 'key'])
        .execute();
    },
  },
  '20261125_90_vuln_last_check': {
    // Every `vuln check` run (CLI and POST /api/v1/vuln/check) and what it found, kept as
    // history; the newest run is "the last check" other areas (bulletin) read.
    async up(db: Kysely<unknown>) {
      await addIdColumn(db.schema.createTable('vuln_check_run'), db)
        .addColumn('time', 'text', (c) => c.notNull())
        .addColumn('origin', 'text', (c) => c.notNull())
        .addColumn('inventories', 'text', (c) => c.notNull())
        .addColumn('components', 'integer', (c) => c.notNull())
        .addColumn('findings', 'integer', (c) => c.notNull())
        .addColumn('unsupported', 'integer', (c) => c.notNull())
        .execute();
      await addIdColumn(db.schema.createTable('vuln_check_finding'), db)
        .addColumn('run_id', INT64, (c) => c.notNull())
        .addColumn('vuln_id', 'text', (c) => c.notNull())
        .addColumn('aliases', 'text', (c) => c.notNull())
        .addColumn('package_name', 'text', (c) => c.notNull())
        .addColumn('package_version', 'text', (c) => c.notNull())
        .addColumn('ecosystem', 'text', (c) => c.notNull())
        .addColumn('purl', 'text')
        .addColumn('severity', 'text')
        .addColumn('fixed', 'text', (c) => c.notNull())
        .addColumn('confidence', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('vuln_check_finding_run')
        .on('vuln_check_finding')
        .columns(['run_id'])
        .execute();
    },
  },
  '20261126_01_vuln_cpe_platform': {
    // The "running on / with" condition of an NVD CPE match (AND nodes, non-vulnerable
    // platform matches, negated nodes) as JSON in disjunctive normal form; null = none, which
    // is also what rows synced before this migration mean until a re-sync rewrites them.
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('vuln_cpe').addColumn('platform', 'text').execute();
    },
  },
  '20261126_02_vuln_check_conditions': {
    // A recorded finding's open platform conditions (JSON array), as `check` reported them.
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('vuln_check_finding').addColumn('conditions', 'text').execute();
    },
  },
  '20261126_03_vuln_product': {
    // One row per product a record's CPE matches name (record, vendor, product, vulnerable,
    // confidence) with all of that product's match criteria as one JSON array, in place of one
    // row per match: NVD lists a product's version ranges (and Cisco-style version lists, often
    // hundreds) as separate matches of the same product, and `check` looks products up by
    // (vendor, product) anyway. Existing rows are grouped in id order; keys with no value are
    // left out, as the parser leaves them out.
    async up(db: Kysely<unknown>) {
      await addIdColumn(db.schema.createTable('vuln_product'), db)
        .addColumn('record_id', INT64, (c) => c.notNull())
        .addColumn('advisory_id', INT64, (c) => c.notNull())
        .addColumn('vendor', 'text', (c) => c.notNull())
        .addColumn('product', 'text', (c) => c.notNull())
        .addColumn('vulnerable', 'integer', (c) => c.notNull())
        .addColumn('confidence', 'text', (c) => c.notNull())
        .addColumn('matches', 'text', (c) => c.notNull())
        .execute();
      if (isPostgres(db)) {
        await sql`insert into vuln_product
            (record_id, advisory_id, vendor, product, vulnerable, confidence, matches)
          select record_id, min(advisory_id), vendor, product, vulnerable, confidence,
            json_agg(json_strip_nulls(json_build_object(
              'cpe', cpe,
              'versionStartIncluding', version_start_including,
              'versionStartExcluding', version_start_excluding,
              'versionEndIncluding', version_end_including,
              'versionEndExcluding', version_end_excluding,
              'platform', platform::json)) order by id)::text
          from vuln_cpe
          group by record_id, vendor, product, vulnerable, confidence
          order by min(id)`.execute(db);
      } else {
        // json_patch onto {} drops the keys whose value is null (RFC 7396).
        await sql`insert into vuln_product
            (record_id, advisory_id, vendor, product, vulnerable, confidence, matches)
          select record_id, min(advisory_id), vendor, product, vulnerable, confidence,
            json_group_array(json_patch('{}', json_object(
              'cpe', cpe,
              'versionStartIncluding', version_start_including,
              'versionStartExcluding', version_start_excluding,
              'versionEndIncluding', version_end_including,
              'versionEndExcluding', version_end_excluding,
              'platform', json(platform))) order by id)
          from vuln_cpe
          group by record_id, vendor, product, vulnerable, confidence
          order by min(id)`.execute(db);
      }
      await db.schema.dropTable('vuln_cpe').execute();
      await db.schema
        .createIndex('vuln_product_lookup')
        .on('vuln_product')
        .columns(['vendor', 'product'])
        .execute();
      await db.schema
        .createIndex('vuln_product_record')
        .on('vuln_product')
        .columns(['record_id'])
        .execute();
    },
  },
  '20261204_01_vuln_check_coverage': {
    // A recorded run's coverage per ecosystem (JSON, as `check` reported it), so a reader of
    // "the last check" can tell "not affected" from "not covered"; null for earlier runs.
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('vuln_check_run').addColumn('coverage', 'text').execute();
    },
  },
  '20261204_80_vuln_console_indexes': {
    // The console's "most severe, most recent" list walks this small partial index newest
    // first and stops at its LIMIT, instead of reading every record. Written by syncs only
    // for critical and high records that are not withdrawn.
    async up(db: Kysely<unknown>) {
      await sql`create index if not exists vuln_record_severe_published on vuln_record (published)
        where withdrawn is null and severity in ('critical', 'high')`.execute(db);
    },
  },
};
