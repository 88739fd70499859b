/**
 * Reading the honeypot's events back: the report (streamed in pages through the pure
 * ReportBuilder, so memory stays flat however many events there are) and the summary other
 * areas use. Not the writer: see recorder.ts.
 */
import { MamoriError } from '../shared/errors.js';
import type { Store } from '../storage/index.js';
import { type HoneypotReport, ReportBuilder, type ReportExtras } from './core/report.js';
import { reportEvent } from './event-row.js';
import { addSensorEvents } from './sensor-report.js';

export interface ReportQuery {
  /** ISO-8601 time, a date, or a relative span like `7d`, `12h`. */
  since?: string | undefined;
  topN?: number;
  /** Only the events this sensor delivered (absent: this machine's and every sensor's). */
  sensor?: string | undefined;
  /** For relative spans. */
  now?: number;
}

/**
 * Resolve `--since`: `2026-11-01`, `2026-11-01T10:00:00Z`, `7d`, `36h`, `30m`.
 * @example parseSince('2d', Date.UTC(2026, 0, 3)) === '2026-01-01T00:00:00.000Z'
 */
export function parseSince(text: string, now: number): string {
  const rel = /^(\d{1,6})([dhm])$/.exec(text.trim());
  if (rel) {
    const n = Number(rel[1]);
    const ms = rel[2] === 'd' ? 86_400_000 : rel[2] === 'h' ? 3_600_000 : 60_000;
    return new Date(now - n * ms).toISOString();
  }
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text.trim())) {
    const t = Date.parse(text.trim().length === 10 ? `${text.trim()}T00:00:00Z` : text.trim());
    if (!Number.isNaN(t)) return new Date(t).toISOString();
  }
  throw new MamoriError('E_USAGE', `--since: not a time or span: '${text}'`, {
    hint: 'use an ISO date such as 2026-11-01, or a span such as 7d, 12h, 30m',
  });
}

/**
 * Build the report from the store.
 * @example const { report } = await honeypotReport(store, { since: '7d' });
 */
export async function honeypotReport(
  store: Store,
  query: ReportQuery = {},
): Promise<{ report: HoneypotReport; extras: ReportExtras }> {
  const since = query.since ? parseSince(query.since, query.now ?? Date.now()) : null;
  const topN = query.topN ?? 20;
  if (query.sensor !== undefined) {
    // A sensor's runs are on the sensor: its cut is measured from its first event.
    const builder = new ReportBuilder({ startedAt: since, since, topN });
    await addSensorEvents(store, builder, since, query.sensor);
    return builder.finish();
  }
  // The kept whole-history report reads this machine's events only; with sensors' events in
  // the store the merged report is built afresh.
  const fromSensors = await store.db
    .selectFrom('honeypot_sensor_event')
    .select('seq')
    .limit(1)
    .executeTakeFirst();
  if (since === null && !fromSensors) return wholeReport(store, topN);
  const builder = new ReportBuilder({
    startedAt: await firstRunStart(store, since),
    since,
    topN,
  });
  await feed(store, builder, 0, since);
  if (fromSensors) await addSensorEvents(store, builder, since, undefined);
  return builder.finish();
}

async function firstRunStart(store: Store, since: string | null): Promise<string | null> {
  let runs = store.db.selectFrom('honeypot_run').select('started_at').orderBy('started_at');
  if (since) runs = runs.where('started_at', '>=', since);
  return (await runs.limit(1).executeTakeFirst())?.started_at ?? since;
}

/** Feed the events after `afterId` to the builder in id order; returns the last id and how many. */
async function feed(
  store: Store,
  builder: ReportBuilder,
  afterId: number,
  since: string | null,
): Promise<{ lastId: number; added: number }> {
  let lastId = afterId;
  let added = 0;
  for (;;) {
    let q = store.db
      .selectFrom('honeypot_event')
      .select(['id', 'eventid', 'time', 'src_ip', 'protocol', 'username', 'password', 'summary'])
      .where('id', '>', lastId)
      .orderBy('id')
      .limit(5000);
    if (since) q = q.where('time', '>=', since);
    const rows = await q.execute();
    if (rows.length === 0) break;
    for (const r of rows) builder.add(reportEvent(r));
    added += rows.length;
    lastId = Number(rows[rows.length - 1]!.id);
  }
  return { lastId, added };
}

/**
 * The whole-history report (the console's page and `/api/v1/honeypot/report` without `since`)
 * from one builder kept per store and fed only the events recorded since the last call: events
 * are append-only, and the builder reads them in id order either way, so the answer equals a
 * full rebuild. Nothing is added to the recording path. Before it is used, the builder is
 * checked against the table: the same first run, and exactly as many events up to its last id
 * as it has read (an event committed late under a lower id on PostgreSQL, or a deleted one,
 * makes it start over from the first event).
 */
interface KeptReport {
  builder: ReportBuilder;
  startedAt: string | null;
  lastId: number;
  events: number;
}
const kept = new WeakMap<Store, KeptReport>();
const keptTurn = new WeakMap<Store, Promise<unknown>>();

async function wholeReport(
  store: Store,
  topN: number,
): Promise<{ report: HoneypotReport; extras: ReportExtras }> {
  // One caller at a time feeds a store's builder.
  const turn = (keptTurn.get(store) ?? Promise.resolve()).then(async () => {
    const startedAt = await firstRunStart(store, null);
    let k = kept.get(store);
    // Taken out while it is fed: a failure part-way leaves no half-fed builder behind.
    kept.delete(store);
    if (!k || k.startedAt !== startedAt)
      k = {
        builder: new ReportBuilder({ startedAt, since: null }),
        startedAt,
        lastId: 0,
        events: 0,
      };
    const { lastId, added } = await feed(store, k.builder, k.lastId, null);
    const counted = await store.db
      .selectFrom('honeypot_event')
      .select((e) => e.fn.countAll().as('n'))
      .where('id', '<=', lastId)
      .executeTakeFirstOrThrow();
    if (Number(counted.n) !== k.events + added) {
      k = {
        builder: new ReportBuilder({ startedAt, since: null }),
        startedAt,
        lastId: 0,
        events: 0,
      };
      const again = await feed(store, k.builder, 0, null);
      k.lastId = again.lastId;
      k.events = again.added;
    } else {
      k.lastId = lastId;
      k.events += added;
    }
    kept.set(store, k);
    return k.builder.finish(topN);
  });
  keptTurn.set(
    store,
    turn.catch(() => undefined),
  );
  return turn;
}

export interface HoneypotSummary {
  events: number;
  sources: HoneypotReport['sources'];
  firstContact: string | null;
  /** Share (0–1) of login attempts that used a known botnet default credential. */
  botnetShare: number;
  topCredentials: { username: string; password: string; attempts: number }[];
  topCommands: { command: string; count: number }[];
}

/**
 * What attackers actually tried, for the bulletin and exposure areas.
 * @example const s = await honeypotSummary(store); s.topCredentials[0]?.username
 */
export async function honeypotSummary(
  store: Store,
  query: ReportQuery = {},
): Promise<HoneypotSummary> {
  const { report, extras } = await honeypotReport(store, { topN: 10, ...query });
  return {
    events: extras.events,
    sources: report.sources,
    firstContact: report.first.contact?.at ?? null,
    botnetShare: extras.botnetShare,
    // Digest guesses, whose password is unknown, are not "what attackers tried" here.
    topCredentials: report.credentials.flatMap(({ username, password, attempts }) =>
      password === null ? [] : [{ username, password, attempts }],
    ),
    topCommands: extras.commands,
  };
}
