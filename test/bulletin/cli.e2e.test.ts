/**
 * `mamori bulletin …` as a user runs it: the built CLI spawned against a local corpus server,
 * on SQLite. Also the read API and the dashboard.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFeed, unsafeReasons } from '../../src/bulletin/index.js';
import { openDb } from '../../src/storage/index.js';
import { runMamori } from '../helpers/cli.js';
import { freshSpec, testBackends } from '../helpers/db.js';
import { testApp } from '../helpers/web.js';
import { type CorpusServer, startCorpusServer } from './corpus-server.js';

// The CLI on SQLite; the same store code runs on PostgreSQL in pipeline.test.ts (spawning the
// CLI is the slow part, so it is not repeated per backend).
for (const backend of testBackends().filter((b) => b === 'sqlite')) {
  describe(`mamori bulletin CLI (${backend})`, () => {
    let srv: CorpusServer;
    let spec: string;
    let cleanup: () => Promise<void>;
    let dir: string;
    let issueId = 0;
    const m = (args: string[], env: Record<string, string> = {}) =>
      runMamori(['bulletin', ...args, '--db', spec], {
        env: { MAMORI_DB: '', ...env },
        timeoutMs: 120_000,
      });

    beforeAll(async () => {
      srv = await startCorpusServer();
      ({ spec, cleanup } = await freshSpec(backend));
      dir = mkdtempSync(join(tmpdir(), 'mamori-bulletin-e2e-'));
    });
    afterAll(async () => {
      await srv?.close();
      await cleanup?.();
      rmSync(dir, { recursive: true, force: true });
    });

    it('source add / list, with bad input refused (exit 2)', async () => {
      const a = await m([
        'source',
        'add',
        srv.feedUrl('jiho'),
        '--name',
        'サイバー時報',
        '--lang',
        'ja',
        '--allow-private',
        '--json',
      ]);
      expect(a.code).toBe(0);
      expect(JSON.parse(a.stdout)).toMatchObject({
        created: true,
        source: { name: 'サイバー時報', lang: 'ja' },
      });
      expect((await m(['source', 'add', srv.feedUrl('ledger'), '--allow-private'])).code).toBe(0);
      expect(
        (await m(['source', 'add', srv.feedUrl('secwire'), '--allow-net', '127.0.0.0/8'])).code,
      ).toBe(0);
      expect(
        (
          await m([
            'source',
            'add',
            `${srv.base}/bad/loop-a`,
            '--name',
            'looping',
            '--allow-private',
          ])
        ).code,
      ).toBe(0);
      expect(
        (await m(['source', 'add', srv.feedUrl('patch'), '--allow-net', '10.0.0.0/33'])).code,
      ).toBe(2);
      const bad = await m(['source', 'add', 'gopher://x/', '--json']);
      expect(bad.code).toBe(2);
      expect(JSON.parse(bad.stderr).error.code).toBe('E_INPUT');
      expect((await m(['source', 'add', srv.feedUrl('patch'), '--lang', 'fr'])).code).toBe(2);
      const list = JSON.parse((await m(['source', 'list', '--json'])).stdout);
      expect(list.sources.map((s: { name: string }) => s.name)).toEqual([
        'サイバー時報',
        '127.0.0.1:' + new URL(srv.base).port,
        '127.0.0.1:' + new URL(srv.base).port,
        'looping',
      ]);
    });

    it('fetch: a failing source is shown, the others run (exit 0)', async () => {
      const r = await m(['fetch', '--host-delay', '0', '--json']);
      expect(r.code).toBe(0);
      const rep = JSON.parse(r.stdout);
      expect(rep.newArticles).toBeGreaterThan(25);
      expect(rep.sources.find((s: { name: string }) => s.name === 'looping')).toMatchObject({
        status: 'error',
      });
      const text = await m(['source', 'list']);
      expect(text.stdout).toMatch(/looping.*error.*redirect loop/);
    });

    it('fetch: a loopback feed added without --allow-private is refused (exit 4)', async () => {
      const add = await m([
        'source',
        'add',
        srv.feedUrl('tokyo'),
        '--name',
        'no-private',
        '--json',
      ]);
      expect(JSON.parse(add.stdout).source.allowPrivate).toBeNull();
      const id = String(JSON.parse(add.stdout).source.id);
      const r = await m(['fetch', '--source', id, '--host-delay', '0', '--json']);
      expect(r.code).toBe(4);
      const rep = JSON.parse(r.stdout);
      expect(rep.sources[0]).toMatchObject({ status: 'error', code: 'E_SCOPE', newArticles: 0 });
      expect(rep.sources[0].error).toMatch(/127\.0\.0\.1 is a loopback address/);
      await m(['source', 'remove', id]);
    });

    it('draft --json has exactly the public shape', async () => {
      const r = await m(['draft', '--since', '60d', '--json']);
      expect(r.code).toBe(0);
      const j = JSON.parse(r.stdout);
      expect(Object.keys(j).sort()).toEqual(['id', 'items']);
      expect(j.items.length).toBeGreaterThan(10);
      for (const it of j.items)
        expect(Object.keys(it).sort()).toEqual(['ids', 'sources', 'summary', 'tags', 'title']);
      const dmm = j.items.find((i: { title: string }) => i.title.includes('DMM'));
      expect(dmm.sources.length).toBe(3);
      expect(dmm.summary.length).toBe(3);
      issueId = j.id;
      expect((await m(['draft', '--since', 'yesterday-ish'])).code).toBe(2);
    });

    it('edit: $EDITOR changes the Markdown, parsed back', async () => {
      const script = join(dir, 'editor.mjs');
      writeFileSync(
        script,
        `import { readFileSync, writeFileSync } from 'node:fs';
const f = process.argv[2];
let t = readFileSync(f, 'utf8');
t = t.replace('<!-- the editor writes here -->', 'Update wallets and move funds to cold storage.');
writeFileSync(f, t);`,
      );
      const r = await m(['edit', String(issueId), '--json'], {
        EDITOR: `${process.execPath} ${script}`,
      });
      expect(r.code).toBe(0);
      expect((await m(['edit', '999999'], { EDITOR: 'true' })).code).toBe(2);
      const failing = await m(['edit', String(issueId)], { EDITOR: 'false' });
      expect(failing.code).toBe(2);
    });

    it('publish writes Markdown, safe HTML, RSS and Atom', async () => {
      const out = join(dir, 'public');
      const r = await m([
        'publish',
        String(issueId),
        '--out',
        out,
        '--base-url',
        'https://news.example.org/',
        '--json',
      ]);
      expect(r.code).toBe(0);
      const paths = JSON.parse(r.stdout);
      for (const k of ['markdown', 'html', 'rss', 'atom']) expect(existsSync(paths[k])).toBe(true);
      const md = readFileSync(paths.markdown, 'utf8');
      expect(md).toContain('Update wallets and move funds to cold storage.');
      const html = readFileSync(paths.html, 'utf8');
      expect(html).toContain('Update wallets and move funds to cold storage.');
      expect(unsafeReasons(html.slice(html.indexOf('<body>')))).toEqual([]);
      expect(html).not.toMatch(/<script/i);
      const rss = parseFeed(readFileSync(paths.rss, 'utf8'));
      expect(rss.version).toBe('rss20');
      expect(rss.entries[0]!.link).toBe(`https://news.example.org/issue-${issueId}.html`);
      expect(parseFeed(readFileSync(paths.atom, 'utf8')).version).toBe('atom10');
    });

    it('the read API and the dashboard show the issue and stories', async () => {
      const store = await openDb(spec);
      try {
        const app = await testApp(store, 'test');
        const res = await app.request('/api/v1/bulletin/issues');
        expect(res.status).toBe(200);
        const body = (await res.json()) as {
          issues: { id: number; status: string; items: unknown[] }[];
        };
        expect(body.issues.find((i) => i.id === issueId)).toMatchObject({ status: 'published' });
        expect((await app.request(`/api/v1/bulletin/issues/${issueId}`)).status).toBe(200);
        expect((await app.request('/api/v1/bulletin/issues/999999')).status).toBe(404);
        const page = await (await app.request('/bulletin')).text();
        expect(page).toContain('DMM Bitcoin');
        expect(page).toContain('looping');
      } finally {
        await store.close();
      }
    });

    it('source export / remove / import', async () => {
      const opmlPath = join(dir, 'feeds.opml');
      expect((await m(['source', 'export', opmlPath])).code).toBe(0);
      expect(readFileSync(opmlPath, 'utf8')).toContain(srv.feedUrl('jiho'));
      expect((await m(['source', 'remove', srv.feedUrl('jiho')])).code).toBe(0);
      const imp = JSON.parse((await m(['source', 'import', opmlPath, '--json'])).stdout);
      expect(imp).toEqual({ added: 1, existing: 3 });
      expect((await m(['source', 'import', join(dir, 'missing.opml')])).code).toBe(2);
    });
  });
}
