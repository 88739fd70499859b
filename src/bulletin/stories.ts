/** Reading stories for the dashboard and the API. */
import type { Db } from './store.js';

export interface StorySummary {
  id: number;
  title: string;
  lang: string;
  lastSeen: string;
  articles: number;
  outlets: number;
  importance: number;
  summary: string[];
  tags: string[];
  ids: string[];
}

export async function listStories(db: Db, limit = 50): Promise<StorySummary[]> {
  const rows = await db
    .selectFrom('bulletin_story')
    .selectAll()
    .where('article_count', '>', 0)
    .orderBy('last_seen', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: Number(r.id),
    title: r.title,
    lang: r.lang,
    lastSeen: r.last_seen,
    articles: Number(r.article_count),
    outlets: Number(r.outlet_count),
    importance: Number(r.importance),
    summary: JSON.parse(r.summary) as string[],
    tags: JSON.parse(r.tags) as string[],
    ids: JSON.parse(r.ids) as string[],
  }));
}
