/**
 * The console's pages in Debian's Chromium (playwright-core), with every area's data stored
 * through its own API: each page renders, each chart's numbers (the SVG's data-value) equal the
 * JSON API's, no console errors, axe-core finds no serious or critical violation, nothing
 * scrolls sideways at 390 px, hostile strings stored in bulletin, trace and exposure fields stay
 * text (no dialog, no injected element), the taint flow graph works from the keyboard, an
 * operator edits the bulletin commentary and publishes, and a viewer gets 403.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../src/access/index.js';
import { addScope, importResults } from '../../src/exposure/index.js';
import { Recorder } from '../../src/honeypot/index.js';
import {
  ingestFiles,
  recordScreening,
  screenDeposit,
  tagFunds,
  taintFromStore,
} from '../../src/trace/index.js';
import { checkComponents, recordCheckRun, syncFrom } from '../../src/vuln/index.js';
import { type RunningServer, startServer } from '../../src/web/index.js';
import { HOSTILE, seedBulletin } from '../helpers/console-seed.js';
import { freshStore, type TestStore } from '../helpers/db.js';
import { vector } from '../helpers/vectors.js';
import { BLK, chainGraph, names } from '../trace/fixtures.js';

const CHROMIUM = process.env.MAMORI_TEST_CHROMIUM ?? '/usr/bin/chromium';
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const PASSWORD = 'correct horse battery staple';
const attr = (s: string) =>
  s
    .replaceAll('&', '&amp;')
    .replaceAll('"', '&quot;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;');

const NMAP = `<?xml version="1.0"?><nmaprun scanner="nmap" args="nmap -sV 192.0.2.0/24" start="1764000000">
<host><status state="up"/><address addr="192.0.2.1" addrtype="ipv4"/><ports>
<port protocol="tcp" portid="22"><state state="open"/><service name="ssh" product="${attr(HOSTILE.img)}" version="${attr(HOSTILE.script)}"/></port>
<port protocol="tcp" portid="80"><state state="open"/><service name="http" product="nginx"/></port></ports></host>
<host><status state="up"/><address addr="192.0.2.2" addrtype="ipv4"/><ports>
<port protocol="tcp" portid="554"><state state="open"/><service name="rtsp"/></port></ports></host>
</nmaprun>`;

type Bars = { label: string; value: number }[];

describe('console pages in Chromium', () => {
  let browser: Browser;
  let server: RunningServer;
  let t: TestStore;
  let dir: string;
  const savedXdg = process.env.XDG_DATA_HOME;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install chromium)`);
    dir = mkdtempSync(join(tmpdir(), 'mamori-pages-'));
    process.env.XDG_DATA_HOME = join(dir, 'xdg'); // where the console publishes the bulletin
    t = await freshStore('sqlite');
    await addUser(t.store, { name: 'aiko', role: 'operator', password: PASSWORD });
    await addUser(t.store, { name: 'vera', role: 'viewer', password: PASSWORD });
    // vuln
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
    await recordCheckRun(t.store, {
      origin: 'cli',
      inventories: ['requirements.txt'],
      components: 1,
      result: await checkComponents(t.store, components),
    });
    // exposure, with hostile banner fields
    await addScope(t.store, { cidr: '192.0.2.0/24', owner: 'test lab', allowCredentials: false });
    await importResults(t.store, NMAP, 'scan.xml');
    // honeypot
    const recorder = await Recorder.open({ store: t.store });
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
    await recorder.close();
    // bulletin, with hostile titles and source names
    await seedBulletin(t.store, dir);
    // trace, with a hostile label and source; one recorded flow and one screening
    await ingestFiles(t.store, [BLK()]);
    const split = String(names()['taint-split-tx-1']);
    const label = `nem-2018 ${HOSTILE.img}`;
    await tagFunds(t.store, { target: `${split}:0`, label, source: HOSTILE.script });
    await taintFromStore(t.store, { model: 'haircut', label, record: true });
    const spender = chainGraph().spender(split, 0)!;
    await recordScreening(
      t.store,
      await screenDeposit(t.store, spender),
      HOSTILE.img,
      new Date().toISOString(),
    );
    server = await startServer({ store: t.store, host: '127.0.0.1', port: 0, version: 'test' });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await t?.cleanup();
    if (savedXdg === undefined) delete process.env.XDG_DATA_HOME;
    else process.env.XDG_DATA_HOME = savedXdg;
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
    page.on('dialog', async (d) => {
      problems.push(`dialog: ${d.message()}`);
      await d.dismiss();
    });
    await page.goto(new URL('/login', server.url).toString());
    await page.getByLabel('User name').fill(name);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(server.url);
    const api = async (path: string) =>
      (await context.request.get(new URL(path, server.url).toString())).json();
    return { page, context, problems, api };
  }

  async function axe(page: Page) {
    await page.evaluate(AXE);
    const r = (await page.evaluate(
      'axe.run(document, { resultTypes: ["violations"] }).then(r => r.violations.map(v => ({ id: v.id, impact: v.impact, target: v.nodes[0] && v.nodes[0].target })))',
    )) as { id: string; impact: string }[];
    return r.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  }

  /** What each chart must show, read from the JSON API. */
  async function expected(
    // biome-ignore lint/suspicious/noExplicitAny: JSON from the API, read field by field
    api: (p: string) => Promise<any>,
    chart: string,
  ): Promise<number[]> {
    const values = (bars: Bars) => bars.map((b) => b.value);
    if (chart.startsWith('overview-')) {
      const { charts } = await api('/api/v1/overview/charts');
      return values(charts.find((c: { id: string }) => c.id === chart).bars);
    }
    switch (chart) {
      case 'vuln-quarter':
        return (await api('/api/v1/vuln/charts')).quarter.map((r: { count: number }) => r.count);
      case 'vuln-cwe':
        return (await api('/api/v1/vuln/charts')).cwe.map((r: { count: number }) => r.count);
      case 'exposure-ports':
        return (await api('/api/v1/exposure/search?q=&facet=port&limit=1')).facets.port
          .slice(0, 10)
          .map((f: { count: number }) => f.count);
      case 'honeypot-hourly':
        return (await api('/api/v1/honeypot/hourly')).hours.map(
          (h: { events: number }) => h.events,
        );
      case 'bulletin-sources':
        return (await api('/api/v1/bulletin/sources')).sources.map(
          (s: { articleCount: number }) => s.articleCount,
        );
      case 'trace-flow':
        return (await api('/api/v1/trace/flow/1')).edges.map((e: { tainted: number }) => e.tainted);
      case 'trace-verdicts': {
        const { screenings } = await api('/api/v1/trace/screenings');
        return ['accept', 'review', 'refuse'].map(
          (v) => screenings.filter((s: { verdict: string }) => s.verdict === v).length,
        );
      }
    }
    throw new Error(`no API expectation for chart ${chart}: add one`);
  }

  const PAGES = [
    '/',
    '/vuln',
    '/exposure',
    '/exposure/host/192.0.2.1',
    '/honeypot',
    '/bulletin',
    '/bulletin/issues/1',
    '/trace',
    '/trace/flow/1',
  ];

  it('every page renders; every chart equals the API; axe finds nothing serious; no console errors; hostile strings stay text', async () => {
    const { page, context, problems, api } = await signedIn('aiko');
    let charts = 0;
    for (const path of PAGES) {
      const r = await page.goto(new URL(path, server.url).toString());
      expect(r?.status(), path).toBe(200);
      expect(await axe(page), path).toEqual([]);
      const ids = await page
        .locator('svg[data-chart]')
        .evaluateAll((svgs) => svgs.map((s) => s.getAttribute('data-chart')!));
      for (const id of ids) {
        const drawn = await page
          .locator(`svg[data-chart="${id}"] [data-value]`)
          .evaluateAll((gs) => gs.map((g) => Number(g.getAttribute('data-value'))));
        expect(drawn, `${path} ${id}`).toEqual(await expected(api, id));
        charts++;
      }
      // Stored hostile markup is text: no element, no handler, no dialog.
      const injected = await page.evaluate(
        () =>
          document.querySelectorAll('img, [onerror], script:not([src="/static/console.js"])')
            .length,
      );
      expect(injected, path).toBe(0);
    }
    const seen = new Set<string>();
    for (const path of ['/', '/bulletin', '/trace', '/trace/flow/1', '/exposure']) {
      await page.goto(new URL(path, server.url).toString());
      for (const id of await page
        .locator('svg[data-chart]')
        .evaluateAll((s) => s.map((x) => x.getAttribute('data-chart')!)))
        seen.add(id);
    }
    for (const id of [
      'overview-vuln',
      'overview-exposure',
      'overview-honeypot',
      'overview-bulletin',
      'bulletin-sources',
      'trace-flow',
      'trace-verdicts',
    ])
      expect(seen, id).toContain(id);
    expect(charts).toBeGreaterThan(10);
    // The hostile strings are on the pages, as text.
    await page.goto(new URL('/exposure/host/192.0.2.1', server.url).toString());
    expect(await page.locator('main').textContent()).toContain(HOSTILE.img);
    await page.goto(new URL('/trace', server.url).toString());
    expect(await page.locator('table[data-table="screenings"]').textContent()).toContain(
      HOSTILE.img,
    );
    expect(problems).toEqual([]);
    await context.close();
  }, 300_000);

  it('the taint flow graph is usable from the keyboard', async () => {
    const { page, context, problems } = await signedIn('vera');
    await page.goto(new URL('/trace/flow/1', server.url).toString());
    const first = page.locator('svg[data-chart="trace-flow"] a.node').first();
    const txid = await first.getAttribute('data-txid');
    await page.locator('main').focus();
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      if (await first.evaluate((el) => el === document.activeElement)) break;
    }
    expect(await first.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.keyboard.press('Enter');
    await page.waitForURL(new RegExp(`#tx-${txid}$`));
    expect(await page.locator(`#tx-${txid}`).textContent()).toContain(txid);
    expect(problems).toEqual([]);
    await context.close();
  }, 60_000);

  it('an operator edits the commentary and publishes; hostile commentary stays text', async () => {
    const { page, context, problems } = await signedIn('aiko');
    await page.goto(new URL('/bulletin/issues/1', server.url).toString());
    const box = page.locator('textarea').first();
    const commentary = `Patch today. ${HOSTILE.script} ${HOSTILE.img}`;
    await box.fill(commentary);
    await page.locator('form:has(textarea) button').first().click();
    await page.waitForURL(/#story-\d+$/);
    expect(await page.locator('textarea').first().inputValue()).toBe(commentary);
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.waitForURL(/\/bulletin\/issues\/1$/);
    expect(await page.locator('[data-issue-status]').getAttribute('data-issue-status')).toBe(
      'published',
    );
    expect(await page.locator('[data-commentary]').first().textContent()).toContain(commentary);
    expect(existsSync(join(dir, 'xdg', 'mamori', 'bulletin', 'issue-1.html'))).toBe(true);
    expect(await page.evaluate(() => document.querySelectorAll('img, [onerror]').length)).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  }, 60_000);

  it('fits a 390 px screen in Japanese, and a viewer gets 403 on publish and screening', async () => {
    const { page, context } = await signedIn('vera', { width: 390, height: 844 });
    for (const path of PAGES) {
      await page.goto(
        new URL(`${path}${path.includes('?') ? '&' : '?'}lang=ja`, server.url).toString(),
      );
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - window.innerWidth,
      );
      expect(overflow, path).toBeLessThanOrEqual(0);
    }
    await page.goto(new URL('/trace', server.url).toString());
    expect(await page.locator('form[action="/trace/screen"]').count()).toBe(0);
    const statuses = await page.evaluate(async () => {
      const csrf = (document.querySelector('input[name=_csrf]') as HTMLInputElement).value;
      const headers = { 'x-csrf-token': csrf, 'content-type': 'application/json' };
      const pub = await fetch('/api/v1/bulletin/issues/1/publish', { method: 'POST', headers });
      const screen = await fetch('/api/v1/trace/screenings', {
        method: 'POST',
        headers,
        body: JSON.stringify({ target: 'x' }),
      });
      return [pub.status, screen.status, (await screen.json()).error.details.reason];
    });
    expect(statuses).toEqual([403, 403, 'role']);
    await context.close();
  }, 120_000);
});
