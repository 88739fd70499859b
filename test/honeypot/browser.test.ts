/**
 * What a person clicks, in a real browser (playwright-core with Debian's chromium): log in on
 * the camera page, watch the MJPEG live view decode (our JPEG encoder's frames), pan left,
 * open a snapshot; every step is recorded.
 */
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningHoneypot, startHoneypot } from '../../src/honeypot/index.js';
import { freshStore, type TestStore } from '../helpers/db.js';

const CHROMIUM = process.env.MAMORI_TEST_CHROMIUM ?? '/usr/bin/chromium';

describe('camera web UI in a browser', () => {
  let t: TestStore;
  let hp: RunningHoneypot;
  beforeAll(async () => {
    t = await freshStore('sqlite');
    hp = await startHoneypot({
      store: t.store,
      ports: { http: 0, rtsp: 0, telnet: 0, onvif: 0 },
      auth: 'weak',
    });
  });
  afterAll(async () => {
    await hp?.stop();
    await t?.cleanup();
  });

  it('logs in, shows decodable live frames, pans and snapshots', async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      const base = `http://127.0.0.1:${hp.ports.http}`;
      await page.goto(`${base}/`);
      expect(await page.title()).toBe('IPCAM Web Client');
      await page.fill('input[name=user]', 'admin');
      await page.fill('input[name=pwd]', 'wrong');
      await page.click('button[type=submit]');
      await expect.poll(() => page.textContent('body')).toContain('Wrong user name or password');
      await page.fill('input[name=user]', 'admin');
      await page.fill('input[name=pwd]', 'admin');
      await page.click('button[type=submit]');
      await page.waitForURL(/\/live\.html$/, { waitUntil: 'commit' });
      await page.waitForFunction(
        () => {
          const img = document.querySelector('img');
          return img !== null && img.naturalWidth === 320 && img.naturalHeight === 240;
        },
        undefined,
        { timeout: 10_000 },
      );
      await page.click('button[value=Left]');
      await page.waitForURL(/ptz\.cgi/, { waitUntil: 'commit' });
      await page.goto(`${base}/snapshot.jpg`);
      const size = await page.evaluate(() => {
        const img = document.querySelector('img');
        return img ? [img.naturalWidth, img.naturalHeight] : null;
      });
      expect(size).toEqual([320, 240]);
      await page.close();
    } finally {
      await browser.close();
    }
    await hp.recorder!.flush();
    const rows = await t.store.db
      .selectFrom('honeypot_event')
      .select(['eventid', 'username', 'password', 'summary'])
      .where('eventid', 'in', ['login.failed', 'login.success', 'stream.view', 'ptz.command'])
      .orderBy('id')
      .execute();
    expect(rows.map((r) => r.eventid)).toEqual([
      'login.failed',
      'login.success',
      'stream.view',
      'ptz.command',
      'stream.view',
    ]);
    expect(rows[0]).toMatchObject({ username: 'admin', password: 'wrong' });
    expect(JSON.parse(rows[3]!.summary)).toMatchObject({ vendor: 'dahua', action: 'start:Left' });
  });
});
