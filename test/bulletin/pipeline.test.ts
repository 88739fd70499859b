/**
 * The whole fetch pipeline on both backends against the corpus served over real HTTP on
 * 127.0.0.1: six outlets in six format/encoding pairs, plus every bad input the issue names.
 * Measures cluster B-cubed F1 and key-fact recall (against Lead-3) and asserts floors.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addSource,
  draftIssue,
  exportOpml,
  fetchAll,
  importOpml,
  issueJson,
  listSources,
  removeSource,
  unsafeReasons,
} from '../../src/bulletin/index.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';
import { type CorpusServer, startCorpusServer } from './corpus-server.js';
import { evaluate } from './eval.js';

const NOW = Date.UTC(2026, 10, 17);

async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

for (const backend of testBackends()) {
  describe(`bulletin pipeline (${backend})`, () => {
    let t: TestStore;
    let srv: CorpusServer;
    let first: Awaited<ReturnType<typeof fetchAll>>;
    const bad: Record<string, string> = {};

    beforeAll(async () => {
      t = await freshStore(backend);
      srv = await startCorpusServer();
      const iso = new Date(NOW).toISOString();
      for (const o of srv.corpus.outlets)
        await addSource(
          t.store.db,
          srv.feedUrl(o.id),
          { name: o.name, lang: o.lang, allowPrivate: true },
          iso,
        );
      for (const [k, path] of Object.entries({
        html: '/bad/html',
        truncated: '/bad/truncated',
        huge: '/bad/huge',
        loop: '/bad/loop-a',
        hang: '/bad/hang',
        hostile: '/bad/hostile',
        undeclared: '/bad/undeclared',
      })) {
        bad[k] = `${srv.base}${path}`;
        await addSource(t.store.db, bad[k]!, { name: `bad-${k}`, allowPrivate: true }, iso);
      }
      bad.dead = `http://127.0.0.1:${await deadPort()}/feed.xml`;
      await addSource(t.store.db, bad.dead, { name: 'bad-dead', allowPrivate: true }, iso);
      first = await fetchAll(t.store.db, {
        now: () => NOW,
        feedLimits: { hostDelayMs: 5, timeoutMs: 5000 },
        pageLimits: { hostDelayMs: 5, timeoutMs: 5000 },
        concurrency: 6,
      });
    }, 120_000);

    afterAll(async () => {
      await srv?.close();
      await t?.cleanup();
    });

    it('fetches every outlet, whatever its format and encoding', () => {
      const byName = new Map(first.sources.map((s) => [s.name, s]));
      for (const o of srv.corpus.outlets) {
        expect(byName.get(o.name)).toMatchObject({ status: 'ok' });
        expect(byName.get(o.name)!.newArticles).toBe(
          srv.articles.filter((a) => a.outlet.id === o.id).length,
        );
      }
    });

    it('records and shows each bad source, and the others still ran', async () => {
      const byName = new Map(first.sources.map((s) => [s.name, s]));
      expect(byName.get('bad-html')).toMatchObject({ status: 'error' });
      expect(byName.get('bad-html')!.error).toMatch(/not a feed/);
      expect(byName.get('bad-loop')!.error).toMatch(/redirect loop/);
      expect(byName.get('bad-huge')!.error).toMatch(/byte limit/);
      expect(byName.get('bad-hang')!.error).toMatch(/timed out/);
      expect(byName.get('bad-dead')!.error).toMatch(/cannot reach/);
      expect(byName.get('bad-dead')!.code).toBe('E_NETWORK');
      // A truncated feed is parsed as far as it goes; its one item has no link, so nothing new.
      expect(byName.get('bad-truncated')).toMatchObject({ status: 'ok', newArticles: 0 });
      // An undeclared Shift_JIS feed is detected and decoded.
      expect(byName.get('bad-undeclared')).toMatchObject({ status: 'ok' });
      const sources = await listSources(t.store.db);
      const dead = sources.find((s) => s.name === 'bad-dead')!;
      expect(dead.lastStatus).toBe('error');
      expect(dead.failCount).toBe(1);
      expect(dead.lastError).toMatch(/cannot reach/);
    });

    it('decodes Japanese text from Shift_JIS, EUC-JP and ISO-2022-JP feeds', async () => {
      const titles = (
        await t.store.db.selectFrom('bulletin_article').select('title').execute()
      ).map((r) => r.title);
      expect(titles).toContain('DMM Bitcoinから4502.9BTCが不正流出、約482億円相当'); // Shift_JIS RDF
      expect(titles).toContain('暗号資産交換業者で482億円相当のビットコイン流出'); // EUC-JP, declared in XML only
      expect(titles).toContain('コインチェックからNEM約580億円分が流出'); // ISO-2022-JP Atom
    });

    it('stores only sanitized HTML from hostile feeds and pages', async () => {
      const rows = await t.store.db
        .selectFrom('bulletin_article')
        .select(['content_html', 'title'])
        .execute();
      for (const r of rows) expect(unsafeReasons(r.content_html)).toEqual([]);
      const hostile = rows.find((r) => r.title.includes('Evil title'))!;
      expect(hostile.content_html).not.toMatch(/script|onclick|javascript:/i);
      // A remote feed's file: link is never followed (no local file is read); a path is
      // resolved against the feed's own URL, so it stays on the network.
      expect(rows.some((r) => r.title === 'Local file')).toBe(false);
      const path = await t.store.db
        .selectFrom('bulletin_article')
        .select(['url', 'content_text'])
        .where('title', '=', 'Path')
        .executeTakeFirstOrThrow();
      expect(path.url).toBe(`${srv.base}/etc/hostname`);
      expect(first.sources.find((s) => s.name === 'bad-hostile')).toMatchObject({
        status: 'ok',
        newArticles: 2,
      });
    });

    it('dedups by canonical URL: tracking parameters are dropped and a second fetch adds nothing', async () => {
      const urls = (
        await t.store.db.selectFrom('bulletin_article').select('canonical_url').execute()
      ).map((r) => r.canonical_url);
      expect(urls.some((u) => u.includes('utm_'))).toBe(false);
      const second = await fetchAll(t.store.db, {
        now: () => NOW + 3_600_000,
        feedLimits: { hostDelayMs: 5, timeoutMs: 1500 },
        pageLimits: { hostDelayMs: 5, timeoutMs: 1500 },
        sourceIds: (await listSources(t.store.db))
          .filter((s) => !s.name.startsWith('bad-'))
          .map((s) => s.id),
      });
      // The corpus server answers 304 to the stored ETag: conditional GET.
      expect(second.sources.every((s) => s.status === 'not-modified')).toBe(true);
      expect(second.newArticles).toBe(0);
      expect(srv.log.filter((l) => l.path.startsWith('/feeds/') && l.conditional).length).toBe(6);
    }, 60_000);

    it('marks a syndicated reprint as a near-duplicate inside its story', async () => {
      const rows = await t.store.db
        .selectFrom('bulletin_article')
        .select(['title', 'duplicate_of', 'story_id'])
        .execute();
      const reprint = rows.find((r) => r.title.includes('syndicated'))!;
      const original = rows.find((r) => r.title === 'DarkSide ransomware shuts Colonial Pipeline')!;
      // Whichever of the two was stored second is marked as the duplicate of the other.
      expect([reprint.duplicate_of, original.duplicate_of].filter((d) => d !== null).length).toBe(
        1,
      );
      expect(Number(reprint.story_id)).toBe(Number(original.story_id));
      expect(rows.filter((r) => r.duplicate_of !== null).length).toBe(1);
    });

    it('is polite: requests to one host are spaced by the host delay', () => {
      const times = srv.log.map((l) => l.at);
      // Every request goes to 127.0.0.1; with a 5 ms gap the span covers every request.
      expect(times.length).toBeGreaterThan(60);
      const sorted = [...times].sort((a, b) => a - b);
      let tooClose = 0;
      for (let i = 1; i < sorted.length; i++) if (sorted[i]! - sorted[i - 1]! < 3) tooClose++;
      expect(tooClose).toBeLessThan(sorted.length * 0.05);
    });

    it('clusters stories across outlets and languages, and summarizes with the key facts', async () => {
      const ev = await evaluate(t.store.db, srv);
      console.log(
        `[${backend}] corpus: ${ev.articles} articles → ${ev.stories} stories; B-cubed P ${ev.bcubed.precision.toFixed(3)} R ${ev.bcubed.recall.toFixed(3)} F1 ${ev.bcubed.f1.toFixed(3)}; key-fact recall ${ev.recall.toFixed(3)} (Lead-3 ${ev.lead3Recall.toFixed(3)})`,
      );
      expect(ev.articles).toBe(srv.articles.length);
      expect(ev.bcubed.f1).toBeGreaterThanOrEqual(0.85);
      expect(ev.recall).toBeGreaterThanOrEqual(0.75);
      expect(ev.recall).toBeGreaterThanOrEqual(ev.lead3Recall);
      for (const p of ev.perStory) expect(p.bullets.length).toBe(3);
    });

    it('drafts an issue in the public JSON shape, most important first', async () => {
      const issue = await draftIssue(t.store.db, NOW - 30 * 86_400_000, NOW);
      const j = issueJson(issue);
      expect(Object.keys(j).sort()).toEqual(['id', 'items']);
      expect(j.items.length).toBeGreaterThanOrEqual(20);
      for (const it of j.items) {
        expect(Object.keys(it).sort()).toEqual(['ids', 'sources', 'summary', 'tags', 'title']);
        for (const s of it.sources) expect(Object.keys(s).sort()).toEqual(['outlet', 'url']);
      }
      expect(issue.items[0]!.importance).toBeGreaterThanOrEqual(issue.items.at(-1)!.importance);
      const dmm = j.items.find((i) => i.title.includes('DMM'))!;
      expect(dmm.sources.length).toBe(4);
      expect(dmm.tags).toEqual(expect.arrayContaining(['crypto', 'theft']));
      const log4 = j.items.find((i) => i.ids.includes('CVE-2021-44228'))!;
      expect(log4.tags).toContain('vulnerability');
    });

    it('exports and re-imports sources as OPML; remove drops a source', async () => {
      const opml = await exportOpml(t.store.db);
      expect(opml).toContain(srv.feedUrl('jiho'));
      const before = (await listSources(t.store.db)).length;
      const removed = await removeSource(t.store.db, srv.feedUrl('jiho'));
      expect((await listSources(t.store.db)).length).toBe(before - 1);
      const r = await importOpml(t.store.db, opml, new Date(NOW).toISOString());
      expect(r.added).toBe(1);
      expect((await listSources(t.store.db)).find((s) => s.url === removed.url)).toBeDefined();
      await expect(importOpml(t.store.db, '<html></html>', '')).rejects.toMatchObject({
        code: 'E_INPUT',
      });
      await expect(addSource(t.store.db, 'gopher://x/', {}, '')).rejects.toMatchObject({
        code: 'E_INPUT',
      });
      await expect(removeSource(t.store.db, '99999')).rejects.toMatchObject({
        code: 'E_NOT_FOUND',
      });
    });
  });
}
