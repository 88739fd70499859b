/**
 * The SSRF guard against real sockets on loopback. An attacker's feed (served on 127.0.0.1)
 * links to an "internal" page on 127.0.0.2 that holds a password, directly, by a redirect, by
 * names that resolve to it (plain, IPv4-mapped, a mixed answer, a name that rebinds between two
 * connects), and to names that resolve to the metadata address and a 10.x host. Names are
 * resolved by the test's own resolver: nothing is ever sent to a non-loopback address (those
 * are refused before any connect). The source may reach 127.0.0.1/32 only.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addSource,
  draftIssue,
  type FetchReport,
  fetchAll,
  issueJson,
  publishIssue,
  renderMarkdown,
} from '../../src/bulletin/index.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';

const NOW = Date.UTC(2026, 11, 3, 12);
const SECRET = 'password hunter2';

interface Host {
  server: Server;
  port: number;
  hits: string[];
}

async function serve(
  address: string,
  handle: (
    path: string,
    port: number,
  ) => { status: number; headers?: Record<string, string>; body?: string },
): Promise<Host> {
  const hits: string[] = [];
  const host: Host = { server: createServer(), port: 0, hits };
  host.server.on('request', (req, res) => {
    hits.push(req.url ?? '');
    const r = handle(req.url ?? '/', host.port);
    res.writeHead(r.status, { 'content-type': 'text/html; charset=utf-8', ...r.headers });
    res.end(r.body ?? '');
  });
  await new Promise<void>((r) => host.server.listen(0, address, r));
  host.port = (host.server.address() as AddressInfo).port;
  return host;
}

const page = (title: string, text: string) =>
  `<!DOCTYPE html><html lang="en"><head><title>${title}</title></head><body><article><h1>${title}</h1><p>${text}</p><p>${text}</p></article></body></html>`;

function rss(items: { title: string; link: string }[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Attacker news</title><link>http://127.0.0.1/</link><description>x</description>
${items.map((i, n) => `<item><title>${i.title}</title><link>${i.link.replace(/&/g, '&amp;')}</link><guid>g${n}</guid><pubDate>Wed, 02 Dec 2026 0${n % 10}:00:00 GMT</pubDate><description>Short teaser for ${i.title}, see the link for the whole story.</description></item>`).join('\n')}
</channel></rss>`;
}

for (const backend of testBackends()) {
  describe(`bulletin fetch refuses private addresses (${backend})`, () => {
    let t: TestStore;
    let internal: Host;
    let feed: Host;
    let out: string;
    let report: FetchReport;
    const rebinds: string[] = [];
    // The test's DNS: each name's answers. rebind.test answers 127.0.0.1 once, then 127.0.0.2.
    let rebindCalls = 0;
    const resolve = async (name: string) => {
      const one = (address: string) => [{ address, family: address.includes(':') ? 6 : 4 }];
      switch (name) {
        case 'internal.test':
          return one('127.0.0.2');
        case 'mapped.test':
          return one('::ffff:127.0.0.2');
        case 'metadata.test':
          return one('169.254.169.254');
        case 'intranet.test':
          return one('10.0.0.5');
        case 'mixed.test':
          return [...one('127.0.0.1'), ...one('127.0.0.2')];
        case 'news.test':
          return one('127.0.0.1');
        case 'rebind.test': {
          rebindCalls++;
          const a = rebindCalls === 1 ? '127.0.0.1' : '127.0.0.2';
          rebinds.push(a);
          return one(a);
        }
        default:
          throw Object.assign(new Error(`test resolver: no ${name}`), { code: 'ENOTFOUND' });
      }
    };

    beforeAll(async () => {
      t = await freshStore(backend);
      out = mkdtempSync(join(tmpdir(), 'mamori-ssrf-'));
      internal = await serve('127.0.0.2', () => ({
        status: 200,
        body: page('Internal wiki', `The admin console ${SECRET} is kept here for the ops team.`),
      }));
      const ip = internal.port;
      feed = await serve('127.0.0.1', (path, fp) => {
        if (path === '/feed.xml')
          return {
            status: 200,
            headers: { 'content-type': 'application/rss+xml' },
            body: rss([
              { title: 'Public story', link: `http://127.0.0.1:${fp}/public` },
              { title: 'Public by name', link: `http://news.test:${fp}/public-named` },
              { title: 'Direct internal', link: `http://127.0.0.2:${ip}/secret` },
              { title: 'Named internal', link: `http://internal.test:${ip}/secret` },
              { title: 'Mapped internal', link: `http://mapped.test:${ip}/secret` },
              { title: 'Mapped literal', link: `http://[::ffff:127.0.0.2]:${ip}/secret` },
              { title: 'Redirect internal', link: `http://127.0.0.1:${fp}/go?to=internal` },
              { title: 'Redirect metadata', link: `http://127.0.0.1:${fp}/go?to=metadata` },
              { title: 'Redirect metadata name', link: `http://127.0.0.1:${fp}/go?to=metaname` },
              { title: 'Metadata by name', link: 'http://metadata.test/latest/meta-data/' },
              { title: 'Intranet by name', link: `http://intranet.test:${ip}/secret` },
              { title: 'Mixed answer', link: `http://mixed.test:${ip}/secret` },
              { title: 'Rebind first', link: `http://rebind.test:${fp}/public-rebind` },
              { title: 'Rebind second', link: `http://rebind.test:${ip}/secret` },
            ]),
          };
        if (path.startsWith('/go?to=')) {
          const to = path.slice(7);
          const location =
            to === 'internal'
              ? `http://internal.test:${ip}/secret`
              : to === 'metadata'
                ? 'http://169.254.169.254/latest/meta-data/iam/security-credentials/'
                : 'http://metadata.test/latest/meta-data/';
          return { status: 302, headers: { location } };
        }
        if (path === '/loopback-feed.xml')
          return {
            status: 200,
            headers: { 'content-type': 'application/rss+xml' },
            body: rss([{ title: 'Intranet memo', link: `http://internal.test:${ip}/memo` }]),
          };
        return {
          status: 200,
          body: page(
            'A public story',
            `A public page at ${path} reports that attackers scanned 1,200 routers for an old flaw this week.`,
          ),
        };
      });
      await addSource(
        t.store.db,
        `http://127.0.0.1:${feed.port}/feed.xml`,
        { name: 'attacker', lang: 'en', allowPrivate: ['127.0.0.1/32'] },
        new Date(NOW).toISOString(),
      );
      report = await fetchAll(t.store.db, {
        now: () => NOW,
        resolve,
        feedLimits: { hostDelayMs: 0, timeoutMs: 5000 },
        pageLimits: { hostDelayMs: 0, timeoutMs: 5000 },
      });
    }, 60_000);

    afterAll(async () => {
      for (const h of [internal, feed]) {
        h?.server.closeAllConnections();
        await new Promise<void>((r) => (h ? h.server.close(() => r()) : r()));
      }
      await t?.cleanup();
      rmSync(out, { recursive: true, force: true });
    });

    it('fetches the allowed pages and refuses every link that leads to another address', () => {
      const o = report.sources[0]!;
      expect(o.status).toBe('ok');
      // Public, Public by name, Rebind first.
      expect(o.newArticles).toBe(3);
      expect(o.refused).toBe(11);
      expect(o.refusals.join('\n')).toMatch(/127\.0\.0\.2 is a loopback address/);
    });

    it('never connects to the internal host, whatever the route', () => {
      expect(internal.hits).toEqual([]);
      // Both answers of the rebinding name were asked for, one per connect; the second refused.
      expect(rebinds).toEqual(['127.0.0.1', '127.0.0.2']);
      // The redirects were followed up to the refusal, no further.
      expect(feed.hits.filter((h) => h.startsWith('/go?')).length).toBe(3);
    });

    it('stores nothing of a refused link, and the published issue holds no internal text', async () => {
      const rows = await t.store.db
        .selectFrom('bulletin_article')
        .select(['title', 'url', 'content_text', 'content_html', 'feed_summary'])
        .execute();
      expect(rows.map((r) => r.title).sort()).toEqual(
        ['Public by name', 'Public story', 'Rebind first'].sort(),
      );
      expect(JSON.stringify(rows)).not.toContain('hunter2');
      const issue = await draftIssue(t.store.db, NOW - 7 * 86_400_000, NOW);
      const paths = await publishIssue(t.store.db, issue.id, out, NOW);
      const published = [paths.markdown, paths.html, paths.rss, paths.atom]
        .map((p) => readFileSync(p, 'utf8'))
        .join('\n');
      expect(published).toContain('1,200 routers');
      for (const text of [published, renderMarkdown(issue), JSON.stringify(issueJson(issue))]) {
        expect(text).not.toContain('hunter2');
        expect(text).not.toMatch(/internal\.test|127\.0\.0\.2|169\.254|metadata\.test/);
      }
    });

    it('without an allowance the loopback feed itself is refused (E_SCOPE), nothing sent', async () => {
      const before = feed.hits.length;
      const { source } = await addSource(
        t.store.db,
        `http://news.test:${feed.port}/loopback-feed.xml`,
        { name: 'no-allowance' },
        new Date(NOW).toISOString(),
      );
      const r = await fetchAll(t.store.db, { now: () => NOW, resolve, sourceIds: [source.id] });
      expect(r.sources[0]).toMatchObject({ status: 'error', code: 'E_SCOPE', newArticles: 0 });
      expect(r.sources[0]!.error).toMatch(
        /127\.0\.0\.1 is a loopback address \(news\.test resolves/,
      );
      expect(feed.hits.length).toBe(before);
    });

    it('with --allow-private the same intranet link is fetched (the guard is what stopped it)', async () => {
      const { source } = await addSource(
        t.store.db,
        `http://127.0.0.1:${feed.port}/loopback-feed.xml`,
        { name: 'intranet', allowPrivate: true },
        new Date(NOW).toISOString(),
      );
      const r = await fetchAll(t.store.db, {
        now: () => NOW,
        resolve,
        sourceIds: [source.id],
        feedLimits: { hostDelayMs: 0 },
        pageLimits: { hostDelayMs: 0 },
      });
      expect(r.sources[0]).toMatchObject({ status: 'ok', newArticles: 1, refused: 0 });
      expect(internal.hits).toEqual(['/memo']);
    });
  });
}
