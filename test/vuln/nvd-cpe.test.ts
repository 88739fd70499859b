/**
 * NVD CVE API 2.0 pages → store, CPE 2.3 matching (NISTIR 7696) for `check` and `matchCpe`,
 * JVN ↔ NVD alias merging, and the online pager against a local HTTP server: paging,
 * rate limit, retry/backoff on 429, the apiKey header, and incremental lastModStartDate.
 * The NVD page follows the API 2.0 schema for CVE-2021-44228 (log4j) as NVD publishes it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compareAttr, cpeMatches, parseCpe } from '../../src/vuln/core/cpe.js';
import {
  checkComponents,
  lookup,
  matchCpe,
  parseInventory,
  syncFrom,
} from '../../src/vuln/index.js';
import { syncNvdOnline } from '../../src/vuln/nvd-sync.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';
import { vector } from '../helpers/vectors.js';

const range = (s: string | null, e: string) => ({
  vulnerable: true,
  criteria: 'cpe:2.3:a:apache:log4j:*:*:*:*:*:*:*:*',
  ...(s ? { versionStartIncluding: s } : {}),
  versionEndExcluding: e,
});

const LOG4SHELL = {
  cve: {
    id: 'CVE-2021-44228',
    sourceIdentifier: 'security@apache.org',
    published: '2021-12-10T10:15:09.143',
    lastModified: '2023-11-07T03:39:36.747',
    vulnStatus: 'Analyzed',
    descriptions: [
      { lang: 'en', value: 'Apache Log4j2 2.0-beta9 through 2.15.0 … JNDI features …' },
    ],
    metrics: {
      cvssMetricV31: [
        {
          source: 'nvd@nist.gov',
          type: 'Primary',
          cvssData: {
            version: '3.1',
            vectorString: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H',
            baseScore: 10.0,
            baseSeverity: 'CRITICAL',
          },
        },
      ],
      cvssMetricV2: [
        {
          source: 'nvd@nist.gov',
          type: 'Primary',
          cvssData: { version: '2.0', vectorString: 'AV:N/AC:M/Au:N/C:C/I:C/A:C', baseScore: 9.3 },
        },
      ],
    },
    weaknesses: [
      { source: 'nvd@nist.gov', type: 'Primary', description: [{ lang: 'en', value: 'CWE-917' }] },
    ],
    configurations: [
      {
        nodes: [
          {
            operator: 'OR',
            negate: false,
            cpeMatch: [
              range('2.0.1', '2.3.1'),
              range('2.4.0', '2.12.2'),
              range('2.13.0', '2.15.0'),
              { vulnerable: true, criteria: 'cpe:2.3:a:apache:log4j:2.0:beta9:*:*:*:*:*:*' },
              { vulnerable: true, criteria: 'cpe:2.3:a:apache:log4j:2.0:rc1:*:*:*:*:*:*' },
            ],
          },
        ],
      },
      {
        operator: 'AND',
        nodes: [
          {
            operator: 'OR',
            negate: false,
            cpeMatch: [
              {
                vulnerable: true,
                criteria: 'cpe:2.3:o:siemens:sppa-t3000_ses3000_firmware:*:*:*:*:*:*:*:*',
              },
            ],
          },
          {
            operator: 'OR',
            negate: false,
            cpeMatch: [
              {
                vulnerable: false,
                criteria: 'cpe:2.3:h:siemens:sppa-t3000_ses3000:-:*:*:*:*:*:*:*',
              },
            ],
          },
        ],
      },
    ],
    references: [
      {
        url: 'https://logging.apache.org/log4j/2.x/security.html',
        source: 'security@apache.org',
        tags: ['Patch', 'Vendor Advisory'],
      },
      { url: 'https://github.com/advisories/GHSA-jfh8-c2jp-5v3q', source: 'x', tags: [] },
    ],
  },
};

const page = (vulns: unknown[], startIndex = 0, total = vulns.length) => ({
  resultsPerPage: vulns.length,
  startIndex,
  totalResults: total,
  format: 'NVD_CVE',
  version: '2.0',
  timestamp: '2024-01-01T00:00:00.000',
  vulnerabilities: vulns,
});

describe('CPE 2.3 matching (NISTIR 7696)', () => {
  it('attribute relations: ANY, NA, wildcards, escapes', () => {
    expect(compareAttr('*', 'x')).toBe('SUPERSET');
    expect(compareAttr('-', '-')).toBe('EQUAL');
    expect(compareAttr('-', 'x')).toBe('DISJOINT');
    expect(compareAttr('x', '*')).toBe('SUBSET');
    expect(compareAttr('2.4*', '2.4.49')).toBe('SUPERSET');
    expect(compareAttr('2.?', '2.4')).toBe('SUPERSET');
    expect(compareAttr('2.?', '2.40')).toBe('DISJOINT');
    expect(compareAttr('foo\\:bar', 'foo\\:bar')).toBe('EQUAL');
  });
  it('names and version ranges', () => {
    const crit = parseCpe('cpe:2.3:a:apache:log4j:*:*:*:*:*:*:*:*')!;
    const t = (v: string) => parseCpe(`cpe:2.3:a:apache:log4j:${v}:*:*:*:*:*:*:*`)!;
    const r = { versionStartIncluding: '2.13.0', versionEndExcluding: '2.15.0' };
    expect(cpeMatches(crit, r, t('2.14.1'))).toBe(true);
    expect(cpeMatches(crit, r, t('2.15.0'))).toBe(false);
    expect(cpeMatches(crit, r, t('2.9.1'))).toBe(false);
    expect(cpeMatches(crit, r, t('*'))).toBe(false);
    expect(parseCpe('cpe:/a:apache:http_server:2.4.49')?.version).toBe('2.4.49');
    expect(parseCpe('cpe:2.3:a:too:few')).toBeUndefined();
  });
});

for (const backend of testBackends()) {
  describe(`NVD and CPE checks (${backend})`, () => {
    let t: TestStore;
    let dir: string;
    let server: Server | undefined;
    beforeEach(async () => {
      t = await freshStore(backend);
      dir = mkdtempSync(join(tmpdir(), 'mamori-nvd-'));
    });
    afterEach(async () => {
      await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
      server = undefined;
      await t.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it('an API page from a file: CVSS, CWE, GHSA alias, CPE matches; a CPE list checks against it', async () => {
      writeFileSync(
        join(dir, 'page.json'),
        JSON.stringify(page([LOG4SHELL, { cve: { id: 'NOT-A-CVE' } }])),
      );
      const s = await syncFrom(t.store, { source: 'nvd', from: join(dir, 'page.json') });
      expect(s).toMatchObject({ records: 1, added: 1 });
      expect(s.errors).toEqual([
        {
          file: join(dir, 'page.json'),
          position: 'vulnerabilities[1]',
          message: 'not a CVE id: NOT-A-CVE',
        },
      ]);
      const d = await lookup(t.store, 'GHSA-jfh8-c2jp-5v3q');
      expect(d).toMatchObject({ id: 'CVE-2021-44228', severity: 'critical' });
      expect(d!.records[0]).toMatchObject({
        cwes: ['CWE-917'],
        cvss: { score: 10 },
        published: '2021-12-10T10:15:09Z',
      });
      expect(d!.cpes.map((c) => c.cpe)).toContain('cpe:2.3:a:apache:log4j:2.0:beta9:*:*:*:*:*:*');
      expect(d!.cpes.some((c) => c.cpe.includes('sppa-t3000_ses3000:-'))).toBe(false);

      const list = [
        'cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*',
        'cpe:2.3:a:apache:log4j:2.15.0:*:*:*:*:*:*:*',
        'cpe:2.3:a:apache:log4j:2.12.2:*:*:*:*:*:*:*',
        'cpe:2.3:a:apache:log4j:2.0:beta9:*:*:*:*:*:*',
        'cpe:2.3:a:apache:log4j:1.2.17:*:*:*:*:*:*:*',
        'not a cpe',
      ].join('\n');
      const inv = parseInventory('cpes.txt', list, () => ({}));
      expect(inv.unsupported).toEqual(['line 6: not a CPE name: not a cpe']);
      const { findings } = await checkComponents(t.store, inv.components);
      expect(
        findings
          .map((f) => `${f.package.version} ${f.vulnerability.id} ${f.confidence} ${f.source}`)
          .sort(),
      ).toEqual(['2.0 CVE-2021-44228 high nvd', '2.14.1 CVE-2021-44228 high nvd']);
      expect(await matchCpe(t.store, 'cpe:2.3:a:apache:log4j:2.11.0:*:*:*:*:*:*:*')).toEqual([
        {
          id: 'CVE-2021-44228',
          aliases: ['GHSA-jfh8-c2jp-5v3q'],
          severity: 'critical',
          confidence: 'high',
          source: 'nvd',
        },
      ]);
    });

    it('JVN and NVD records of one CVE are one vulnerability; JVN CPEs match with low confidence', async () => {
      const jvn = JSON.parse(
        readFileSync(vector('vuln/jvn/feed-detail/2023/JVNDB-2023-004315.json'), 'utf8'),
      );
      writeFileSync(join(dir, 'jvn.json'), JSON.stringify(jvn));
      const nvdCve = {
        cve: { ...LOG4SHELL.cve, id: 'CVE-2013-10019', configurations: [], references: [] },
      };
      writeFileSync(join(dir, 'nvd.json'), JSON.stringify(page([nvdCve])));
      await syncFrom(t.store, { source: 'jvn', from: join(dir, 'jvn.json') });
      await syncFrom(t.store, { source: 'nvd', from: join(dir, 'nvd.json') });
      const d = await lookup(t.store, 'JVNDB-2023-004315');
      expect(d?.id).toBe('CVE-2013-10019');
      expect(d?.aliases).toEqual(['JVNDB-2023-004315']);
      expect(d?.records.map((r) => [r.source, r.titleJa !== null, r.description !== null])).toEqual(
        [
          ['jvn', true, false],
          ['nvd', false, true],
        ],
      );
      const pcu = readFileSync(
        join(vector('vuln/jvn/myjvn-examples/hnd'), 'getVulnDetailInfo_hnd_JVNDB-2017-009608.xml'),
      );
      writeFileSync(join(dir, 'pcu.xml'), pcu);
      await syncFrom(t.store, { source: 'jvn', from: join(dir, 'pcu.xml') });
      expect(await matchCpe(t.store, 'cpe:2.3:h:pcu:pcu:-:*:*:*:*:*:*:*')).toMatchObject([
        { id: 'CVE-2017-14937', confidence: 'low', source: 'jvn' },
      ]);
    });

    it('online pager on a local server: pages, 429 retry, rate limit, apiKey header, incremental', async () => {
      const seen: { url: URL; key: string | undefined }[] = [];
      let first429 = true;
      const cves = [1, 2, 3, 4, 5].map((i) => ({
        cve: { ...LOG4SHELL.cve, id: `CVE-2099-000${i}`, configurations: [] },
      }));
      server = createServer((req, res) => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        seen.push({ url, key: req.headers.apikey as string | undefined });
        if (first429) {
          first429 = false;
          res.writeHead(429, { 'retry-after': '2' }).end();
          return;
        }
        const start = Number(url.searchParams.get('startIndex'));
        const size = Number(url.searchParams.get('resultsPerPage'));
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify(page(cves.slice(start, start + size), start, cves.length)));
      });
      await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
      const port = (server.address() as AddressInfo).port;
      let clock = 1_700_000_000_000;
      const sleeps: number[] = [];
      const opts = {
        baseUrl: `http://127.0.0.1:${port}/rest/json/cves/2.0`,
        pageSize: 1,
        now: () => clock,
        sleep: async (ms: number) => {
          sleeps.push(ms);
          clock += ms;
        },
      };
      const s = await syncNvdOnline(t.store, opts);
      expect(s).toMatchObject({ records: 5, added: 5, files: 5, errors: [] });
      expect(seen.map((x) => x.url.searchParams.get('startIndex'))).toEqual([
        '0',
        '0',
        '1',
        '2',
        '3',
        '4',
      ]);
      expect(sleeps[0]).toBe(2000); // Retry-After
      // 6 requests without a key: the 6th waits for the 30-second window.
      expect(sleeps.slice(1).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(28_000 - 2000);
      expect(seen.every((x) => x.key === undefined)).toBe(true);
      expect(seen[0]!.url.searchParams.get('lastModStartDate')).toBeNull();
      // Second run: incremental from the first run's start, with the key in a header.
      seen.length = 0;
      const key = new TextEncoder().encode('test-key-123');
      const again = await syncNvdOnline(t.store, { ...opts, apiKey: key, pageSize: 5 });
      expect(again).toMatchObject({ records: 5, unchanged: 5 });
      expect(seen[0]!.key).toBe('test-key-123');
      expect(seen[0]!.url.searchParams.get('lastModStartDate')).toBe('2023-11-14T22:13:20.000Z');
      expect(seen[0]!.url.search).not.toContain('test-key');
    });
  });
}
