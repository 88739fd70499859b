/**
 * The Hono app in process (createApp + app.request): JSON API shapes, error mapping, headers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AREA_WEBS } from '../../src/web/index.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';
import { type TestApp, testApp } from '../helpers/web.js';

for (const backend of testBackends()) {
  describe(`service app on ${backend}`, () => {
    let t: TestStore;
    let app: TestApp;
    beforeAll(async () => {
      t = await freshStore(backend);
      app = await testApp(t.store, '1.2.3');
    });
    afterAll(async () => {
      await t.cleanup();
    });

    it('GET /healthz is 200 ok', async () => {
      const r = await app.request('/healthz');
      expect(r.status).toBe(200);
      expect(await r.json()).toEqual({ status: 'ok' });
    });

    it('GET /api/v1/status gives version, backend and schema version', async () => {
      const body = await (await app.request('/api/v1/status')).json();
      expect(body).toMatchObject({ version: '1.2.3', store: { backend } });
      expect(body.store.schemaVersion).toBeGreaterThan(0);
      expect(body.areas).toEqual(AREA_WEBS.map((a) => a.name));
    });

    it('unknown API paths are JSON 404 with a stable code', async () => {
      const r = await app.request('/api/v1/nope');
      expect(r.status).toBe(404);
      expect(await r.json()).toMatchObject({ error: { code: 'E_NOT_FOUND' } });
    });

    it('every page carries the secure headers and a strict CSP', async () => {
      for (const path of ['/', ...AREA_WEBS.map((a) => `/${a.name}`)]) {
        const r = await app.request(path);
        expect(r.status, path).toBe(200);
        const csp = r.headers.get('content-security-policy') ?? '';
        expect(csp).toContain("default-src 'self'");
        expect(csp).toContain("object-src 'none'");
        expect(csp).not.toContain('unsafe-inline');
        expect(r.headers.get('referrer-policy')).toBe('same-origin');
        const html = await r.text();
        expect(html).not.toMatch(/<script(?![^>]*src=)/);
        expect(html).not.toMatch(/ style=/);
      }
    });
  });
}
