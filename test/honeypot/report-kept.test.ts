/**
 * The whole-history report is kept per store and fed only new events: after more events, after
 * a new earlier run, and after an event appears under a lower id than the builder has read (a
 * late commit on PostgreSQL, simulated here), it must equal a report built from scratch over
 * every event in the table. On every backend.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ReportBuilder, type ReportEvent } from '../../src/honeypot/core/report.js';
import { honeypotReport } from '../../src/honeypot/index.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';

const T0 = Date.UTC(2026, 10, 1);

function event(k: number, id?: number) {
  const kinds = [
    'session.connect',
    'login.failed',
    'login.success',
    'stream.view',
    'ptz.command',
    'telnet.command',
    'download.attempt',
  ];
  const eventid = kinds[k % kinds.length]!;
  return {
    ...(id === undefined ? {} : { id }),
    time: new Date(T0 + k * 3_600_000 * 3).toISOString(),
    eventid,
    session: `s${k}`,
    protocol: k % 2 ? 'telnet' : 'http',
    src_ip: `198.51.100.${k % 17}`,
    src_port: 40000 + k,
    dst_port: k % 2 ? 23 : 80,
    username: eventid.startsWith('login') ? (k % 3 ? 'root' : 'admin') : null,
    password: eventid.startsWith('login') ? (k % 4 ? 'xc3511' : '12345') : null,
    summary: JSON.stringify(
      eventid === 'telnet.command'
        ? { command: `cat /proc/${k % 3}` }
        : eventid === 'download.attempt'
          ? { url: `http://203.0.113.${k % 2}/x` }
          : {},
    ),
  };
}

/** The report over every event, in id order, from a new builder (what a full read gives). */
async function fromScratch(t: TestStore, topN: number) {
  const run = await t.store.db
    .selectFrom('honeypot_run')
    .select('started_at')
    .orderBy('started_at')
    .executeTakeFirst();
  const b = new ReportBuilder({ startedAt: run?.started_at ?? null, since: null, topN });
  const rows = await t.store.db.selectFrom('honeypot_event').selectAll().orderBy('id').execute();
  for (const r of rows)
    b.add({
      eventid: r.eventid as ReportEvent['eventid'],
      time: r.time,
      srcIp: r.src_ip,
      protocol: r.protocol,
      username: r.username,
      password: r.password,
      summary: JSON.parse(r.summary) as Record<string, unknown>,
    });
  return b.finish();
}

async function addRun(t: TestStore, id: string, at: number) {
  await t.store.db
    .insertInto('honeypot_run')
    .values({
      id,
      started_at: new Date(at).toISOString(),
      stopped_at: null,
      profile: 'test',
      auth: 'weak',
      bind: '127.0.0.1',
      ports: '{}',
    })
    .execute();
}

for (const backend of testBackends())
  describe(`honeypot report kept between calls (${backend})`, () => {
    let t: TestStore;
    beforeEach(async () => {
      t = await freshStore(backend);
    });
    afterEach(async () => {
      await t.cleanup();
    });

    it('equals a report from scratch after new events, a new run and a late lower id', async () => {
      await addRun(t, 'r1', T0);
      await t.store.db
        .insertInto('honeypot_event')
        .values(Array.from({ length: 40 }, (_, k) => event(k)))
        .execute();
      expect(await honeypotReport(t.store, { topN: 5 })).toEqual(await fromScratch(t, 5));
      // more events: only these are fed to the kept builder
      await t.store.db
        .insertInto('honeypot_event')
        .values(Array.from({ length: 25 }, (_, k) => event(40 + k)))
        .execute();
      const after = await honeypotReport(t.store, { topN: 5 });
      expect(after).toEqual(await fromScratch(t, 5));
      expect(after.extras.events).toBe(65);
      // a different topN from the same builder
      expect(await honeypotReport(t.store, { topN: 20 })).toEqual(await fromScratch(t, 20));
      // an event under an id below the builder's last (a late commit): counted, not skipped
      const ids = await t.store.db
        .selectFrom('honeypot_event')
        .select('id')
        .orderBy('id')
        .execute();
      const maxId = Number(ids.at(-1)!.id);
      await t.store.db
        .deleteFrom('honeypot_event')
        .where('id', '=', maxId - 3)
        .execute();
      const gap = await honeypotReport(t.store, { topN: 5 });
      expect(gap).toEqual(await fromScratch(t, 5));
      expect(gap.extras.events).toBe(64);
      await t.store.db
        .insertInto('honeypot_event')
        .values({ ...event(99), id: maxId - 3 })
        .execute();
      const filled = await honeypotReport(t.store, { topN: 5 });
      expect(filled).toEqual(await fromScratch(t, 5));
      expect(filled.extras.events).toBe(65);
      // an earlier run moves every "first" time's reference
      await addRun(t, 'r0', T0 - 86_400_000);
      const rerun = await honeypotReport(t.store, { topN: 5 });
      expect(rerun).toEqual(await fromScratch(t, 5));
      expect(rerun.report.first.contact?.afterSeconds).toBeGreaterThan(86_000);
    });

    it('a report returned earlier does not change when more events arrive', async () => {
      await t.store.db
        .insertInto('honeypot_event')
        .values([event(3), event(2)])
        .execute();
      const before = await honeypotReport(t.store);
      const snapshot = JSON.parse(JSON.stringify(before));
      await t.store.db
        .insertInto('honeypot_event')
        .values([event(0), event(7)])
        .execute();
      await honeypotReport(t.store);
      expect(before).toEqual(snapshot);
    });
  });
