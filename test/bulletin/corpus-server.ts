/**
 * Serves the fixture corpus (test/bulletin/corpus/corpus.yaml) over real HTTP on 127.0.0.1:
 * one feed per outlet in its own format and encoding, one HTML page per article (with
 * navigation and sidebar noise, and a canonical link), ETag/Last-Modified with 304s, plus the
 * bad inputs the issue names: an HTML page where a feed should be, a truncated feed, a feed
 * over the size cap, an undeclared encoding, hostile markup, a redirect loop, a hanging host.
 * Used by the tests and the bulletin-pipeline benchmark. `copies` repeats the corpus in
 * separate fortnights (for the 1,000-article benchmark).
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import iconv from 'iconv-lite';
import { parse } from 'yaml';

export interface CorpusOutlet {
  id: string;
  name: string;
  lang: 'ja' | 'en';
  format: 'rss20' | 'atom10' | 'json' | 'rss10';
  encoding: string;
}
export interface CorpusArticle {
  outlet: string;
  day: number;
  title: string;
  body: string;
}
export interface CorpusStory {
  id: string;
  facts: string[];
  articles: CorpusArticle[];
}
export interface Corpus {
  outlets: CorpusOutlet[];
  stories: CorpusStory[];
  distractors: CorpusArticle[];
}

const HERE = dirname(fileURLToPath(import.meta.url));
export const BASE_TIME = Date.UTC(2026, 10, 2, 0, 0, 0);
const DAY = 86_400_000;

export function loadCorpus(): Corpus {
  return parse(readFileSync(join(HERE, 'corpus', 'corpus.yaml'), 'utf8')) as Corpus;
}

export interface ServedArticle {
  outlet: CorpusOutlet;
  /** Gold label: story id (with copy suffix) or `distractor:N`. */
  gold: string;
  storyId: string | undefined;
  copy: number;
  slug: string;
  title: string;
  body: string;
  time: number;
  /** Page path on the server. */
  path: string;
}

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** ISO-2022-JP encoder (JIS X 0208 through EUC-JP bytes); iconv-lite only decodes it. */
export function encodeIso2022jp(s: string): Uint8Array {
  const out: number[] = [];
  let jis = false;
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (code < 0x80) {
      if (jis) out.push(0x1b, 0x28, 0x42);
      jis = false;
      out.push(code);
      continue;
    }
    const e = iconv.encode(ch, 'euc-jp');
    if (e.length !== 2 || e[0]! < 0xa1) {
      if (jis) out.push(0x1b, 0x28, 0x42);
      jis = false;
      out.push(0x3f);
      continue;
    }
    if (!jis) out.push(0x1b, 0x24, 0x42);
    jis = true;
    out.push(e[0]! & 0x7f, e[1]! & 0x7f);
  }
  if (jis) out.push(0x1b, 0x28, 0x42);
  return Uint8Array.from(out);
}

function encode(text: string, enc: string): Uint8Array {
  if (enc === 'utf-8') return new TextEncoder().encode(text);
  if (enc === 'iso-2022-jp') return encodeIso2022jp(text);
  return new Uint8Array(iconv.encode(text, enc));
}

export function servedArticles(corpus: Corpus, copies = 1): ServedArticle[] {
  const byId = new Map(corpus.outlets.map((o) => [o.id, o]));
  const out: ServedArticle[] = [];
  for (let copy = 0; copy < copies; copy++) {
    const shift = copy * 30 * DAY;
    const suffix = copies > 1 ? `-c${copy}` : '';
    for (const s of corpus.stories) {
      s.articles.forEach((a, i) => {
        const slug = `${s.id}-${i}${suffix}`;
        out.push({
          outlet: byId.get(a.outlet)!,
          gold: `${s.id}${suffix}`,
          storyId: s.id,
          copy,
          slug,
          title: a.title,
          body: a.body,
          time: BASE_TIME + shift + a.day * DAY + (i + 1) * 3_600_000,
          path: `/${a.outlet}/${slug}.html`,
        });
      });
    }
    // A syndicated reprint: Patch Notes Daily republishes SecWire's Colonial Pipeline report
    // word for word under its own headline (near-duplicate dedup must catch it).
    const colonial = corpus.stories.find((s) => s.id === 'colonial');
    const original = colonial?.articles.find((a) => a.outlet === 'secwire');
    if (colonial && original) {
      const slug = `colonial-reprint${suffix}`;
      out.push({
        outlet: byId.get('patch')!,
        gold: `colonial${suffix}`,
        storyId: 'colonial',
        copy,
        slug,
        title: 'Ransomware forces fuel pipeline shutdown (syndicated)',
        body: original.body,
        time: BASE_TIME + shift + (original.day + 1) * DAY,
        path: `/patch/${slug}.html`,
      });
    }
    corpus.distractors.forEach((a, i) => {
      const slug = `distractor-${i}${suffix}`;
      out.push({
        outlet: byId.get(a.outlet)!,
        gold: `distractor:${i}${suffix}`,
        storyId: undefined,
        copy,
        slug,
        title: a.title,
        body: a.body,
        time: BASE_TIME + shift + a.day * DAY + 7_200_000,
        path: `/${a.outlet}/${slug}.html`,
      });
    });
  }
  return out;
}

function paragraphs(body: string): string[] {
  return body
    .trim()
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

function pageHtml(a: ServedArticle, base: string, others: ServedArticle[]): string {
  const paras = paragraphs(a.body)
    .map((p) => `<p>${esc(p)}</p>`)
    .join('\n');
  const side = others
    .slice(0, 5)
    .map((o) => `<li><a href="${o.path}">${esc(o.title)}</a></li>`)
    .join('');
  const nav =
    a.outlet.lang === 'ja'
      ? 'ホーム ニュース 特集 ランキング ログイン 会員登録'
      : 'Home News Features Podcasts Sign in Subscribe';
  return `<!DOCTYPE html><html lang="${a.outlet.lang}"><head><meta charset="utf-8">
<title>${esc(a.title)} | ${esc(a.outlet.name)}</title>
<link rel="canonical" href="${base}${a.path}">
<script>window.tracker = 1;</script></head>
<body><header><div class="logo">${esc(a.outlet.name)}</div><nav>${nav
    .split(' ')
    .map((w) => `<a href="/${a.outlet.id}/">${w}</a>`)
    .join(' ')}</nav></header>
<div class="wrap"><main><article class="post"><h1>${esc(a.title)}</h1>
<p class="byline">${new Date(a.time).toISOString().slice(0, 10)}</p>
<div class="entry-content">
${paras}
</div></article></main>
<aside class="sidebar"><h2>${a.outlet.lang === 'ja' ? '人気記事' : 'Most read'}</h2><ul>${side}</ul></aside></div>
<footer><p>© ${esc(a.outlet.name)}. All rights reserved.</p><p><a href="/privacy">Privacy</a></p></footer>
<img src="x" onerror="alert(1)"></body></html>`;
}

function feedText(o: CorpusOutlet, items: ServedArticle[], base: string): string {
  const link = (a: ServedArticle) => `${base}${a.path}?utm_source=feed&utm_medium=${o.format}`;
  const summary = (a: ServedArticle) => paragraphs(a.body)[0] ?? '';
  const encDecl = o.encoding === 'utf-8' ? 'UTF-8' : o.encoding.toUpperCase();
  if (o.format === 'json') {
    return JSON.stringify({
      version: 'https://jsonfeed.org/version/1.1',
      title: o.name,
      home_page_url: `${base}/${o.id}/`,
      language: o.lang,
      items: items.map((a) => ({
        id: a.slug,
        url: link(a),
        title: a.title,
        summary: summary(a),
        date_published: new Date(a.time).toISOString(),
      })),
    });
  }
  if (o.format === 'atom10') {
    return `<?xml version="1.0" encoding="${encDecl}"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="${o.lang}"><title>${esc(o.name)}</title><id>${base}/${o.id}/</id>
<updated>${new Date(Math.max(...items.map((a) => a.time))).toISOString()}</updated>
${items.map((a) => `<entry><title>${esc(a.title)}</title><id>tag:${o.id},2026:${a.slug}</id><link rel="alternate" href="${esc(link(a))}"/><updated>${new Date(a.time).toISOString()}</updated><summary type="html">${esc(`<p>${esc(summary(a))}</p>`)}</summary></entry>`).join('\n')}
</feed>`;
  }
  if (o.format === 'rss10') {
    return `<?xml version="1.0" encoding="${encDecl}"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="${base}/${o.id}/"><title>${esc(o.name)}</title><link>${base}/${o.id}/</link><description>${esc(o.name)}</description></channel>
${items.map((a) => `<item rdf:about="${esc(link(a))}"><title>${esc(a.title)}</title><link>${esc(link(a))}</link><description>${esc(summary(a))}</description><dc:date>${new Date(a.time).toISOString().replace('.000Z', '+00:00')}</dc:date></item>`).join('\n')}
</rdf:RDF>`;
  }
  return `<?xml version="1.0" encoding="${encDecl}"?>
<rss version="2.0"><channel><title>${esc(o.name)}</title><link>${base}/${o.id}/</link><description>${esc(o.name)}</description><language>${o.lang}</language>
${items.map((a) => `<item><title>${esc(a.title)}</title><link>${esc(link(a))}</link><guid isPermaLink="false">${a.slug}</guid><pubDate>${new Date(a.time).toUTCString()}</pubDate><description><![CDATA[<p>${esc(summary(a))}</p><script>alert(1)</script>]]></description></item>`).join('\n')}
</channel></rss>`;
}

export interface CorpusServer {
  base: string;
  articles: ServedArticle[];
  corpus: Corpus;
  /** Feed URL of each outlet. */
  feedUrl(outletId: string): string;
  /** Requests seen, in order (path and time). */
  log: { path: string; at: number; conditional: boolean }[];
  close(): Promise<void>;
}

/** Start the server on 127.0.0.1, port chosen by the OS. */
export async function startCorpusServer(opts: { copies?: number } = {}): Promise<CorpusServer> {
  const corpus = loadCorpus();
  const articles = servedArticles(corpus, opts.copies ?? 1);
  const byPath = new Map(articles.map((a) => [a.path, a]));
  const log: CorpusServer['log'] = [];
  const etag = '"corpus-v1"';
  const lastModified = new Date(BASE_TIME).toUTCString();
  let base = '';
  const hanging = new Set<import('node:http').ServerResponse>();
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const conditional = Boolean(req.headers['if-none-match'] || req.headers['if-modified-since']);
    log.push({ path: url.pathname, at: Date.now(), conditional });
    const send = (
      status: number,
      type: string,
      body: Uint8Array | string,
      headers: Record<string, string> = {},
    ) => {
      res.writeHead(status, { 'content-type': type, ...headers });
      res.end(body);
    };
    const feedMatch = /^\/feeds\/([\w-]+)\.(xml|json)$/.exec(url.pathname);
    if (feedMatch) {
      const o = corpus.outlets.find((x) => x.id === feedMatch[1]);
      if (!o) return send(404, 'text/plain', 'no such feed');
      if (
        req.headers['if-none-match'] === etag ||
        req.headers['if-modified-since'] === lastModified
      ) {
        res.writeHead(304, { etag, 'last-modified': lastModified });
        res.end();
        return;
      }
      const items = articles.filter((a) => a.outlet.id === o.id);
      const type =
        o.format === 'json'
          ? 'application/feed+json'
          : o.format === 'atom10'
            ? 'application/atom+xml'
            : 'application/rss+xml';
      // The EUC-JP feed declares its encoding only in the XML declaration; the rest say it in HTTP too.
      const ct = o.encoding === 'euc-jp' ? type : `${type}; charset=${o.encoding}`;
      return send(200, ct, encode(feedText(o, items, base), o.encoding), {
        etag,
        'last-modified': lastModified,
      });
    }
    const page = byPath.get(url.pathname);
    if (page) {
      const others = articles.filter((a) => a.outlet.id === page.outlet.id && a !== page);
      return send(200, 'text/html; charset=utf-8', pageHtml(page, base, others));
    }
    switch (url.pathname) {
      case '/bad/html':
        return send(
          200,
          'text/html',
          '<!DOCTYPE html><html><body><h1>Welcome</h1><p>This is not a feed.</p></body></html>',
        );
      case '/bad/truncated':
        return send(
          200,
          'application/rss+xml',
          '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>Only half',
        );
      case '/bad/undeclared': {
        const o: CorpusOutlet = {
          id: 'undeclared',
          name: '宣言なし',
          lang: 'ja',
          format: 'rss20',
          encoding: 'shift_jis',
        };
        const text = feedText(
          o,
          articles.filter((a) => a.outlet.id === 'shinpo').slice(0, 2),
          base,
        ).replace(' encoding="SHIFT_JIS"', '');
        return send(200, 'application/xml', encode(text, 'shift_jis'));
      }
      case '/bad/hostile':
        return send(
          200,
          'application/rss+xml',
          `<rss version="2.0"><channel><title>Hostile</title><item><title>&lt;img src=x onerror=alert(1)&gt;Evil title</title><link>${base}/bad/hostile-page</link><description>&lt;a href="javascript:alert(1)"&gt;click&lt;/a&gt;&lt;script&gt;alert(2)&lt;/script&gt;&lt;div style="width:expression(alert(3))"&gt;x&lt;/div&gt;</description></item><item><title>Local file</title><link>file:///etc/passwd</link><description>reads a local file</description></item><item><title>Path</title><link>/etc/hostname</link></item></channel></rss>`,
        );
      case '/bad/hostile-page':
        return send(
          200,
          'text/html',
          '<html><body><p onclick="alert(1)">A page <a href="javascript:alert(2)">with</a> hostile markup.<script>alert(3)</script></p></body></html>',
        );
      case '/bad/loop-a':
        res.writeHead(302, { location: '/bad/loop-b' });
        return res.end();
      case '/bad/loop-b':
        res.writeHead(302, { location: '/bad/loop-a' });
        return res.end();
      case '/bad/huge': {
        // 51 MB of feed, streamed without a Content-Length.
        res.writeHead(200, { 'content-type': 'application/rss+xml' });
        const chunk = Buffer.alloc(1024 * 1024, 0x20);
        let sent = 0;
        res.write('<rss version="2.0"><channel><title>Huge</title>');
        const pump = () => {
          while (sent < 51) {
            sent++;
            if (!res.write(chunk)) {
              res.once('drain', pump);
              return;
            }
          }
          res.end('</channel></rss>');
        };
        res.on('error', () => undefined);
        pump();
        return;
      }
      case '/bad/hang':
        hanging.add(res);
        return;
      default:
        return send(404, 'text/plain', 'not found');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    articles,
    corpus,
    log,
    feedUrl: (id) =>
      `${base}/feeds/${id}.${corpus.outlets.find((o) => o.id === id)?.format === 'json' ? 'json' : 'xml'}`,
    close: () =>
      new Promise<void>((r) => {
        for (const h of hanging) h.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
