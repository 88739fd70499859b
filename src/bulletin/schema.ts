/**
 * Row types of the bulletin area's tables (all prefixed `bulletin_`), for Kysely. Types only.
 * The tables themselves are created by `src/storage/migrations/bulletin.ts`.
 * JSON columns (`summary`, `tags`, `ids`, `items`) hold JSON text; times are ISO-8601 UTC.
 */
import type { Generated } from 'kysely';

export interface BulletinSourceTable {
  id: Generated<number>;
  url: string;
  name: string;
  lang: string | null;
  site_url: string | null;
  etag: string | null;
  last_modified: string | null;
  created_at: string;
  last_fetch_at: string | null;
  last_ok_at: string | null;
  /** ok, not-modified, error */
  last_status: string | null;
  last_error: string | null;
  fail_count: Generated<number>;
  article_count: Generated<number>;
  /** Beyond global unicast: NULL none, `*` all private addresses, or comma-separated CIDRs. */
  allow_private: string | null;
}

export interface BulletinStoryTable {
  id: Generated<number>;
  title: string;
  lang: string;
  first_seen: string;
  last_seen: string;
  article_count: Generated<number>;
  outlet_count: Generated<number>;
  importance: Generated<number>;
  summary: Generated<string>;
  tags: Generated<string>;
  ids: Generated<string>;
  summarized_at: string | null;
}

export interface BulletinArticleTable {
  id: Generated<number>;
  source_id: number;
  story_id: number | null;
  url: string;
  canonical_url: string;
  guid: string | null;
  title: string;
  lang: string;
  published_at: string;
  fetched_at: string;
  feed_summary: string;
  content_html: string;
  content_text: string;
  extract_method: string;
  /** MinHash signature, hex. */
  minhash: string;
  /** A near-duplicate of this article id (same text republished elsewhere). */
  duplicate_of: number | null;
}

export interface BulletinIssueTable {
  id: Generated<number>;
  created_at: string;
  since: string;
  /** draft, published */
  status: string;
  header: string;
  /** JSON: IssueItem[] */
  items: string;
  published_at: string | null;
  updated_at: string;
}

export interface BulletinTables {
  bulletin_source: BulletinSourceTable;
  bulletin_story: BulletinStoryTable;
  bulletin_article: BulletinArticleTable;
  bulletin_issue: BulletinIssueTable;
}
