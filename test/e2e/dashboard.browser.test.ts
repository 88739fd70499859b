/**
 * The dashboard in a real headless Chromium (Debian's /usr/bin/chromium driven by
 * playwright-core): the shell renders, navigation reaches every area, each shows an honest
 * empty state, and the page runs under its CSP without violations.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../src/access/index.js';
import { type RunningServer, startServer } from '../../src/web/index.js';
import { freshStore, type TestStore } from '../helpers/db.js';

const CHROMIUM = process.env.MAMORI_TEST_CHROMIUM ?? '/usr/bin/chromium';

describe('dashboard in Chromium', () => {
  let browser: Browser;
  let server: RunningServer;
  let t: TestStore;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install chromium)`);
    t = await freshStore('sqlite');
    await addUser(t.store, {
      name: 'vera',
      role: 'viewer',
      password: 'correct horse battery staple',
    });
    server = await startServer({
      store: t.store,
      host: '127.0.0.1',
      port: 0,
      version: '0.0.0-test',
    });
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
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await t?.cleanup();
  });

  it('shows the overview with navigation for every area, and each area page has an empty state', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(server.url);
    // every page needs a session: the console sends us to sign in first, then back
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.getByLabel('User name').fill('vera');
    await page.getByLabel('Password').fill('correct horse battery staple');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(server.url);
    expect(await page.title()).toBe('Overview · Mamori');
    const navTexts = await page.locator('nav a').allTextContents();
    expect(navTexts).toEqual([
      'Overview',
      'Vulnerabilities',
      'Custody',
      'Tracing',
      'Exposure',
      'Honeypot',
      'Bulletin',
      'Guard',
      'Workers',
    ]);
    // the stylesheet loaded (CSP allows 'self' only): the header is laid out as flex
    expect(await page.locator('header.top').evaluate((el) => getComputedStyle(el).display)).toBe(
      'flex',
    );

    for (const [link, path] of [
      ['Vulnerabilities', '/vuln'],
      ['Custody', '/custody'],
      ['Exposure', '/exposure'],
    ] as const) {
      await page.locator('nav a', { hasText: link }).click();
      await page.waitForURL(new URL(path, server.url).toString());
      expect(await page.locator('nav a[aria-current="page"]').textContent()).toBe(link);
      await expect.poll(() => page.locator('h1').textContent()).toBe(link);
    }
    for (const area of ['vuln', 'custody', 'trace', 'exposure', 'honeypot', 'bulletin']) {
      await page.goto(new URL(`/${area}`, server.url).toString());
      const main = page.locator('main');
      // an area either shows its data or says plainly that there is none and what to run
      const empty = await main.locator('[data-empty="true"]').count();
      if (empty > 0)
        expect(await main.locator('[data-empty="true"] code').textContent()).toMatch(/^mamori /);
      else expect((await main.textContent())?.trim().length).toBeGreaterThan(0);
    }
    expect(problems).toEqual([]);
    const missing = await page.goto(new URL('/no-such-page', server.url).toString());
    expect(missing?.status()).toBe(404);
    expect(await page.locator('h1').textContent()).toBe('Not found');
    await page.close();
  });
});
