/**
 * The same articles make the same stories whatever order the fetches finish in: the corpus
 * fetched into two stores, sources added in opposite orders, one fetch at a time against six
 * at once (so the fetches finish in different orders).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSource, fetchAll } from '../../src/bulletin/index.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';
import { type CorpusServer, startCorpusServer } from './corpus-server.js';

const NOW = Date.UTC(2026, 10, 17);

async function storiesOf(t: TestStore) {
  const rows = await t.store.db
    .selectFrom('bulletin_article')
    .innerJoin('bulletin_story', 'bulletin_story.id', 'bulletin_article.story_id')
    .select([
      'bulletin_article.canonical_url as url',
      'bulletin_story.title',
      'bulletin_story.summary',
      'bulletin_story.id as story',
    ])
    .execute();
  const groups = new Map<number, { urls: string[]; title: string; summary: string }>();
  for (const r of rows) {
    const g = groups.get(Number(r.story)) ?? { urls: [], title: r.title, summary: r.summary };
    g.urls.push(new URL(r.url).pathname);
    groups.set(Number(r.story), g);
  }
  return [...groups.values()]
    .map((g) => `${g.urls.sort().join(',')} | ${g.title} | ${g.summary}`)
    .sort();
}

for (const backend of testBackends()) {
  describe(`bulletin clustering is deterministic (${backend})`, () => {
    let srv: CorpusServer;
    const stores: TestStore[] = [];
    beforeAll(async () => {
      srv = await startCorpusServer();
    });
    afterAll(async () => {
      await srv?.close();
      for (const t of stores) await t.cleanup();
    });

    it('same stories, titles and summaries whatever the fetch order', async () => {
      const outlets = srv.corpus.outlets;
      const runs: string[][] = [];
      for (const [order, concurrency] of [
        [outlets, 1],
        [[...outlets].reverse(), 6],
      ] as const) {
        const t = await freshStore(backend);
        stores.push(t);
        for (const o of order)
          await addSource(
            t.store.db,
            srv.feedUrl(o.id),
            { name: o.name, lang: o.lang, allowPrivate: true },
            new Date(NOW).toISOString(),
          );
        const r = await fetchAll(t.store.db, {
          now: () => NOW,
          concurrency,
          feedLimits: { hostDelayMs: 0, timeoutMs: 10_000 },
          pageLimits: { hostDelayMs: 0, timeoutMs: 10_000 },
        });
        expect(r.newArticles).toBe(srv.articles.length);
        runs.push(await storiesOf(t));
      }
      expect(runs[0]!.length).toBeGreaterThan(20);
      expect(runs[1]).toEqual(runs[0]);
    }, 180_000);
  });
}
