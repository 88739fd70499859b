/**
 * Honeypot events per hour by class and the per-source class table; exposure's top products and
 * the diff between the last two scans: in process on both backends, each chart equal to its API
 * and the classes summing to the plain events-per-hour API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importResults, recordFinding } from '../../src/exposure/index.js';
import { type HoneypotEvent, Recorder } from '../../src/honeypot/index.js';
import { HOSTILE } from '../helpers/console-seed.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';
import { type TestApp, testApp } from '../helpers/web.js';

const scan = (ports: [string, number, string][]) => `<?xml version="1.0"?><nmaprun scanner="nmap">
${[...new Set(ports.map((p) => p[0]))]
  .map(
    (ip) =>
      `<host><status state="up"/><address addr="${ip}" addrtype="ipv4"/><ports>${ports
        .filter((p) => p[0] === ip)
        .map(
          ([, port, product]) =>
            `<port protocol="tcp" portid="${port}"><state state="open"/><service name="x" product="${product}"/></port>`,
        )
        .join('')}</ports></host>`,
  )
  .join('\n')}
</nmaprun>`;

const esc = (v: string) =>
  v
    .replaceAll('&', '&amp;')
    .replaceAll('"', '&quot;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;');

function chart(page: string, id: string) {
  const at = page.indexOf(`data-chart="${id}"`);
  if (at < 0) return undefined;
  const svg = page.slice(at);
  return [...svg.slice(0, svg.indexOf('</svg>')).matchAll(/data-value="(\d+)"/g)].map((m) =>
    Number(m[1]),
  );
}

for (const backend of testBackends()) {
  describe(`honeypot classes and exposure diff (${backend})`, () => {
    let t: TestStore;
    let app: TestApp;
    beforeAll(async () => {
      t = await freshStore(backend);
      app = await testApp(t.store, 'test', 'viewer');
    });
    afterAll(async () => {
      await t?.cleanup();
    });

    it('splits events per hour by the source class; the classes sum to /api/v1/honeypot/hourly', async () => {
      const rec = await Recorder.open({ store: t.store });
      const base = Date.parse('2026-11-02T10:00:00Z');
      const ev = (i: number, srcIp: string, eventid: HoneypotEvent['eventid']) =>
        rec.record({
          eventid,
          time: new Date(base + i * 20 * 60_000).toISOString(),
          session: `s${i}`,
          protocol: 'rtsp',
          srcIp,
          srcPort: 40000 + i,
          dstPort: 554,
          ...(eventid === 'login.failed' ? { username: 'admin', password: '12345' } : {}),
          summary: {},
        });
      for (let i = 0; i < 6; i++) await ev(i, '203.0.113.1', 'session.connect');
      for (let i = 2; i < 5; i++) await ev(i, '203.0.113.2', 'login.failed');
      await ev(7, HOSTILE.img, 'session.connect');
      await rec.close();
      const data = await (await app.request('/api/v1/honeypot/hourly-by-class')).json();
      const { hours } = await (await app.request('/api/v1/honeypot/hourly')).json();
      expect(data.hours).toEqual(hours.map((h: { hour: string }) => h.hour));
      const sums = data.hours.map((_: string, i: number) =>
        data.classes.reduce((a: number, c: { events: number[] }) => a + c.events[i]!, 0),
      );
      expect(sums).toEqual(hours.map((h: { events: number }) => h.events));
      expect(data.classes.map((c: { class: string }) => c.class)).toEqual(['scanner', 'guesser']);
      const guesser = data.classes.find((c: { class: string }) => c.class === 'guesser');
      expect(guesser.events.reduce((a: number, b: number) => a + b, 0)).toBe(3);
      expect(
        Object.fromEntries(data.sources.map((s: { ip: string; class: string }) => [s.ip, s.class])),
      ).toEqual({ '203.0.113.1': 'scanner', '203.0.113.2': 'guesser', [HOSTILE.img]: 'scanner' });
      const page = await (await app.request('/honeypot')).text();
      for (const c of data.classes)
        expect(chart(page, `honeypot-class-${c.class}`), c.class).toEqual(c.events);
      expect(page).not.toContain('<img src=x');
    });

    it('draws top products and the diff between the last two scans, equal to their APIs', async () => {
      const before = await (await app.request('/exposure')).text();
      expect(before).toContain('no finished scan to compare');
      expect((await app.request('/api/v1/exposure/diff')).status).toBe(404);
      await importResults(
        t.store,
        scan([
          ['192.0.2.1', 22, 'OpenSSH'],
          ['192.0.2.1', 443, 'nginx'],
          ['192.0.2.2', 80, 'nginx'],
        ]),
        'first.xml',
      );
      await importResults(
        t.store,
        scan([
          ['192.0.2.1', 443, 'nginx'],
          ['192.0.2.3', 22, 'OpenSSH'],
        ]),
        'second.xml',
      );
      const diff = await (await app.request('/api/v1/exposure/diff')).json();
      // Only what the second scan probed counts: 192.0.2.2:80 was not probed again.
      const at = (l: { ip: string; port: number }[]) => l.map((s) => `${s.ip}:${s.port}`);
      expect(at(diff.appeared)).toEqual(['192.0.2.3:22']);
      expect(at(diff.disappeared)).toEqual(['192.0.2.1:22']);
      const { products } = await (await app.request('/api/v1/exposure/products')).json();
      const facet = (
        await (await app.request('/api/v1/exposure/search?q=&facet=product&limit=1')).json()
      ).facets.product;
      expect(products).toEqual(
        facet.slice(0, 10).map((f: { value: string; count: number }) => ({
          product: String(f.value),
          count: f.count,
        })),
      );
      const page = await (await app.request('/exposure')).text();
      expect(chart(page, 'exposure-products')).toEqual(
        products.map((p: { count: number }) => p.count),
      );
      expect(page).toContain(`data-diff="${diff.from}-${diff.to}"`);
      expect(page).toMatch(/data-appeared>1</);
      expect(page).toMatch(/data-disappeared>1</);
      expect((await app.request('/api/v1/exposure/diff?since=x')).status).toBe(400);
    });

    it('shows a host page with banners, history across scans and findings, equal to its API; hostile banners stay text', async () => {
      await importResults(
        t.store,
        scan([['192.0.2.9', 8080, `${esc(HOSTILE.img)} cam`]]).replace(
          'name="x"',
          `name="http" extrainfo="${esc(HOSTILE.script)}"`,
        ),
        'third.xml',
      );
      await recordFinding(t.store, {
        ip: '192.0.2.9',
        port: 8080,
        kind: 'no-auth',
        detail: `open ${HOSTILE.script}`,
        time: new Date().toISOString(),
      });
      const h = await (await app.request('/api/v1/exposure/host/192.0.2.1')).json();
      expect(h.services.map((s: { port: number }) => s.port)).toEqual([22, 443]);
      expect(
        h.history.map((r: { scanId: number; port: number }) => `${r.scanId}:${r.port}`).sort(),
      ).toEqual(['1:22', '1:443', '2:443']);
      const page = await (await app.request('/exposure/host/192.0.2.1')).text();
      expect(page.match(/data-banner="/g)).toHaveLength(2);
      const history = page.slice(page.indexOf('data-table="host-history"'));
      expect(history.slice(0, history.indexOf('</table>')).match(/<tr>/g)).toHaveLength(
        h.history.length + 1,
      );
      const nine = await (await app.request('/api/v1/exposure/host/192.0.2.9')).json();
      expect(nine.findings).toHaveLength(1);
      const hostile = await (await app.request('/exposure/host/192.0.2.9')).text();
      expect(hostile).toContain('data-table="host-findings"');
      expect(hostile).toContain('&lt;img src=x onerror=alert(1)&gt; cam');
      expect(hostile).not.toContain('<img src=x');
      expect(hostile).not.toContain('<script>alert');
      expect((await app.request('/api/v1/exposure/host/192.0.2.77')).status).toBe(404);
      expect((await app.request('/api/v1/exposure/host/not-an-ip')).status).toBe(400);
    });
  });
}
