/**
 * The vuln API and dashboard in process (createApp + app.request) on both backends: the empty
 * state, then real data from the MyJVN and pypa vectors.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { syncFrom } from '../../src/vuln/index.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';
import { vector } from '../helpers/vectors.js';
import { testApp } from '../helpers/web.js';

for (const backend of testBackends()) {
  describe(`vuln web (${backend})`, () => {
    let t: TestStore;
    let dir: string;
    beforeEach(async () => {
      t = await freshStore(backend);
      dir = mkdtempSync(join(tmpdir(), 'mamori-web-'));
    });
    afterEach(async () => {
      await t.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it('empty store: honest empty state and 404 for an id', async () => {
      const app = await testApp(t.store, 'test');
      const page = await app.request('/vuln');
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('No vulnerability data yet.');
      const r = await app.request('/api/v1/vuln/CVE-2021-44228');
      expect(r.status).toBe(404);
      expect((await r.json()).error.code).toBe('E_NOT_FOUND');
    });

    it('with data: stats, lookup by alias, check, dashboard', async () => {
      writeFileSync(
        join(dir, 'detail.xml'),
        readFileSync(join(vector('vuln/jvn/myjvn-examples/hnd'), 'dataFeed_jvndb_detail_hnd.xml')),
      );
      await syncFrom(t.store, { source: 'jvn', from: join(dir, 'detail.xml') });
      writeFileSync(
        join(dir, 'a.yaml'),
        readFileSync(vector('vuln/osv/pypa/aiohttp/PYSEC-2024-24.yaml')),
      );
      await syncFrom(t.store, { source: 'osv', from: join(dir, 'a.yaml') });
      const app = await testApp(t.store, 'test');

      const stats = await app.request(
        '/api/v1/vuln/stats?by=quarter&from=2025-01-01&to=2025-03-31',
      );
      expect(await stats.json()).toEqual({
        by: 'quarter',
        source: 'jvn',
        available: [
          { source: 'jvn', records: 7 },
          { source: 'osv', records: 1 },
        ],
        rows: [{ key: '2025-Q1', count: 3 }],
      });
      expect((await app.request('/api/v1/vuln/stats?by=week')).status).toBe(400);

      const show = await (await app.request('/api/v1/vuln/JVNDB-2017-009608')).json();
      expect(show.id).toBe('CVE-2017-14937');
      expect(show.records[0].titleJa).toContain('エアバッグ');

      const check = await app.request('/api/v1/vuln/check', {
        method: 'POST',
        body: JSON.stringify({
          components: [{ name: 'aiohttp', version: '3.9.1', ecosystem: 'PyPI' }],
        }),
      });
      const body = await check.json();
      expect(
        body.findings.map((f: { vulnerability: { id: string }; fixed: string[] }) => [
          f.vulnerability.id,
          f.fixed,
        ]),
      ).toEqual([['CVE-2024-23334', ['3.9.2']]]);
      const req = await app.request('/api/v1/vuln/check?name=requirements.txt', {
        method: 'POST',
        body: 'aiohttp==3.9.2\n',
      });
      expect((await req.json()).findings).toEqual([]);
      const bad = await app.request('/api/v1/vuln/check', {
        method: 'POST',
        body: '{"bomFormat":"CycloneDX","specVersion":"1.1"}',
      });
      expect(bad.status).toBe(400);

      const page = await (await app.request('/vuln')).text();
      expect(page).toContain('CVE-2024-23334');
      expect(page).toContain('クロスサイト・スクリプティング');
      expect(page).not.toContain('No vulnerability data yet.');
    });
  });
}
