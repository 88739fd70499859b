/**
 * The Overview's small charts in process on both backends, with each area's data stored through
 * its own API: findings by severity equal /api/v1/vuln/findings, top ports equal the exposure
 * search API's port facet, events per hour equal /api/v1/honeypot/hourly (last 24), stories per
 * day equal /api/v1/bulletin/stories; areas without data say so instead of drawing a chart.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addScope, importResults } from '../../src/exposure/index.js';
import { Recorder } from '../../src/honeypot/index.js';
import { checkComponents, recordCheckRun, syncFrom } from '../../src/vuln/index.js';
import { seedBulletin } from '../helpers/console-seed.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';
import { vector } from '../helpers/vectors.js';
import { type TestApp, testApp } from '../helpers/web.js';

const NMAP = `<?xml version="1.0"?><nmaprun scanner="nmap" args="nmap -sV 192.0.2.0/24" start="1764000000">
<host><status state="up"/><address addr="192.0.2.1" addrtype="ipv4"/><ports>
<port protocol="tcp" portid="22"><state state="open"/><service name="ssh" product="OpenSSH" version="9.6"/></port>
<port protocol="tcp" portid="80"><state state="open"/><service name="http" product="nginx"/></port></ports></host>
<host><status state="up"/><address addr="192.0.2.2" addrtype="ipv4"/><ports>
<port protocol="tcp" portid="80"><state state="open"/><service name="http"/></port>
<port protocol="tcp" portid="554"><state state="open"/><service name="rtsp"/></port></ports></host>
</nmaprun>`;

function chartBars(page: string, chart: string) {
  const at = page.indexOf(`data-chart="${chart}"`);
  if (at < 0) return undefined;
  const svg = page.slice(at);
  return [
    ...svg.slice(0, svg.indexOf('</svg>')).matchAll(/data-label="([^"]*)" data-value="(\d+)"/g),
  ].map((m) => ({ label: m[1], value: Number(m[2]) }));
}

for (const backend of testBackends()) {
  describe(`overview charts (${backend})`, () => {
    let t: TestStore;
    let dir: string;
    let app: TestApp;
    beforeAll(async () => {
      t = await freshStore(backend);
      dir = mkdtempSync(join(tmpdir(), 'mamori-overview-'));
      app = await testApp(t.store, 'test', 'viewer');
    }, 60_000);
    afterAll(async () => {
      await t?.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it('says which areas have no data instead of drawing empty charts', async () => {
      const page = await (await app.request('/')).text();
      expect(page).toContain('No recorded check yet.');
      expect(page).toContain('No service seen yet.');
      expect(page).toContain('No honeypot event yet.');
      expect(page).toContain('No wallet yet.');
      expect(page).toContain('The guard does not store its matches');
      expect(page).not.toContain('data-chart="overview-');
      const { charts } = await (await app.request('/api/v1/overview/charts')).json();
      expect(charts.every((c: { bars: unknown[] }) => c.bars.length === 0)).toBe(true);
    });

    it("draws one chart per area with data, each equal to that area's API", async () => {
      writeFileSync(
        join(dir, 'a.yaml'),
        readFileSync(vector('vuln/osv/pypa/aiohttp/PYSEC-2024-24.yaml')),
      );
      await syncFrom(t.store, { source: 'osv', from: join(dir, 'a.yaml') });
      const components = [{ name: 'aiohttp', version: '3.9.1', ecosystem: 'PyPI' }];
      await recordCheckRun(t.store, {
        origin: 'cli',
        inventories: ['requirements.txt'],
        components: 1,
        result: await checkComponents(t.store, components),
      });
      await addScope(t.store, { cidr: '192.0.2.0/24', owner: 'lab', allowCredentials: false });
      await importResults(t.store, NMAP, 'scan.xml');
      const rec = await Recorder.open({ store: t.store });
      const base = Date.parse('2026-11-02T10:00:00Z');
      for (let i = 0; i < 40; i++)
        await rec.record({
          eventid: 'session.connect',
          time: new Date(base + i * 30 * 60_000).toISOString(),
          session: `s${i}`,
          protocol: 'http',
          srcIp: `203.0.113.${i % 5}`,
          srcPort: 40000 + i,
          dstPort: 80,
          summary: {},
        });
      await rec.close();
      await seedBulletin(t.store, dir);

      const page = await (await app.request('/')).text();
      const api = async (path: string) => (await app.request(path)).json();
      const { charts } = await api('/api/v1/overview/charts');
      const drawn = (id: string) => chartBars(page, id);
      const served = (area: string) =>
        charts.find((c: { area: string }) => c.area === area).bars as {
          label: string;
          value: number;
        }[];

      const findings = await api('/api/v1/vuln/findings');
      const sev = ['critical', 'high', 'medium', 'low', 'unknown'].map((s) => ({
        label: s,
        value: findings.rows.filter(
          (r: { severity: string | null }) => (r.severity ?? 'unknown') === s,
        ).length,
      }));
      expect(findings.rows.length).toBeGreaterThan(0);
      expect(drawn('overview-vuln')).toEqual(sev);
      expect(served('vuln')).toEqual(sev);

      const search = await api('/api/v1/exposure/search?q=&facet=port&limit=1');
      const ports = search.facets.port
        .slice(0, 5)
        .map((f: { value: number; count: number }) => ({ label: String(f.value), value: f.count }));
      expect(ports).toContainEqual({ label: '80', value: 2 });
      expect(drawn('overview-exposure')).toEqual(ports);

      const { hours } = await api('/api/v1/honeypot/hourly');
      const last24 = hours.slice(-24).map((h: { hour: string; events: number }) => ({
        label: h.hour.slice(11, 13),
        value: h.events,
      }));
      expect(drawn('overview-honeypot')).toEqual(last24);
      expect(last24.reduce((a: number, b: { value: number }) => a + b.value, 0)).toBe(40);

      const { stories } = await api('/api/v1/bulletin/stories');
      const perDay = new Map<string, number>();
      for (const s of stories as { lastSeen: string }[])
        perDay.set(s.lastSeen.slice(0, 10), (perDay.get(s.lastSeen.slice(0, 10)) ?? 0) + 1);
      const days = [...perDay.keys()].sort().map((d) => ({ label: d, value: perDay.get(d) }));
      expect(stories.length).toBe(2);
      expect(drawn('overview-bulletin')).toEqual(days);

      expect(drawn('overview-custody')).toBeUndefined();
      expect(page).toContain('No exposure scan is running.');
    });
  });
}
