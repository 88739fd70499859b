/**
 * MyJVN online sync against a local HTTP server built from the official examples: the
 * overview list is served in pages (items of dataFeed_jvndb_rss_hnd.xml), details come from
 * getVulnDetailInfo (the VULDEF example) where the server has them, the rest from the overview.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lookup } from '../../src/vuln/index.js';
import { syncJvnOnline } from '../../src/vuln/jvn-sync.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';
import { vector } from '../helpers/vectors.js';

for (const backend of testBackends()) {
  describe(`MyJVN online (${backend})`, () => {
    let t: TestStore;
    let server: Server;
    const requests: URL[] = [];
    beforeEach(async () => {
      t = await freshStore(backend);
      const hnd = vector('vuln/jvn/myjvn-examples/hnd');
      const rss = readFileSync(join(hnd, 'dataFeed_jvndb_rss_hnd.xml'), 'utf8');
      const items = rss.match(/<item [\s\S]*?<\/item>/g) ?? [];
      const head = rss.slice(0, rss.indexOf('<item '));
      const detail = readFileSync(join(hnd, 'getVulnDetailInfo_hnd_JVNDB-2017-009608.xml'), 'utf8');
      // The first overview item is renamed to the id whose VULDEF detail we have.
      items[0] = items[0]!.replace(/JVNDB-2023-028579/g, 'JVNDB-2017-009608');
      requests.length = 0;
      server = createServer((req, res) => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        requests.push(url);
        const method = url.searchParams.get('method');
        if (method === 'getVulnOverviewList') {
          const start = Number(url.searchParams.get('startItem'));
          const max = Number(url.searchParams.get('maxCountItem'));
          const page = items.slice(start - 1, start - 1 + max).join('\n');
          res.writeHead(200, { 'content-type': 'application/xml' });
          res.end(
            `${head}${page}\n<status:Status version="3.3" method="getVulnOverviewList" retCd="0" totalRes="${items.length}" totalResRet="${Math.min(max, items.length - start + 1)}" firstRes="${start}" />\n</rdf:RDF>\n`,
          );
        } else if (method === 'getVulnDetailInfo') {
          const ids = (url.searchParams.get('vulnId') ?? '').split(/[+ ]/);
          res.writeHead(200, { 'content-type': 'application/xml' });
          if (ids.includes('JVNDB-2017-009608')) res.end(detail);
          else
            res.end(
              '<?xml version="1.0"?><VULDEF-Document xmlns="http://jvn.jp/vuldef/"></VULDEF-Document>',
            );
        } else res.writeHead(400).end();
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    });
    afterEach(async () => {
      await new Promise<void>((r) => server.close(() => r()));
      await t.cleanup();
    });

    it('pages through the overview, takes details where it can, and is incremental', async () => {
      const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/myjvn`;
      const s = await syncJvnOnline(t.store, { baseUrl, pageSize: 2, delayMs: 0 });
      expect(s).toMatchObject({ files: 2, records: 4, added: 4, errors: [] });
      const pages = requests.filter((u) => u.searchParams.get('method') === 'getVulnOverviewList');
      expect(pages.map((u) => u.searchParams.get('startItem'))).toEqual(['1', '3']);
      const pcu = await lookup(t.store, 'JVNDB-2017-009608');
      expect(pcu?.records[0]).toMatchObject({
        registered: '2017-11-16T06:06:40Z',
        cwes: ['CWE-327'],
      });
      expect(pcu?.id).toBe('CVE-2017-14937');
      const fromOverview = await lookup(t.store, 'JVNDB-2023-028578');
      expect(fromOverview?.records[0]).toMatchObject({
        registered: '2025-04-11T14:52:00Z',
        cwes: ['CWE-22'],
      });
      requests.length = 0;
      await syncJvnOnline(t.store, { baseUrl, pageSize: 50, delayMs: 0 });
      expect(requests[0]!.searchParams.get('datePublishedStartY')).toMatch(/^\d{4}$/);
    });

    it('a server that is down is E_NETWORK', async () => {
      await expect(
        syncJvnOnline(t.store, { baseUrl: 'http://127.0.0.1:9/myjvn', delayMs: 0 }),
      ).rejects.toMatchObject({ code: 'E_NETWORK' });
    });
  });
}
