/**
 * Clustering is incremental across `fetch` runs: stories found in one run are restored from
 * the store in the next, and new reports join them (both backends, real HTTP on 127.0.0.1).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSource, fetchAll, listSources, listStories } from '../../src/bulletin/index.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';
import { type CorpusServer, startCorpusServer } from './corpus-server.js';

const NOW = Date.UTC(2026, 10, 17);

for (const backend of testBackends()) {
  describe(`incremental clustering (${backend})`, () => {
    let t: TestStore;
    let srv: CorpusServer;
    beforeAll(async () => {
      t = await freshStore(backend);
      srv = await startCorpusServer();
      for (const id of ['jiho', 'ledger', 'secwire', 'shinpo'])
        await addSource(
          t.store.db,
          srv.feedUrl(id),
          { name: id, allowPrivate: true },
          new Date(NOW).toISOString(),
        );
    });
    afterAll(async () => {
      await srv?.close();
      await t?.cleanup();
    });

    it('a second run adds other outlets’ reports to the stories of the first', async () => {
      const ids = new Map((await listSources(t.store.db)).map((s) => [s.name, s.id]));
      const opts = {
        now: () => NOW,
        feedLimits: { hostDelayMs: 0 },
        pageLimits: { hostDelayMs: 0 },
      };
      await fetchAll(t.store.db, { ...opts, sourceIds: [ids.get('jiho')!, ids.get('ledger')!] });
      const before = (await listStories(t.store.db)).find((s) => s.title.includes('DMM'))!;
      expect(before.outlets).toBe(2);
      const second = await fetchAll(t.store.db, {
        ...opts,
        sourceIds: [ids.get('secwire')!, ids.get('shinpo')!],
      });
      expect(second.newArticles).toBeGreaterThan(15);
      const after = (await listStories(t.store.db)).find((s) => s.id === before.id)!;
      expect(after.outlets).toBe(4);
      expect(after.articles).toBe(4);
      expect(after.summary).toHaveLength(3);
    });
  });
}
