/**
 * A large inventory check posted to the API runs off the event loop: while a 150,000-component
 * check of the real pypa advisories is matched, `/healthz` keeps answering. Asserted by order
 * (how many health answers arrive before the check's answer), never by wall-clock time. Run on
 * every backend: the check's thread opens its own connection to the same store.
 */

import { get, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { createToken } from '../../src/access/index.js';
import { normalizeOsv } from '../../src/vuln/core/osv.js';
import { checkComponents, lastCheckRun, OFF_THREAD_BYTES, syncFrom } from '../../src/vuln/index.js';
import { inputEntries } from '../../src/vuln/input.js';
import { type RunningServer, startServer } from '../../src/web/index.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';
import { vector } from '../helpers/vectors.js';

const PYPA = vector('vuln/osv/pypa');

/** POST on a connection of its own. */
function post(
  url: URL,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** GET /healthz on a connection of its own (no keep-alive race with the server's idle timeout). */
function healthz(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(new URL('/healthz', url), { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

/** Package names of the real pypa records, each with its first affected version when known. */
async function pypaPackages(): Promise<{ name: string; version: string }[]> {
  const out = new Map<string, string>();
  for await (const e of inputEntries(PYPA)) {
    const r = normalizeOsv(parseYaml(new TextDecoder().decode(e.bytes)));
    for (const a of r.affected) if (!out.has(a.name)) out.set(a.name, a.versions[0] ?? '0.0.1');
  }
  return [...out].map(([name, version]) => ({ name, version }));
}

for (const backend of testBackends())
  describe(`a large check off the event loop (${backend})`, () => {
    let t: TestStore;
    let server: RunningServer;
    let operator: string;
    let body: string;
    let components: { name: string; version: string; ecosystem: string }[];
    beforeAll(async () => {
      t = await freshStore(backend);
      await syncFrom(t.store, { source: 'osv', from: PYPA });
      const pkgs = await pypaPackages();
      // Every 20th component is a real pypa package at an affected version; the rest are names
      // no advisory lists (looked up, never matched), so the check stays affordable on a loaded
      // machine while its parse and lookups alone would hold an in-process event loop.
      components = Array.from({ length: 150_000 }, (_, i) => {
        const p = pkgs[(i / 20) % pkgs.length]!;
        return i % 20 === 0
          ? { name: p.name, version: p.version, ecosystem: 'PyPI' }
          : { name: `u${i}`, version: '1', ecosystem: 'PyPI' };
      });
      body = JSON.stringify({ components });
      server = await startServer({ store: t.store, host: '127.0.0.1', port: 0, version: 'test' });
      operator = (await createToken(t.store, { role: 'operator', ttlMs: 3_600_000 })).token;
    }, 300_000);
    afterAll(async () => {
      await server?.close();
      await t?.cleanup();
    });

    it('answers /healthz while a 150,000-component check runs, and the check is exact', async () => {
      expect(body.length).toBeGreaterThan(OFF_THREAD_BYTES);
      expect(body.length).toBeLessThan(10 * 1024 * 1024); // under the body limit
      const auth = { authorization: `Bearer ${operator}`, host: new URL(server.url).host };
      let checkDone = false;
      const check = fetch(new URL('/api/v1/vuln/check?name=big.json', server.url), {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body,
      }).then(async (r) => {
        const out = { status: r.status, json: (await r.json()) as { findings: unknown[] } };
        checkDone = true;
        return out;
      });
      // Health checks one after another until the check answers.
      let healthyWhileChecking = 0;
      while (!checkDone) {
        const h = await healthz(server.url);
        expect(h.status).toBe(200);
        expect(JSON.parse(h.body)).toEqual({ status: 'ok' });
        if (!checkDone) healthyWhileChecking++;
        // a pause between health checks, so they do not crowd the check's thread off the CPU
        await new Promise((r) => setTimeout(r, 25));
      }
      const r = await check;
      expect(r.status).toBe(200);
      // In process the loop is held from the parse to the response: at most a health answer or
      // two slip in before it; on the check's own thread they keep coming all along.
      expect(healthyWhileChecking).toBeGreaterThan(20);
      // The thread's answer equals an in-process check of the same components, and was recorded.
      const direct = await checkComponents(t.store, components);
      expect(r.json.findings.length).toBe(direct.findings.length);
      expect(r.json.findings.length).toBeGreaterThan(0);
      expect(JSON.parse(JSON.stringify(direct.findings))).toEqual(r.json.findings);
      const last = await lastCheckRun(t.store);
      expect(last?.findings).toBe(direct.findings.length);
    }, 300_000);

    it('an invalid large body is a 400 from the thread, not a 500', async () => {
      const bad = `{"components": [${'{"name":"x","version":"1","ecosystem":"PyPI"},'.repeat(20_000)}`;
      expect(bad.length).toBeGreaterThan(OFF_THREAD_BYTES);
      const r = await post(new URL('/api/v1/vuln/check', server.url), bad, {
        authorization: `Bearer ${operator}`,
        host: new URL(server.url).host,
        'content-type': 'application/json',
      });
      expect(r.status).toBe(400);
      expect(JSON.parse(r.body)).toMatchObject({ error: { code: 'E_INPUT' } });
    }, 120_000);
  });
