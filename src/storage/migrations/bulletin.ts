/**
 * Migrations of the bulletin area's tables (prefixed `bulletin_`). Owned by the bulletin area.
 * Never edit a landed migration: add a new one. Names: `<yyyymmdd>_<nn>_bulletin_<what>`.
 */
import type { Kysely } from 'kysely';
import { addIdColumn, INT64 } from './helpers.js';
import type { MigrationSet } from './types.js';

export const bulletinMigrations: MigrationSet = {
  '20261125_01_bulletin_source': {
    async up(db: Kysely<unknown>) {
      await addIdColumn(db.schema.createTable('bulletin_source'), db)
        .addColumn('url', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('lang', 'text')
        .addColumn('site_url', 'text')
        .addColumn('etag', 'text')
        .addColumn('last_modified', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_fetch_at', 'text')
        .addColumn('last_ok_at', 'text')
        .addColumn('last_status', 'text')
        .addColumn('last_error', 'text')
        .addColumn('fail_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('article_count', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    },
  },
  '20261125_02_bulletin_story': {
    async up(db: Kysely<unknown>) {
      await addIdColumn(db.schema.createTable('bulletin_story'), db)
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('lang', 'text', (c) => c.notNull())
        .addColumn('first_seen', 'text', (c) => c.notNull())
        .addColumn('last_seen', 'text', (c) => c.notNull())
        .addColumn('article_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('outlet_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('importance', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('summary', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('tags', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('ids', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('summarized_at', 'text')
        .execute();
      await db.schema
        .createIndex('bulletin_story_last_seen')
        .on('bulletin_story')
        .columns(['last_seen'])
        .execute();
    },
  },
  '20261125_03_bulletin_article': {
    async up(db: Kysely<unknown>) {
      await addIdColumn(db.schema.createTable('bulletin_article'), db)
        .addColumn('source_id', INT64, (c) =>
          c.notNull().references('bulletin_source.id').onDelete('cascade'),
        )
        .addColumn('story_id', INT64, (c) => c.references('bulletin_story.id').onDelete('set null'))
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('canonical_url', 'text', (c) => c.notNull().unique())
        .addColumn('guid', 'text')
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('lang', 'text', (c) => c.notNull())
        .addColumn('published_at', 'text', (c) => c.notNull())
        .addColumn('fetched_at', 'text', (c) => c.notNull())
        .addColumn('feed_summary', 'text', (c) => c.notNull())
        .addColumn('content_html', 'text', (c) => c.notNull())
        .addColumn('content_text', 'text', (c) => c.notNull())
        .addColumn('extract_method', 'text', (c) => c.notNull())
        .addColumn('minhash', 'text', (c) => c.notNull())
        .addColumn('duplicate_of', INT64)
        .execute();
      await db.schema
        .createIndex('bulletin_article_story')
        .on('bulletin_article')
        .columns(['story_id'])
        .execute();
      await db.schema
        .createIndex('bulletin_article_published')
        .on('bulletin_article')
        .columns(['published_at'])
        .execute();
    },
  },
  '20261125_04_bulletin_issue': {
    async up(db: Kysely<unknown>) {
      await addIdColumn(db.schema.createTable('bulletin_issue'), db)
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('since', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('header', 'text', (c) => c.notNull())
        .addColumn('items', 'text', (c) => c.notNull())
        .addColumn('published_at', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '20261203_01_bulletin_source_allow_private': {
    // What a source may reach beyond global unicast: NULL none, '*' all, or comma-separated CIDRs.
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('bulletin_source').addColumn('allow_private', 'text').execute();
    },
  },
};
