/**
 * The Guard page in Debian's Chromium (playwright-core): signed in with a password, the charts'
 * numbers equal /api/v1/guard/summary, a match opens its detail, attacker text stays text,
 * axe-core finds no serious or critical violation (English, Japanese, 390 px), and the browser
 * logs no console error.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../src/access/index.js';
import { type RunningServer, startServer } from '../../src/web/index.js';
import { freshStore, type TestStore } from '../helpers/db.js';
import { HOSTILE, seedGuardMatches } from '../helpers/guard.js';

const CHROMIUM = process.env.MAMORI_TEST_CHROMIUM ?? '/usr/bin/chromium';
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const PASSWORD = 'correct horse battery staple';

describe('Guard page in Chromium', () => {
  let browser: Browser;
  let server: RunningServer;
  let t: TestStore;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install chromium)`);
    t = await freshStore('sqlite');
    await addUser(t.store, { name: 'aiko', role: 'viewer', password: PASSWORD });
    await seedGuardMatches(t);
    server = await startServer({ store: t.store, host: '127.0.0.1', port: 0, version: 'test' });
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
    await t?.cleanup();
  });

  async function signedIn(viewport = { width: 1280, height: 900 }, locale = 'en-US') {
    const context = await browser.newContext({ viewport, locale });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('dialog', (d) => {
      problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    await page.goto(new URL('/login', server.url).toString());
    await page.getByLabel('User name').fill('aiko');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(server.url);
    return { page, context, problems };
  }

  async function axe(page: Page) {
    await page.evaluate(AXE);
    const r = (await page.evaluate(
      'axe.run(document, { resultTypes: ["violations"] }).then(r => r.violations.map(v => ({ id: v.id, impact: v.impact, target: v.nodes[0] && v.nodes[0].target })))',
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

  it('charts equal the API, a match opens its detail, no axe or console problems', async () => {
    const { page, context, problems } = await signedIn();
    const nav = await page.goto(new URL('/guard', server.url).toString());
    expect(nav?.status()).toBe(200);
    const s = await (
      await context.request.get(new URL('/api/v1/guard/summary', server.url).toString())
    ).json();
    expect(s.matches).toBe(50);
    expect(await bars(page, 'guard-hour')).toEqual(
      s.perHour.map((h: { hour: string; blocked: number; logged: number }) => ({
        label: h.hour,
        value: h.blocked + h.logged,
      })),
    );
    expect(await bars(page, 'guard-action')).toEqual([
      { label: 'blocked', value: s.blockedRequests },
      { label: 'logged', value: s.loggedRequests },
    ]);
    expect(await page.locator('table[data-table="rules"] tbody tr').count()).toBe(
      s.topRules.length,
    );
    expect(await page.locator('table[data-table="clients"] tbody tr').count()).toBe(
      s.topClients.length,
    );
    // Attacker text is shown as text, never run (a dialog would be recorded as a problem).
    await expect
      .poll(() => page.locator('table[data-table="matches"] code', { hasText: HOSTILE }).count())
      .toBeGreaterThan(0);
    expect(await axe(page)).toEqual([]);

    await page.locator('table[data-table="matches"] tbody tr a').first().click();
    await page.waitForURL(/\/guard\?match=\d+/);
    await expect.poll(() => page.locator('[data-guard="detail"] pre').textContent()).toBe(HOSTILE);
    expect(await axe(page)).toEqual([]);

    await page.goto(new URL('/guard?lang=ja', server.url).toString());
    expect(await page.locator('h1').textContent()).toBe('ガード');
    expect(await axe(page)).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  }, 120_000);

  it('works on a 390 px screen', async () => {
    const { page, context, problems } = await signedIn({ width: 390, height: 844 });
    await page.goto(new URL('/guard', server.url).toString());
    expect(await page.locator('svg[data-chart="guard-hour"]').count()).toBe(1);
    expect(await axe(page)).toEqual([]);
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    expect(problems).toEqual([]);
    await context.close();
  }, 120_000);
});
