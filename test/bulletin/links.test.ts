/**
 * Cross-area links on both backends, with the other areas' real code and real data: a story
 * naming CVE-2023-46136 shows the severity the vuln area synced from the PyPA OSV record, and
 * an IoT story carries what the reader's own honeypot recorded. Feeds are local files.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  addSource,
  draftIssue,
  fetchAll,
  renderMarkdown,
  storeLinks,
} from '../../src/bulletin/index.js';
import { Recorder } from '../../src/honeypot/index.js';
import { syncFrom } from '../../src/vuln/index.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';
import { vector } from '../helpers/vectors.js';

const NOW = Date.UTC(2026, 10, 20);

function feed(): string {
  return JSON.stringify({
    version: 'https://jsonfeed.org/version/1.1',
    title: 'Local desk',
    home_page_url: 'https://local.example/',
    items: [
      {
        id: 'werkzeug',
        url: 'https://local.example/werkzeug',
        title: 'Werkzeug multipart parser can be made to burn CPU',
        content_text:
          'Werkzeug fixed CVE-2023-46136, a denial of service in its multipart form parser. An upload that starts with CR or LF followed by megabytes of data makes the parser search a growing buffer again and again. Versions 2.3.8 and 3.0.1 fix the flaw.',
        date_published: '2026-11-18T09:00:00Z',
      },
      {
        id: 'cameras',
        url: 'https://local.example/cameras',
        title: 'Botnet scans for IP cameras with factory passwords',
        content_text:
          'A new wave of scans targets IP cameras and video recorders that still use factory default passwords. The botnet logs in over Telnet and HTTP and enrols the device for DDoS attacks. Owners should change default passwords and update firmware.',
        date_published: '2026-11-19T09:00:00Z',
      },
    ],
  });
}

for (const backend of testBackends()) {
  describe(`bulletin cross-area links (${backend})`, () => {
    let t: TestStore;
    let dir: string;
    beforeEach(async () => {
      t = await freshStore(backend);
      dir = mkdtempSync(join(tmpdir(), 'mamori-bulletin-links-'));
    });
    afterEach(async () => {
      await t.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it('shows vuln severity for a story id and the honeypot figures on an IoT story', async () => {
      const osvDir = join(dir, 'osv');
      const { mkdirSync } = await import('node:fs');
      mkdirSync(osvDir);
      copyFileSync(
        vector('vuln/osv/pypa/werkzeug/PYSEC-2023-221.yaml'),
        join(osvDir, 'PYSEC-2023-221.yaml'),
      );
      expect((await syncFrom(t.store, { source: 'osv', from: osvDir })).added).toBe(1);
      const rec = await Recorder.open({ store: t.store });
      for (let i = 0; i < 3; i++) {
        await rec.record({
          eventid: 'login.failed',
          time: new Date(NOW - 3_600_000 + i * 1000).toISOString(),
          session: `s${i}`,
          protocol: 'telnet',
          srcIp: '127.0.0.2',
          srcPort: 40000 + i,
          dstPort: 23,
          username: 'root',
          password: 'xc3511',
          summary: {},
        });
      }
      await rec.close();

      const feedPath = join(dir, 'feed.json');
      writeFileSync(feedPath, feed());
      await addSource(
        t.store.db,
        feedPath,
        { name: 'Local desk', lang: 'en' },
        new Date(NOW).toISOString(),
      );
      const rep = await fetchAll(t.store.db, { now: () => NOW, pages: false });
      expect(rep.sources[0]).toMatchObject({ status: 'ok', newArticles: 2 });

      const issue = await draftIssue(t.store.db, NOW - 7 * 86_400_000, NOW, {
        links: storeLinks(t.store),
      });
      const wz = issue.items.find((i) => i.ids.includes('CVE-2023-46136'))!;
      expect(wz.severity).toEqual({ 'CVE-2023-46136': 'high' });
      const cams = issue.items.find((i) => i.tags.includes('IoT'))!;
      expect(cams.context).toMatch(/^Your honeypot: 3 events/);
      const md = renderMarkdown(issue);
      expect(md).toContain('CVE-2023-46136 (high)');
      expect(md).toContain('Your honeypot: 3 events');
      // Without links (or unknown ids) nothing is invented.
      const plain = await draftIssue(t.store.db, NOW - 7 * 86_400_000, NOW);
      expect(plain.items.every((i) => i.severity === undefined && i.context === undefined)).toBe(
        true,
      );
    });
  });
}
