/**
 * The console's aggregate reads on both backends: honeypot events per hour, the live tail and
 * the per-source table, through the API (in process, with a token) and against the events stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Recorder } from '../../src/honeypot/index.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';
import { type TestApp, testApp } from '../helpers/web.js';

for (const backend of testBackends()) {
  describe(`console data on ${backend}`, () => {
    let t: TestStore;
    let app: TestApp;
    beforeAll(async () => {
      t = await freshStore(backend);
      const rec = await Recorder.open({ store: t.store });
      const base = Date.parse('2026-11-02T10:00:00Z');
      // 3 events at 10h, 1 at 11h, none at 12h, 2 at 13h
      for (const [i, min] of [0, 10, 59, 60, 180, 200].entries())
        await rec.record({
          eventid: 'session.connect',
          time: new Date(base + min * 60_000).toISOString(),
          session: `s${i}`,
          protocol: 'http',
          srcIp: i < 4 ? '203.0.113.1' : '<b>203.0.113.2</b>',
          srcPort: 40000 + i,
          dstPort: 80,
          summary: {},
        });
      await rec.close();
      app = await testApp(t.store);
    });
    afterAll(async () => {
      await t.cleanup();
    });

    it('counts events per hour, with empty hours as zero', async () => {
      const { hours } = await (await app.request('/api/v1/honeypot/hourly')).json();
      expect(hours).toHaveLength(48);
      expect(hours.slice(-4)).toEqual([
        { hour: '2026-11-02T10', events: 3 },
        { hour: '2026-11-02T11', events: 1 },
        { hour: '2026-11-02T12', events: 0 },
        { hour: '2026-11-02T13', events: 2 },
      ]);
    });

    it('tails after an id and lists sources busiest first; hostile strings are escaped', async () => {
      const all = (await (await app.request('/api/v1/honeypot/tail')).json()).events;
      expect(all).toHaveLength(6);
      const after = (await (await app.request(`/api/v1/honeypot/tail?after=${all[3].id}`)).json())
        .events;
      expect(after.map((e: { id: number }) => e.id)).toEqual([all[4].id, all[5].id]);
      expect((await app.request('/api/v1/honeypot/tail?after=-1')).status).toBe(400);
      const { sources } = await (await app.request('/api/v1/honeypot/sources')).json();
      expect(sources).toEqual([
        {
          ip: '203.0.113.1',
          events: 4,
          firstSeen: '2026-11-02T10:00:00.000Z',
          lastSeen: '2026-11-02T11:00:00.000Z',
        },
        {
          ip: '<b>203.0.113.2</b>',
          events: 2,
          firstSeen: '2026-11-02T13:00:00.000Z',
          lastSeen: '2026-11-02T13:20:00.000Z',
        },
      ]);
      const page = await (await app.request('/honeypot')).text();
      expect(page).not.toContain('<b>203');
      expect(page).toContain('&lt;b&gt;203.0.113.2&lt;/b&gt;');
    });
  });
}
