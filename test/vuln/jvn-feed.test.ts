/**
 * JVN iPedia's yearly feeds by checksum.txt, against a real HTTP server on 127.0.0.1 serving a
 * copy of the feed site's layout built from MyJVN's own JVNRSS and VULDEF examples:
 * `ja/feed/checksum.txt`, `ja/rss/years/jvndb_YYYY.rdf`, `ja/rss/jvndb_new.rdf`,
 * `ja/feed/detail/jvndb_detail_YYYY.rdf`. The same tree serves as a local mirror for `--from`.
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { splitFeedXml } from '../../src/vuln/core/jvn-feed.js';
import { lookup } from '../../src/vuln/index.js';
import { type JvnFeedOptions, syncJvnFeeds } from '../../src/vuln/jvn-feed.js';
import { parseJvnEntry } from '../../src/vuln/jvn-sync.js';
import { getSyncState } from '../../src/vuln/store.js';
import { runMamori } from '../helpers/cli.js';
import { freshSpec, freshStore, type TestStore, testBackends } from '../helpers/db.js';
import { vector } from '../helpers/vectors.js';

const HND = 'vuln/jvn/myjvn-examples/hnd';
const RSS = readFileSync(vector(`${HND}/dataFeed_jvndb_rss_hnd.xml`), 'utf8');
const DETAIL = readFileSync(vector(`${HND}/dataFeed_jvndb_detail_hnd.xml`), 'utf8');
const ITEMS = RSS.match(/<item [\s\S]*?<\/item>/g) ?? [];
const HEAD = RSS.slice(0, RSS.indexOf('<item '));
const TAIL = RSS.slice(RSS.lastIndexOf('</item>') + '</item>'.length);
const rdf = (items: string[]) => `${HEAD}${items.join('\n  ')}${TAIL}`;

const Y2023 = 'ja/rss/years/jvndb_2023.rdf';
const Y2025 = 'ja/rss/years/jvndb_2025.rdf';
const NEW = 'ja/rss/jvndb_new.rdf';
const D2025 = 'ja/feed/detail/jvndb_detail_2025.rdf';
const INDEX = 'ja/feed/checksum.txt';
const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

/** The feed site's tree; checksum.txt names the official urls, as IPA's does. */
class FeedSite {
  readonly root = mkdtempSync(join(tmpdir(), 'mamori-jvnfeed-'));
  constructor() {
    expect(ITEMS).toHaveLength(4);
    this.put(Y2023, rdf(ITEMS.slice(0, 2)));
    this.put(Y2025, rdf(ITEMS.slice(2)));
    this.put(NEW, RSS);
    this.put(D2025, DETAIL);
    this.index();
  }
  put(path: string, text: string) {
    mkdirSync(dirname(join(this.root, path)), { recursive: true });
    writeFileSync(join(this.root, path), text);
  }
  get(path: string) {
    return readFileSync(join(this.root, path), 'utf8');
  }
  /** Write checksum.txt for the files as they are now (plus a vendor list nobody should fetch). */
  index() {
    const entry = (path: string) => {
      const bytes = readFileSync(join(this.root, path));
      return {
        url: `https://jvndb.jvn.jp/${path}`,
        filename: path.split('/').pop(),
        sha256: sha256(bytes),
        size: bytes.length,
        lastModified: '2025/04/13 12:00:23',
      };
    };
    const list = [NEW, Y2025, Y2023, D2025].map(entry);
    list.push({
      url: 'https://jvndb.jvn.jp/ja/feed/vendor/myjvn_vendor_202504.rdf',
      filename: 'myjvn_vendor_202504.rdf',
      sha256: 'f'.repeat(64),
      size: 1,
      lastModified: '2025/04/01 08:10:02',
    });
    this.put(INDEX, JSON.stringify(list, null, 4));
  }
  remove() {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Serves a FeedSite over HTTP on 127.0.0.1 and counts the requests. */
async function serve(
  site: FeedSite,
): Promise<{ server: Server; base: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    requests.push(path);
    try {
      const body = readFileSync(join(site.root, decodeURIComponent(path).replace(/^\/+/, '')));
      res.writeHead(200, { 'content-type': 'application/xml' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, base, requests };
}

const titleOf = (item: string) => /<title>([^<]*)<\/title>/.exec(item)?.[1];

describe('a feed file parsed a piece at a time', () => {
  const parse = (text: string) => [...parseJvnEntry({ name: 'f.rdf', bytes: Buffer.from(text) })];
  const pieces = (text: string, n: number) =>
    [...splitFeedXml(text, n)].flatMap((c) => parse(c.text));

  it('gives the same records as the whole file (JVNRSS and VULDEF)', () => {
    expect([...splitFeedXml(RSS, 1)].map((c) => c.firstIndex)).toEqual([0, 1, 2, 3]);
    expect(pieces(RSS, 1)).toEqual(parse(RSS));
    expect(pieces(RSS, 3)).toEqual(parse(RSS));
    expect([...splitFeedXml(DETAIL, 2)]).toHaveLength(4);
    expect(pieces(DETAIL, 2)).toEqual(parse(DETAIL));
    expect(parse(DETAIL).filter((p) => p.ok)).toHaveLength(7);
  });

  it("reports an XML error at the whole file's line and column", () => {
    const broken = RSS.replace(
      '<sec:identifier>JVNDB-2023-028577</sec:identifier>',
      '<sec:identifier>JVNDB-2023-028577</sec:identifer>',
    );
    const whole = parse(broken);
    expect(whole).toHaveLength(1);
    expect(whole[0]).toMatchObject({
      ok: false,
      error: { position: expect.stringMatching(/^line \d+, column \d+$/) },
    });
    const split = pieces(broken, 1);
    expect(split.filter((p) => p.ok)).toHaveLength(3);
    expect(split.filter((p) => !p.ok)).toEqual(whole);
  });

  it('keeps a file it cannot cut safely whole', () => {
    for (const odd of [RSS.replace('</rdf:RDF>', ''), RSS.replace('<item ', '<!-- x --><item ')])
      expect([...splitFeedXml(odd, 1)]).toEqual([{ text: odd, firstIndex: 0 }]);
  });
});

for (const backend of testBackends()) {
  describe(`JVN feeds by checksum.txt (${backend})`, () => {
    let t: TestStore;
    let site: FeedSite;
    let http: Awaited<ReturnType<typeof serve>>;
    const sync = (o: JvnFeedOptions = {}) =>
      syncJvnFeeds(t.store, { from: `${http.base}/${INDEX}`, delayMs: 0, ...o });

    beforeEach(async () => {
      t = await freshStore(backend);
      site = new FeedSite();
      http = await serve(site);
    });
    afterEach(async () => {
      await new Promise<void>((r) => http.server.close(() => r()));
      site.remove();
      await t.cleanup();
    });

    it('first sync downloads every listed overview file and stores the exact records', async () => {
      const s = await sync();
      expect(http.requests).toEqual([`/${INDEX}`, `/${Y2023}`, `/${Y2025}`, `/${NEW}`]);
      // jvndb_new.rdf repeats the four entries the yearly files brought: unchanged.
      expect(s).toMatchObject({
        source: 'jvn',
        files: 3,
        records: 8,
        added: 4,
        updated: 0,
        unchanged: 4,
        withdrawn: 0,
        errors: [],
      });
      expect(s.feeds).toEqual([
        { file: 'jvndb_2023.rdf', status: 'fetched', records: 2 },
        { file: 'jvndb_2025.rdf', status: 'fetched', records: 2 },
        { file: 'jvndb_new.rdf', status: 'fetched', records: 4 },
      ]);
      const d = await lookup(t.store, 'JVNDB-2023-028579');
      expect(d?.id).toBe('CVE-2023-29001');
      expect(d?.records).toHaveLength(1);
      expect(d?.records[0]).toMatchObject({
        source: 'jvn',
        id: 'JVNDB-2023-028579',
        titleJa: 'Contiki-NG における再帰制御に関する脆弱性',
        registered: '2025-04-11T14:52:00Z',
        modified: '2025-04-11T14:52:00Z',
        severity: 'high',
        cvss: { score: 7.5, v3: 'CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H' },
        cwes: ['CWE-674'],
      });
      for (const id of ['JVNDB-2023-028578', 'JVNDB-2023-028577', 'JVNDB-2023-028576'])
        expect((await lookup(t.store, id))?.records[0]?.id, id).toBe(id);
      expect(await getSyncState(t.store, 'jvn', 'feed:jvndb_2023.rdf')).toBe(
        sha256(site.get(Y2023)),
      );
      expect(await getSyncState(t.store, 'jvn', 'feed:jvndb_detail_2025.rdf')).toBeUndefined();
    });

    it('a second run with the same checksum.txt downloads nothing', async () => {
      await sync();
      http.requests.length = 0;
      const s = await sync();
      expect(http.requests).toEqual([`/${INDEX}`]);
      expect(s).toMatchObject({ files: 0, records: 0, added: 0, updated: 0, unchanged: 0 });
      expect(s.feeds.map((f) => f.status)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    });

    it('a changed year: only that file is fetched; an older copy in a recent feed does not win', async () => {
      await sync();
      const newTitle = 'Contiki-NG における再帰制御に関する脆弱性 (更新)';
      const changed = ITEMS[0]!
        .replace(titleOf(ITEMS[0]!)!, newTitle)
        .replace(/<dcterms:modified>[^<]*</, '<dcterms:modified>2025-04-20T10:00+09:00<');
      site.put(Y2023, rdf([changed, ITEMS[1]!]));
      site.index();
      http.requests.length = 0;
      const s = await sync();
      expect(http.requests).toEqual([`/${INDEX}`, `/${Y2023}`]);
      expect(s).toMatchObject({ files: 1, records: 2, added: 0, updated: 1, unchanged: 1 });
      const rec = (await lookup(t.store, 'JVNDB-2023-028579'))?.records[0];
      expect(rec).toMatchObject({ titleJa: newTitle, modified: '2025-04-20T01:00:00Z' });

      // jvndb_new.rdf is rebuilt but still carries the entry as it was on 2025-04-11.
      site.put(NEW, RSS.replace('<dc:date>2025-04-13T12:00:23', '<dc:date>2025-04-13T18:00:00'));
      site.index();
      http.requests.length = 0;
      const again = await sync();
      expect(http.requests).toEqual([`/${INDEX}`, `/${NEW}`]);
      expect(again).toMatchObject({ files: 1, records: 4, added: 0, updated: 0, unchanged: 4 });
      expect((await lookup(t.store, 'JVNDB-2023-028579'))?.records[0]?.titleJa).toBe(newTitle);
    });

    it('a checksum mismatch stores nothing from that file and does not advance it; a fixed index resumes', async () => {
      site.put(Y2025, rdf(ITEMS.slice(2)).replace(titleOf(ITEMS[2]!)!, 'tampered'));
      const err = await sync().catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'E_NETWORK' });
      expect((err as Error).message).toMatch(
        /^jvndb_2025\.rdf: sha256 [0-9a-f]{64} does not match checksum\.txt \([0-9a-f]{64}\); nothing from this file was stored$/,
      );
      // jvndb_2023.rdf came first and is complete; nothing of jvndb_2025.rdf is stored.
      expect(await lookup(t.store, 'JVNDB-2023-028579')).toBeDefined();
      expect(await lookup(t.store, 'JVNDB-2023-028577')).toBeUndefined();
      expect(await lookup(t.store, 'JVNDB-2023-028576')).toBeUndefined();
      expect(await getSyncState(t.store, 'jvn', 'feed:jvndb_2023.rdf')).toBeDefined();
      expect(await getSyncState(t.store, 'jvn', 'feed:jvndb_2025.rdf')).toBeUndefined();
      expect(await getSyncState(t.store, 'jvn', 'feed:jvndb_new.rdf')).toBeUndefined();

      site.index();
      http.requests.length = 0;
      const s = await sync();
      expect(http.requests).toEqual([`/${INDEX}`, `/${Y2025}`, `/${NEW}`]);
      expect(s).toMatchObject({ files: 2, records: 6, added: 2, errors: [] });
    });

    it('an interrupted run keeps whole files and the next run resumes after them', async () => {
      const ac = new AbortController();
      const progress = { tick: () => ac.abort(), setTotal() {}, done() {} };
      await expect(sync({ signal: ac.signal, progress })).rejects.toMatchObject({
        code: 'E_INTERRUPTED',
      });
      expect(await getSyncState(t.store, 'jvn', 'feed:jvndb_2023.rdf')).toBeDefined();
      expect(await getSyncState(t.store, 'jvn', 'feed:jvndb_2025.rdf')).toBeUndefined();
      http.requests.length = 0;
      const s = await sync();
      expect(http.requests).toEqual([`/${INDEX}`, `/${Y2025}`, `/${NEW}`]);
      expect(s).toMatchObject({ files: 2, added: 2 });
    });

    it('the detail feeds: VULDEF jvndb_detail_YYYY.rdf only', async () => {
      const s = await sync({ kind: 'detail' });
      expect(http.requests).toEqual([`/${INDEX}`, `/${D2025}`]);
      expect(s).toMatchObject({ files: 1, records: 7, added: 7, errors: [] });
      expect((await lookup(t.store, 'JVNDB-2017-009608'))?.records[0]).toMatchObject({
        registered: '2017-11-16T06:06:40Z',
        cwes: ['CWE-327'],
      });
    });

    it('--since filters records and records no checksum (the import is not complete)', async () => {
      const s = await sync({ since: '2030-01-01T00:00:00Z' });
      expect(s).toMatchObject({ files: 3, records: 0, added: 0 });
      expect(await getSyncState(t.store, 'jvn', 'feed:jvndb_2023.rdf')).toBeUndefined();
    });

    it('a server that is down is E_NETWORK; one that answers 500 too', async () => {
      await expect(
        syncJvnFeeds(t.store, { from: 'http://127.0.0.1:9/ja/feed/checksum.txt', delayMs: 0 }),
      ).rejects.toMatchObject({ code: 'E_NETWORK' });
      const broken = createServer((_req, res) => res.writeHead(500).end());
      await new Promise<void>((r) => broken.listen(0, '127.0.0.1', () => r()));
      try {
        const port = (broken.address() as AddressInfo).port;
        await expect(
          syncJvnFeeds(t.store, { from: `http://127.0.0.1:${port}/ja/feed/`, delayMs: 0 }),
        ).rejects.toMatchObject({ code: 'E_NETWORK' });
      } finally {
        await new Promise<void>((r) => broken.close(() => r()));
      }
    });

    it('a local mirror directory behaves the same (site layout or flat)', async () => {
      const s = await syncJvnFeeds(t.store, { from: site.root });
      expect(s).toMatchObject({ files: 3, records: 8, added: 4, unchanged: 4, errors: [] });
      expect(s.index).toMatch(/^file:\/\/.*\/ja\/feed\/checksum\.txt$/);
      expect(await syncJvnFeeds(t.store, { from: site.root })).toMatchObject({
        files: 0,
        records: 0,
      });
      expect(http.requests).toEqual([]);

      // A flat copy: every file beside checksum.txt. Its index lists a changed 2023 and a
      // sha256 for 2025 that the copied file does not have.
      const flat = mkdtempSync(join(tmpdir(), 'mamori-jvnflat-'));
      try {
        for (const p of [Y2023, Y2025, NEW])
          cpSync(join(site.root, p), join(flat, p.split('/').pop()!));
        const y2023 = rdf(ITEMS.slice(0, 2)).replace(titleOf(ITEMS[1]!)!, 'changed on the mirror');
        writeFileSync(join(flat, 'jvndb_2023.rdf'), y2023);
        const index = JSON.parse(site.get(INDEX)) as { filename: string; sha256: string }[];
        for (const e of index) {
          if (e.filename === 'jvndb_2023.rdf') e.sha256 = sha256(y2023);
          if (e.filename === 'jvndb_2025.rdf') e.sha256 = 'e'.repeat(64);
        }
        writeFileSync(join(flat, 'checksum.txt'), JSON.stringify(index));
        const err = await syncJvnFeeds(t.store, { from: flat }).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'E_INPUT' });
        expect((err as Error).message).toMatch(/^jvndb_2025\.rdf: sha256 .* does not match/);
        expect((await lookup(t.store, 'JVNDB-2023-028578'))?.records[0]?.titleJa).toBe(
          'changed on the mirror',
        );
        expect(await getSyncState(t.store, 'jvn', 'feed:jvndb_2023.rdf')).toBe(sha256(y2023));
        expect(await getSyncState(t.store, 'jvn', 'feed:jvndb_2025.rdf')).toBe(
          sha256(site.get(Y2025)),
        );
      } finally {
        rmSync(flat, { recursive: true, force: true });
      }
    });
  });

  describe(`mamori vuln sync --source jvn, feeds (${backend})`, () => {
    let spec: string;
    let cleanup: () => Promise<void>;
    let site: FeedSite;
    let http: Awaited<ReturnType<typeof serve>>;
    beforeEach(async () => {
      ({ spec, cleanup } = await freshSpec(backend));
      site = new FeedSite();
      http = await serve(site);
    });
    afterEach(async () => {
      await new Promise<void>((r) => http.server.close(() => r()));
      site.remove();
      await cleanup();
    });

    it('online by default from MAMORI_JVN_FEED_URL, incremental, MyJVN with --since', async () => {
      const env = { MAMORI_JVN_FEED_URL: `${http.base}/ja/feed/` };
      const args = ['vuln', 'sync', '--source', 'jvn', '--db', spec];
      const first = await runMamori([...args, '--json'], { env });
      expect(first.code, first.stderr).toBe(0);
      expect(JSON.parse(first.stdout)).toMatchObject({
        source: 'jvn',
        files: 3,
        records: 8,
        added: 4,
        unchanged: 4,
        errors: [],
      });
      expect(http.requests).toEqual([`/${INDEX}`, `/${Y2023}`, `/${Y2025}`, `/${NEW}`]);

      http.requests.length = 0;
      const second = await runMamori(args, { env });
      expect(second.code, second.stderr).toBe(0);
      expect(second.stdout).toBe(
        '0 records: 0 added, 0 updated, 0 unchanged, 0 withdrawn, 0 malformed\njvn feeds: 0 of 3 files changed\n',
      );
      expect(http.requests).toEqual([`/${INDEX}`]);

      // A local mirror of the site through --from: the same state, so nothing to do.
      const mirror = await runMamori([...args, '--from', site.root, '--json']);
      expect(mirror.code, mirror.stderr).toBe(0);
      expect(JSON.parse(mirror.stdout)).toMatchObject({ files: 0, records: 0 });

      // A tampered file: exit 3 (a feed unavailable), and the message says which.
      site.put(Y2025, `${site.get(Y2025)}\n`);
      site.index();
      site.put(Y2025, `${site.get(Y2025)}\n`);
      const bad = await runMamori(args, { env });
      expect(bad.code).toBe(3);
      expect(bad.stderr).toMatch(/jvndb_2025\.rdf: sha256 .* does not match checksum\.txt/);

      // --since alone keeps the MyJVN API path.
      http.requests.length = 0;
      const myjvn = await runMamori([...args, '--since', '2025-04-01'], {
        env: { ...env, MAMORI_MYJVN_URL: `${http.base}/myjvn` },
      });
      expect(myjvn.code).toBe(3);
      expect(http.requests).toEqual(['/myjvn']);
    }, 60_000);
  });
}
