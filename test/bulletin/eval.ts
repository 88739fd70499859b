/**
 * Evaluation of the stored stories against the corpus's gold labels: B-cubed F1 of the
 * clustering and key-fact recall of the three bullets, beside the Lead-3 baseline.
 */
import type { Kysely } from 'kysely';
import { bcubed } from '../../src/bulletin/core/cluster.js';
import { keyFactRecall, lead3 } from '../../src/bulletin/core/summarize.js';
import type { Lang } from '../../src/bulletin/core/text.js';
import type { Database } from '../../src/storage/index.js';
import type { CorpusServer } from './corpus-server.js';

export interface EvalResult {
  articles: number;
  stories: number;
  bcubed: { precision: number; recall: number; f1: number };
  recall: number;
  lead3Recall: number;
  perStory: { gold: string; recall: number; lead3: number; bullets: string[] }[];
}

export async function evaluate(db: Kysely<Database>, server: CorpusServer): Promise<EvalResult> {
  const rows = await db
    .selectFrom('bulletin_article')
    .select(['url', 'story_id', 'content_text', 'lang', 'published_at'])
    .execute();
  const byPath = new Map(server.articles.map((a) => [a.path, a]));
  const pred = new Map<string, unknown>();
  const gold = new Map<string, unknown>();
  const storyOfGold = new Map<string, Map<number, number>>();
  for (const r of rows) {
    const a = byPath.get(new URL(r.url).pathname);
    if (!a) continue;
    pred.set(a.path, Number(r.story_id));
    gold.set(a.path, a.gold);
    if (a.storyId) {
      const m = storyOfGold.get(a.gold) ?? new Map<number, number>();
      m.set(Number(r.story_id), (m.get(Number(r.story_id)) ?? 0) + 1);
      storyOfGold.set(a.gold, m);
    }
  }
  const stories = await db
    .selectFrom('bulletin_story')
    .selectAll()
    .where('article_count', '>', 0)
    .execute();
  const byId = new Map(stories.map((s) => [Number(s.id), s]));
  const facts = new Map(server.corpus.stories.map((s) => [s.id, s.facts]));
  const perStory: EvalResult['perStory'] = [];
  for (const [g, counts] of storyOfGold) {
    // The predicted story holding most of the gold story's articles speaks for it.
    const sid = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
    const s = byId.get(sid);
    const f = facts.get(g.replace(/-c\d+$/, ''))!;
    const bullets = s ? (JSON.parse(s.summary) as string[]) : [];
    const docs = rows
      .filter((r) => Number(r.story_id) === sid)
      .map((r) => ({
        text: r.content_text,
        lang: r.lang as Lang,
        time: Date.parse(r.published_at),
      }));
    perStory.push({
      gold: g,
      recall: keyFactRecall(bullets, f),
      lead3: keyFactRecall(lead3(docs, (s?.lang ?? 'en') as Lang), f),
      bullets,
    });
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return {
    articles: pred.size,
    stories: stories.length,
    bcubed: bcubed(pred, gold),
    recall: mean(perStory.map((p) => p.recall)),
    lead3Recall: mean(perStory.map((p) => p.lead3)),
    perStory,
  };
}
