/**
 * Reading the honeypot's events back: the report (streamed in pages through the pure
 * ReportBuilder, so memory stays flat however many events there are) and the summary other
 * areas use. Not the writer: see recorder.ts.
 */
import { MamoriError } from '../shared/errors.js';
import type { Store } from '../storage/index.js';
import type { EventId } from './core/events.js';
import {
  type HoneypotReport,
  ReportBuilder,
  type ReportEvent,
  type ReportExtras,
} from './core/report.js';
import { addSensorEvents } from './sensor-report.js';

export interface ReportQuery {
  /** ISO-8601 time, a date, or a relative span like `7d`, `12h`. */
  since?: string | undefined;
  topN?: number;
  /** For relative spans. */
  now?: number;
  /** Only the events this sensor delivered (absent: this machine's and every sensor's). */
  sensor?: string | undefined;
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
  let runs = store.db.selectFrom('honeypot_run').select('started_at').orderBy('started_at');
  if (since) runs = runs.where('started_at', '>=', since);
  // A sensor's runs are on the sensor: its cut is measured from its first event.
  const firstRun = query.sensor ? undefined : await runs.limit(1).executeTakeFirst();
  const builder = new ReportBuilder({
    startedAt: firstRun?.started_at ?? since,
    since,
    topN: query.topN ?? 20,
  });
  let lastId = 0;
  for (;;) {
    if (query.sensor) break;
    let q = store.db
      .selectFrom('honeypot_event')
      .select(['id', 'eventid', 'time', 'src_ip', 'protocol', 'username', 'password', 'summary'])
      .where('id', '>', lastId)
      .orderBy('id')
      .limit(5000);
    if (since) q = q.where('time', '>=', since);
    const rows = await q.execute();
    if (rows.length === 0) break;
    for (const r of rows) {
      const ev: ReportEvent = {
        eventid: r.eventid as EventId,
        time: r.time,
        srcIp: r.src_ip,
        protocol: r.protocol,
        username: r.username,
        password: r.password,
        summary: JSON.parse(r.summary) as Record<string, unknown>,
      };
      builder.add(ev);
    }
    lastId = Number(rows[rows.length - 1]!.id);
  }
  await addSensorEvents(store, builder, since, query.sensor);
  return builder.finish();
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
