/**
 * Migrations of the exposure area's tables (prefixed `exposure_`). Owned by the exposure area.
 * Never edit a landed migration: add a new one. Names: `<yyyymmdd>_<nn>_exposure_<what>`.
 * Full text: FTS5 (external content, kept by triggers) on SQLite; a stored tsvector with a GIN
 * index on PostgreSQL.
 */
import { type Kysely, sql } from 'kysely';
import { addIdColumn, INT64, isPostgres } from './helpers.js';
import type { MigrationSet } from './types.js';

export const exposureMigrations: MigrationSet = {
  '20261125_01_exposure_scope': {
    async up(db: Kysely<unknown>) {
      await addIdColumn(db.schema.createTable('exposure_scope'), db)
        .addColumn('cidr', 'text', (c) => c.notNull().unique())
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('allow_credentials', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '20261125_02_exposure_scan': {
    async up(db: Kysely<unknown>) {
      await addIdColumn(db.schema.createTable('exposure_scan'), db)
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('finished_at', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('targets', 'text', (c) => c.notNull())
        .addColumn('ports', 'text', (c) => c.notNull())
        .addColumn('options', 'text', (c) => c.notNull())
        .addColumn('next_index', INT64, (c) => c.notNull().defaultTo(0))
        .addColumn('total', INT64, (c) => c.notNull().defaultTo(0))
        .addColumn('open_count', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await addIdColumn(db.schema.createTable('exposure_banner'), db)
        .addColumn('scan_id', INT64, (c) => c.notNull().references('exposure_scan.id'))
        .addColumn('ip', 'text', (c) => c.notNull())
        .addColumn('ip_key', 'text', (c) => c.notNull())
        .addColumn('port', 'integer', (c) => c.notNull())
        .addColumn('transport', 'text', (c) => c.notNull())
        .addColumn('protocol', 'text')
        .addColumn('banner', 'text', (c) => c.notNull())
        .addColumn('banner_b64', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('seen', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('exposure_banner_scan')
        .on('exposure_banner')
        .columns(['scan_id', 'ip_key', 'port'])
        .execute();
    },
  },
  '20261125_03_exposure_service': {
    async up(db: Kysely<unknown>) {
      await addIdColumn(db.schema.createTable('exposure_service'), db)
        .addColumn('ip', 'text', (c) => c.notNull())
        .addColumn('ip_key', 'text', (c) => c.notNull())
        .addColumn('port', 'integer', (c) => c.notNull())
        .addColumn('transport', 'text', (c) => c.notNull())
        .addColumn('protocol', 'text')
        .addColumn('vendor', 'text')
        .addColumn('product', 'text')
        .addColumn('version', 'text')
        .addColumn('device_type', 'text')
        .addColumn('cpe', 'text')
        .addColumn('title', 'text')
        .addColumn('http_status', 'integer')
        .addColumn('cert_cn', 'text')
        .addColumn('auth_required', 'integer')
        .addColumn('banner', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('first_seen', 'text', (c) => c.notNull())
        .addColumn('last_seen', 'text', (c) => c.notNull())
        .addColumn('scan_id', INT64, (c) => c.notNull())
        .addUniqueConstraint('exposure_service_key', ['ip_key', 'port', 'transport'])
        .execute();
      // the camera question (port:554 has_auth:false) as one index range
      await db.schema
        .createIndex('exposure_service_port_auth')
        .on('exposure_service')
        .columns(['port', 'auth_required'])
        .execute();
      for (const col of ['product', 'vendor', 'last_seen', 'http_status']) {
        await db.schema
          .createIndex(`exposure_service_${col}`)
          .on('exposure_service')
          .column(col)
          .execute();
      }
      // search compares these case-insensitively: index the lower-cased value (both backends)
      for (const col of ['product', 'vendor', 'device_type', 'cert_cn', 'protocol']) {
        await sql`create index ${sql.raw(`exposure_service_lower_${col}`)} on exposure_service (lower(${sql.ref(col)}))`.execute(
          db,
        );
      }
      if (isPostgres(db)) {
        await sql`alter table exposure_service add column tsv tsvector generated always as
          (to_tsvector('simple', coalesce(banner, '') || ' ' || coalesce(title, ''))) stored`.execute(
          db,
        );
        await sql`create index exposure_service_tsv on exposure_service using gin (tsv)`.execute(
          db,
        );
      } else {
        await sql`create virtual table exposure_service_fts using fts5(banner, title,
          content='exposure_service', content_rowid='id', tokenize='unicode61')`.execute(db);
        await sql`create trigger exposure_service_ai after insert on exposure_service begin
          insert into exposure_service_fts(rowid, banner, title) values (new.id, new.banner, coalesce(new.title, ''));
        end`.execute(db);
        await sql`create trigger exposure_service_ad after delete on exposure_service begin
          insert into exposure_service_fts(exposure_service_fts, rowid, banner, title) values ('delete', old.id, old.banner, coalesce(old.title, ''));
        end`.execute(db);
        await sql`create trigger exposure_service_au after update on exposure_service begin
          insert into exposure_service_fts(exposure_service_fts, rowid, banner, title) values ('delete', old.id, old.banner, coalesce(old.title, ''));
          insert into exposure_service_fts(rowid, banner, title) values (new.id, new.banner, coalesce(new.title, ''));
        end`.execute(db);
      }
      await addIdColumn(db.schema.createTable('exposure_finding'), db)
        .addColumn('ip', 'text', (c) => c.notNull())
        .addColumn('port', 'integer', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('detail', 'text', (c) => c.notNull())
        .addColumn('time', 'text', (c) => c.notNull())
        .addUniqueConstraint('exposure_finding_key', ['ip', 'port', 'kind'])
        .execute();
    },
  },
  '20261125_90_exposure_search_indexes': {
    // search orders by newest (id desc) with a LIMIT: (port, id) lets `port:N` walk the index
    // backwards instead of sorting every match; (lower(x), port) answers `product:x -port:N`
    // and its count from the index alone; (http_status, last_seen) does the same for
    // `http.status:N after:D`.
    async up(db: Kysely<unknown>) {
      await db.schema
        .createIndex('exposure_service_port_id')
        .on('exposure_service')
        .columns(['port', 'id'])
        .execute();
      await db.schema
        .createIndex('exposure_service_status_seen')
        .on('exposure_service')
        .columns(['http_status', 'last_seen'])
        .execute();
      for (const col of ['product', 'vendor']) {
        await sql`create index ${sql.raw(`exposure_service_lower_${col}_port`)} on exposure_service (lower(${sql.ref(col)}), port)`.execute(
          db,
        );
      }
    },
  },
  '20261125_91_exposure_title_trgm': {
    // PostgreSQL: `title:"…"` is a substring LIKE on lower(title); a trigram GIN index answers it
    // without a sequential scan. pg_trgm is a trusted contrib extension: installed only when the
    // server ships it and this user may create it, else search still works, by a scan.
    async up(db: Kysely<unknown>) {
      if (!isPostgres(db)) return;
      const ok = await sql<{
        ok: boolean;
      }>`select (exists (select 1 from pg_extension where extname = 'pg_trgm')
          or (exists (select 1 from pg_available_extensions where name = 'pg_trgm')
              and has_database_privilege(current_database(), 'CREATE'))) as ok`.execute(db);
      if (!ok.rows[0]?.ok) return;
      await sql`create extension if not exists pg_trgm`.execute(db);
      await sql`create index exposure_service_title_trgm on exposure_service using gin (lower(title) gin_trgm_ops)`.execute(
        db,
      );
    },
  },
  '20261204_81_exposure_finding_kind': {
    // The console's "anyone can log in" list reads findings by kind, newest first.
    async up(db: Kysely<unknown>) {
      await sql`create index if not exists exposure_finding_kind_time on exposure_finding (kind, time)`.execute(
        db,
      );
    },
  },
  '20261204_82_exposure_banner_host': {
    // The host page's banner history reads one address's banners, newest first.
    async up(db: Kysely<unknown>) {
      await sql`create index if not exists exposure_banner_host on exposure_banner (ip_key, seen)`.execute(
        db,
      );
    },
  },
};
