/** The trace dashboard page and /api/v1/trace routes in process (createApp + app.request). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestFiles, tagFunds, taintFromStore } from '../../src/trace/index.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';
import { type TestApp, testApp } from '../helpers/web.js';
import { BLK, chainGraph, names } from './fixtures.js';

for (const backend of testBackends()) {
  describe(`trace web (${backend})`, () => {
    let t: TestStore;
    let app: TestApp;
    beforeAll(async () => {
      t = await freshStore(backend);
      app = await testApp(t.store, '0.0.0-test');
    });
    afterAll(async () => {
      await t.cleanup();
    });

    it('shows an honest empty state before anything is ingested', async () => {
      const r = await app.request('/trace');
      expect(r.status).toBe(200);
      expect(await r.text()).toContain('mamori trace ingest');
      const s = await app.request(`/api/v1/trace/screen/${'ab'.repeat(32)}`);
      expect(s.status).toBe(404);
      expect((await s.json()).error.code).toBe('E_NOT_FOUND');
    });

    it('screens a deposit over the API and lists tags and results on the page', async () => {
      await ingestFiles(t.store, [BLK()]);
      const split = String(names()['taint-split-tx-1']);
      await tagFunds(t.store, { target: `${split}:0`, label: 'nem-2018', source: 'web-test' });
      await taintFromStore(t.store, { model: 'haircut', label: 'nem-2018', record: true });
      const spender = chainGraph().spender(split, 0)!;
      const r = await app.request(`/api/v1/trace/screen/${spender}`);
      expect(r.status).toBe(200);
      const body = await r.json();
      expect(body).toMatchObject({
        target: spender,
        kind: 'tx',
        verdict: 'refuse',
        model: 'haircut',
      });
      expect(body.sources[0].label).toBe('nem-2018');
      const lenient = await (
        await app.request(`/api/v1/trace/screen/${spender}?refuseAt=0.95`)
      ).json();
      expect(lenient.verdict).toBe('review');
      const bad = await app.request(`/api/v1/trace/screen/${spender}?model=fifo`);
      expect(bad.status).toBeGreaterThanOrEqual(400);
      expect(bad.status).toBeLessThan(500);
      const status = await (await app.request('/api/v1/trace/status')).json();
      expect(status).toMatchObject({ blocks: 202, txs: 356, tags: 1, results: 1 });
      const page = await (await app.request('/trace')).text();
      expect(page).toContain('202 blocks, tip height 201');
      expect(page).toContain('nem-2018');
      expect(page).toContain('web-test');
      expect(page).toContain('haircut');
    });
  });
}
