/**
 * Cross-area links on both backends, with the other areas' real code and real data: a story
 * naming CVE-2023-46136 shows the severity the vuln area synced from the PyPA OSV record and
 * "affects your inventory" from a real recorded `vuln check` of a requirements inventory (and
 * stops saying so once a newer check no longer finds it); an IoT story carries what the
 * reader's own honeypot recorded and the open cameras the exposure area's store holds. Feeds
 * are local files.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  addSource,
  draftIssue,
  fetchAll,
  issueJson,
  renderHtml,
  renderMarkdown,
  storeLinks,
} from '../../src/bulletin/index.js';
import { createScan, recordFinding, recordService } from '../../src/exposure/index.js';
import { Recorder } from '../../src/honeypot/index.js';
import type { Store } from '../../src/storage/index.js';
import { checkComponents, parseInventory, recordCheckRun, syncFrom } from '../../src/vuln/index.js';
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

/** `vuln check` of a requirements inventory, recorded as the CLI does. */
async function recordedCheck(store: Store, requirements: string): Promise<number> {
  const inv = parseInventory('requirements.txt', requirements, parseToml);
  const result = await checkComponents(store, inv.components);
  await recordCheckRun(store, {
    origin: 'cli',
    inventories: ['requirements.txt'],
    components: inv.components.length,
    result,
  });
  return result.findings.length;
}

/** Two cameras seen by a scan, one open without a password, one on its factory default. */
async function exposeCameras(store: Store): Promise<void> {
  const now = new Date(NOW - 86_400_000).toISOString();
  const scanId = await createScan(store, {
    targets: ['127.0.0.0/30'],
    ports: [80, 554],
    options: { rate: 100, concurrency: 4, perHost: 2, timeoutMs: 1000, retries: 0, udp: false },
    total: 8,
    now,
  });
  const cams = [
    { ip: '127.0.0.2', port: 554, protocol: 'rtsp', product: 'IP camera' },
    { ip: '127.0.0.3', port: 80, protocol: 'http', product: 'DVR' },
  ];
  for (const c of cams)
    await recordService(store, {
      scanId,
      ip: c.ip,
      port: c.port,
      transport: 'tcp',
      grab: {
        protocol: c.protocol,
        raw: Buffer.from(c.protocol === 'rtsp' ? 'RTSP/1.0 200 OK\r\n' : 'HTTP/1.1 200 OK\r\n'),
        data: {},
        authRequired: false,
        fingerprintInputs: [],
      },
      identity: {
        vendor: 'Hikvision',
        product: c.product,
        version: null,
        deviceType: 'camera',
        cpe: null,
        params: {},
        matched: [],
      },
      seen: now,
    });
  await recordFinding(store, {
    ip: '127.0.0.2',
    port: 554,
    kind: 'no-auth',
    detail: 'RTSP DESCRIBE answered without credentials',
    time: now,
  });
  await recordFinding(store, {
    ip: '127.0.0.3',
    port: 80,
    kind: 'default-credentials',
    detail: 'user admin (vendor manual default)',
    time: now,
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

    it('shows severity and "affects your inventory" for a story id, honeypot and open cameras on an IoT story', async () => {
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
      // An older check that found nothing of werkzeug, then the newest one that does.
      expect(await recordedCheck(t.store, 'werkzeug==3.0.1\n')).toBe(0);
      expect(await recordedCheck(t.store, 'Werkzeug==2.3.7\nflask==3.0.0\n')).toBeGreaterThan(0);
      await exposeCameras(t.store);

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
      expect(wz.inventory).toEqual([
        {
          id: 'CVE-2023-46136',
          package: 'Werkzeug',
          version: '2.3.7',
          ecosystem: 'PyPI',
          fixed: ['2.3.8'],
        },
      ]);
      expect(cams.inventory).toBeUndefined();
      expect(cams.context?.split('\n')).toEqual([
        expect.stringMatching(/^Your honeypot: 3 events/),
        'Your exposure scans: 2 open cameras — 1 without authentication, 1 with factory-default credentials.',
      ]);
      const md = renderMarkdown(issue);
      expect(md).toContain('CVE-2023-46136 (high)');
      expect(md).toContain('affects your inventory: Werkzeug 2.3.7 → fix 2.3.8 (CVE-2023-46136)');
      expect(md).toContain('> Your honeypot: 3 events');
      expect(md).toContain('> Your exposure scans: 2 open cameras');
      const html = renderHtml(issue);
      expect(html).toContain('affects your inventory: Werkzeug 2.3.7 → fix 2.3.8');
      expect(html).toContain('Your exposure scans: 2 open cameras');
      const j = issueJson(issue);
      const jwz = j.items.find((i) => i.ids.includes('CVE-2023-46136'))!;
      expect(Object.keys(jwz).sort()).toEqual([
        'ids',
        'inventory',
        'sources',
        'summary',
        'tags',
        'title',
      ]);
      expect(jwz.inventory?.[0]).toMatchObject({ package: 'Werkzeug', fixed: ['2.3.8'] });
      const jcam = j.items.find((i) => i.tags.includes('IoT'))!;
      expect(Object.keys(jcam).sort()).toEqual(['ids', 'sources', 'summary', 'tags', 'title']);

      // The newest check run is "last": after the update nothing is affected any more.
      expect(await recordedCheck(t.store, 'werkzeug==3.0.1\n')).toBe(0);
      const later = await draftIssue(t.store.db, NOW - 7 * 86_400_000, NOW, {
        links: storeLinks(t.store),
      });
      expect(later.items.find((i) => i.ids.includes('CVE-2023-46136'))!.inventory).toBeUndefined();
      expect(renderMarkdown(later)).not.toContain('affects your inventory');

      // Without links (or unknown ids) nothing is invented.
      const plain = await draftIssue(t.store.db, NOW - 7 * 86_400_000, NOW);
      expect(
        plain.items.every(
          (i) => i.severity === undefined && i.context === undefined && i.inventory === undefined,
        ),
      ).toBe(true);
    });
  });
}
