/**
 * The console's Trace pages in process on both backends, on BlockSci's regtest chain (vectors):
 * the taint flow graph's edges equal /api/v1/trace/flow and the taint model's own figures, every
 * transaction is a keyboard link with a table alternative, screening from the console is logged
 * (operator; a viewer gets 403) and its verdict chart equals the log API, and a hostile tag
 * label is escaped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken, type Role } from '../../src/access/index.js';
import { ingestFiles, tagFunds, taintFromStore } from '../../src/trace/index.js';
import { createApp } from '../../src/web/index.js';
import { HOSTILE } from '../helpers/console-seed.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';
import { BLK, chainGraph, names } from '../trace/fixtures.js';

function chartValues(page: string, chart: string) {
  const svg = page.slice(page.indexOf(`data-chart="${chart}"`));
  return [...svg.slice(0, svg.indexOf('</svg>')).matchAll(/data-value="(\d+)"/g)].map((m) =>
    Number(m[1]),
  );
}

for (const backend of testBackends()) {
  describe(`console trace pages (${backend})`, () => {
    let t: TestStore;
    let as: (role: Role) => Promise<(path: string, init?: RequestInit) => Promise<Response>>;
    let split: string;
    let taintedValue: number;
    const label = `nem-2018 ${HOSTILE.script}`;

    beforeAll(async () => {
      t = await freshStore(backend);
      await ingestFiles(t.store, [BLK()]);
      split = String(names()['taint-split-tx-1']);
      await tagFunds(t.store, { target: `${split}:0`, label, source: HOSTILE.img });
      const r = await taintFromStore(t.store, { model: 'haircut', label, record: true });
      taintedValue = r.taintedValue;
      const app = createApp({ store: t.store, version: 'test' });
      as = async (role) => {
        const { token } = await createToken(t.store, { role, ttlMs: 3_600_000, label: role });
        return async (path, init = {}) => {
          const headers = new Headers(init.headers);
          headers.set('authorization', `Bearer ${token}`);
          return app.request(path, { ...init, headers });
        };
      };
    }, 120_000);
    afterAll(async () => {
      await t?.cleanup();
    });

    it('draws the taint flow: edges equal the API and the model, nodes are keyboard links, a table carries the same', async () => {
      const viewer = await as('viewer');
      const flow = await (await viewer('/api/v1/trace/flow/1')).json();
      expect(flow).toMatchObject({ resultId: 1, model: 'haircut', start: [`${split}:0`] });
      expect(flow.edges.length).toBeGreaterThan(1);
      const graph = chainGraph();
      const startValue = graph.tx(split)!.outputs[0]!.value;
      // The start output carries its whole value; edges follow real spends of the chain.
      expect(flow.edges[0]).toMatchObject({ from: split, vout: 0, tainted: startValue });
      for (const e of flow.edges) {
        expect(e.tainted).toBeLessThanOrEqual(e.value);
        expect(e.to ?? null).toBe(
          e.to === null ? null : (graph.spender(e.from, e.vout) ?? 'not spent'),
        );
      }
      if (!flow.truncated) {
        const unspent = flow.edges.filter((e: { to: string | null }) => e.to === null);
        expect(unspent.reduce((a: number, e: { tainted: number }) => a + e.tainted, 0)).toBe(
          taintedValue,
        );
      }
      const r = await viewer('/trace/flow/1');
      expect(r.status).toBe(200);
      const page = await r.text();
      expect(chartValues(page, 'trace-flow')).toEqual(
        flow.edges.map((e: { tainted: number }) => e.tainted),
      );
      for (const n of flow.nodes) {
        expect(page).toContain(`<a href="#tx-${n.txid}" class="node"`);
        expect(page).toContain(`id="tx-${n.txid}"`);
      }
      const table = page.slice(page.indexOf('data-table="flow"'));
      expect(table.slice(0, table.indexOf('</table>')).match(/<tr>/g)).toHaveLength(
        flow.edges.length + 1,
      );
      expect(page).not.toContain('<script>alert');
      expect(page).toContain('nem-2018 &lt;script&gt;');
      expect((await viewer('/api/v1/trace/flow/0')).status).toBe(400);
      expect((await viewer('/api/v1/trace/flow/99')).status).toBe(404);
      expect((await viewer('/trace/flow/x')).status).toBe(400);
    });

    it('screens from the console: logged with who asked, a verdict chart equal to the log, viewer 403', async () => {
      const viewer = await as('viewer');
      const spender = chainGraph().spender(split, 0)!;
      const post = (who: typeof viewer, body: unknown) =>
        who('/api/v1/trace/screenings', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const refused = await post(viewer, { target: spender });
      expect(refused.status).toBe(403);
      expect((await refused.json()).error.details).toMatchObject({ reason: 'role' });
      const op = await as('operator');
      const ok = await post(op, { target: spender });
      expect(ok.status).toBe(200);
      const screened = await ok.json();
      expect(screened).toMatchObject({ target: spender, verdict: 'refuse', model: 'haircut' });
      const clean = await post(op, { target: `${split}:1`, model: 'poison' });
      expect(clean.status).toBe(200);
      expect((await post(op, { target: 'ab'.repeat(32) })).status).toBe(404);
      expect((await post(op, { target: spender, model: 'fifo' })).status).toBe(400);
      expect((await post(op, { target: 7 })).status).toBe(400);
      const { screenings } = await (await viewer('/api/v1/trace/screenings')).json();
      expect(screenings).toHaveLength(2);
      expect(screenings[1]).toMatchObject({
        actor: 'operator',
        target: spender,
        verdict: 'refuse',
        taintedValue: screened.taintedValue,
        depositValue: screened.depositValue,
      });
      expect(screenings[1].labels).toEqual([{ label, taintedValue: screened.taintedValue }]);
      const page = await (await viewer('/trace')).text();
      const counts = ['accept', 'review', 'refuse'].map(
        (v) => screenings.filter((s: { verdict: string }) => s.verdict === v).length,
      );
      expect(chartValues(page, 'trace-verdicts')).toEqual(counts);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(2);
      expect(page).not.toContain('<script>alert');
      expect(page).not.toContain('<img src=x');
      expect(page).not.toContain('action="/trace/screen"');
      const opPage = await (await op('/trace')).text();
      expect(opPage).toContain('action="/trace/screen"');
      expect((await op('/trace?problem=<b>hi</b>')).status).toBe(200);
      expect(await (await op('/trace?problem=<b>hi</b>')).text()).not.toContain('hi</b>');
    });
  });
}
