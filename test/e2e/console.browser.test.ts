/**
 * The console in Debian's Chromium (playwright-core): sign in with a password, every page with
 * data renders charts whose numbers equal the API's, no console errors, axe-core finds no
 * serious or critical violation, 390 px wide screens, the honeypot's live tail over SSE, a
 * viewer refused on upload and approve, and a cross-site form refused.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../src/access/index.js';
import { createAlertSink } from '../../src/alerts/index.js';
import { addScope, importResults } from '../../src/exposure/index.js';
import { Recorder } from '../../src/honeypot/index.js';
import { checkComponents, recordCheckRun, syncFrom } from '../../src/vuln/index.js';
import { type RunningServer, startServer } from '../../src/web/index.js';
import { freshStore, type TestStore } from '../helpers/db.js';
import { vector } from '../helpers/vectors.js';

const CHROMIUM = process.env.MAMORI_TEST_CHROMIUM ?? '/usr/bin/chromium';
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const PASSWORD = 'correct horse battery staple';

const NMAP = `<?xml version="1.0"?><nmaprun scanner="nmap" args="nmap -sV 192.0.2.0/24" start="1764000000">
<host><status state="up"/><address addr="192.0.2.1" addrtype="ipv4"/><ports>
<port protocol="tcp" portid="22"><state state="open"/><service name="ssh" product="OpenSSH" version="9.6"/></port>
<port protocol="tcp" portid="80"><state state="open"/><service name="http" product="nginx"/></port></ports></host>
<host><status state="up"/><address addr="192.0.2.2" addrtype="ipv4"/><ports>
<port protocol="tcp" portid="554"><state state="open"/><service name="rtsp"/></port></ports></host>
</nmaprun>`;

describe('console in Chromium', () => {
  let browser: Browser;
  let server: RunningServer;
  let t: TestStore;
  let dir: string;
  let recorder: Recorder;
  let evil: Server;
  let evilUrl: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install chromium)`);
    dir = mkdtempSync(join(tmpdir(), 'mamori-console-'));
    t = await freshStore('sqlite');
    await addUser(t.store, { name: 'aiko', role: 'operator', password: PASSWORD });
    await addUser(t.store, { name: 'vera', role: 'viewer', password: PASSWORD });
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
    const components = [{ name: 'aiohttp', version: '3.9.1', ecosystem: 'PyPI' }];
    const result = await checkComponents(t.store, components);
    await recordCheckRun(t.store, {
      origin: 'cli',
      inventories: ['requirements.txt'],
      components: 1,
      result,
    });
    await addScope(t.store, { cidr: '192.0.2.0/24', owner: 'test lab', allowCredentials: false });
    await importResults(t.store, NMAP, 'scan.xml');
    await createAlertSink({ store: t.store }).raise({
      area: 'honeypot',
      kind: 'honeypot.first_contact',
      severity: 'high',
      message: 'first contact from 203.0.113.9',
      next: 'look at the honeypot page',
    });
    recorder = await Recorder.open({ store: t.store });
    const base = Date.parse('2026-11-02T10:00:00Z');
    for (let i = 0; i < 30; i++)
      await recorder.record({
        eventid: 'session.connect',
        time: new Date(base + i * 7 * 60_000).toISOString(),
        session: `s${i}`,
        protocol: 'http',
        srcIp: `203.0.113.${i % 4}`,
        srcPort: 40000 + i,
        dstPort: 80,
        summary: {},
      });
    await recorder.flush();
    server = await startServer({
      store: t.store,
      host: '127.0.0.1',
      port: 0,
      version: '0.0.0-test',
    });
    // A page on another origin that posts a form to the console (a CSRF attempt).
    evil = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(
        `<!doctype html><form id="f" method="post" action="${new URL('/alerts/1/ack', server.url)}"><input name="_csrf" value="guess"></form><script>document.getElementById('f').submit()</script>`,
      );
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', () => r()));
    evilUrl = `http://127.0.0.1:${(evil.address() as { port: number }).port}/`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await new Promise((r) => evil?.close(r));
    await recorder?.close();
    await t?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  async function signedIn(name: string, viewport = { width: 1280, height: 900 }) {
    const context = await browser.newContext({ viewport, locale: 'en-US' });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(new URL('/login', server.url).toString());
    await page.getByLabel('User name').fill(name);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(server.url);
    return { page, context, problems };
  }

  async function axe(page: Page) {
    await page.evaluate(AXE);
    const r = (await page.evaluate(
      'axe.run(document, { resultTypes: ["violations"] }).then(r => r.violations.map(v => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, target: v.nodes[0] && v.nodes[0].target })))',
    )) as { id: string; impact: string }[];
    return r.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  }

  async function bars(page: Page, chart: string) {
    return page.locator(`svg[data-chart="${chart}"] g[data-value]`).evaluateAll((gs) =>
      gs.map((g) => ({
        label: g.getAttribute('data-label'),
        value: Number(g.getAttribute('data-value')),
      })),
    );
  }

  it('signs in with a password; every page renders, passes axe, logs no errors; charts equal the API', async () => {
    const { page, context, problems } = await signedIn('aiko');
    const api = async (path: string) =>
      (await context.request.get(new URL(path, server.url).toString())).json();
    const pages = [
      '/',
      '/vuln',
      '/vuln/v/CVE-2024-23334',
      '/custody',
      '/trace',
      '/exposure',
      '/exposure/host/192.0.2.1',
      '/honeypot',
      '/bulletin',
      '/account/password',
    ];
    for (const path of pages) {
      const r = await page.goto(new URL(path, server.url).toString());
      expect(r?.status(), path).toBe(200);
      expect(await axe(page), path).toEqual([]);
    }
    // Vulnerabilities: findings one row per vuln+package, charts per quarter and CWE
    await page.goto(new URL('/vuln', server.url).toString());
    const findings = await api('/api/v1/vuln/findings');
    expect(findings.rows.map((r: { id: string }) => r.id)).toEqual(['CVE-2024-23334']);
    expect(await page.locator('table[data-table="findings"] tbody tr').count()).toBe(
      findings.rows.length,
    );
    const charts = await api('/api/v1/vuln/charts');
    const quarter = await api('/api/v1/vuln/stats?by=quarter&source=jvn');
    expect(charts.quarter).toEqual(quarter.rows.slice(-16));
    expect(await bars(page, 'vuln-quarter')).toEqual(
      charts.quarter.map((r: { key: string; count: number }) => ({ label: r.key, value: r.count })),
    );
    const cwe = await api('/api/v1/vuln/stats?by=cwe&source=jvn&top=10');
    expect(await bars(page, 'vuln-cwe')).toEqual(
      cwe.rows.map((r: { key: string; count: number }) => ({ label: r.key, value: r.count })),
    );
    expect(cwe.rows.length).toBeGreaterThan(0);
    // search
    await page.getByLabel(/Search/).fill('aiohttp');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => page.locator('table[data-table="findings"] tbody tr').count()).toBe(1);
    // Exposure: the ports chart equals the search API's port facet
    await page.goto(new URL('/exposure', server.url).toString());
    const search = await api('/api/v1/exposure/search?q=&facet=port,product&limit=50');
    expect(await bars(page, 'exposure-ports')).toEqual(
      search.facets.port
        .slice(0, 10)
        .map((f: { value: number; count: number }) => ({ label: String(f.value), value: f.count })),
    );
    await page.getByLabel(/Search/).fill('port:554');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => page.locator('[data-total]').textContent()).toBe('1');
    // Honeypot: events per hour equal the API's
    await page.goto(new URL('/honeypot', server.url).toString());
    const hourly = await api('/api/v1/honeypot/hourly');
    const drawn = await bars(page, 'honeypot-hourly');
    expect(drawn.map((b) => b.value)).toEqual(
      hourly.hours.map((h: { events: number }) => h.events),
    );
    expect(drawn.reduce((a, b) => a + b.value, 0)).toBe(30);
    // Overview: acknowledge the alert with the keyboard
    await page.goto(server.url);
    await page.getByRole('button', { name: /Acknowledge/ }).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/#alerts$/);
    expect(await page.locator('[data-open-alerts]').textContent()).toBe('0');
    const alerts = await api('/api/v1/alerts');
    expect(alerts.alerts[0]).toMatchObject({ acknowledgedBy: 'aiko' });
    expect(problems).toEqual([]);
    await context.close();
  }, 180_000);

  it('streams new honeypot events into the live tail (SSE)', async () => {
    const { page, context, problems } = await signedIn('aiko');
    await page.goto(new URL('/honeypot', server.url).toString());
    const before = await page.locator('table[data-live-tail] tbody tr').count();
    await recorder.record({
      eventid: 'session.connect',
      time: new Date().toISOString(),
      session: 'live',
      protocol: 'rtsp',
      srcIp: '198.51.100.77',
      srcPort: 50000,
      dstPort: 554,
      summary: {},
    });
    await recorder.flush();
    await expect
      .poll(() => page.locator('table[data-live-tail] tbody tr').first().textContent(), {
        timeout: 15_000,
      })
      .toContain('198.51.100.77');
    expect(await page.locator('table[data-live-tail] tbody tr').count()).toBe(before + 1);
    expect(problems).toEqual([]);
    await context.close();
  }, 60_000);

  it('fits a 390 px screen, in Japanese when asked', async () => {
    const { page, context } = await signedIn('vera', { width: 390, height: 844 });
    for (const path of ['/', '/vuln', '/exposure', '/honeypot']) {
      await page.goto(new URL(`${path}?lang=ja`, server.url).toString());
      expect(await page.evaluate(() => document.documentElement.lang)).toBe('ja');
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - window.innerWidth,
      );
      expect(overflow, path).toBeLessThanOrEqual(0);
    }
    expect(await page.locator('nav a').first().textContent()).toBe('概要');
    await context.close();
  }, 60_000);

  it('a viewer gets 403 on upload and approve', async () => {
    const { page, context } = await signedIn('vera');
    await page.goto(new URL('/vuln', server.url).toString());
    expect(await page.locator('input[type=file]').count()).toBe(0);
    const statuses = await page.evaluate(async () => {
      const csrf = (document.querySelector('input[name=_csrf]') as HTMLInputElement).value;
      const form = new FormData();
      form.set('_csrf', csrf);
      form.set('file', new Blob(['aiohttp==3.9.1\n']), 'requirements.txt');
      const up = await fetch('/vuln/upload', { method: 'POST', body: form });
      const approve = await fetch('/api/v1/custody/withdrawals/1/approve', {
        method: 'POST',
        headers: { 'x-csrf-token': csrf },
      });
      return [up.status, approve.status, (await approve.json()).error.details.reason];
    });
    expect(statuses).toEqual([403, 403, 'role']);
    await context.close();
  }, 60_000);

  it('a form posted from another site changes nothing', async () => {
    const { page, context } = await signedIn('aiko');
    const before = await (
      await context.request.get(new URL('/api/v1/alerts', server.url).toString())
    ).json();
    await page.goto(evilUrl);
    await page.waitForLoadState('networkidle');
    const after = await (
      await context.request.get(new URL('/api/v1/alerts', server.url).toString())
    ).json();
    expect(after).toEqual(before);
    await context.close();
  }, 60_000);
});
