/**
 * What the console shows of the honeypot, read with aggregate queries so a page stays fast
 * over a large event table: events per hour, the newest events (for the live tail) and a
 * table per source (first and last seen). Read-only.
 */
import { sql } from 'kysely';
import type { Store } from '../storage/index.js';

export interface TailEvent {
  id: number;
  time: string;
  eventid: string;
  protocol: string;
  srcIp: string;
  dstPort: number;
  summary: string;
}

/** Events after `afterId` (oldest first), or the newest `limit` when afterId is absent. */
export async function eventTail(
  store: Store,
  opts: { afterId?: number; limit?: number } = {},
): Promise<TailEvent[]> {
  const limit = Math.min(Math.max(opts.limit ?? 50, 1), 500);
  let q = store.db
    .selectFrom('honeypot_event')
    .select(['id', 'time', 'eventid', 'protocol', 'src_ip', 'dst_port', 'summary']);
  q =
    opts.afterId !== undefined
      ? q.where('id', '>', opts.afterId).orderBy('id', 'asc')
      : q.orderBy('id', 'desc');
  const rows = await q.limit(limit).execute();
  const out = rows.map((r) => ({
    id: Number(r.id),
    time: r.time,
    eventid: r.eventid,
    protocol: r.protocol,
    srcIp: r.src_ip,
    dstPort: Number(r.dst_port),
    summary: r.summary,
  }));
  return opts.afterId !== undefined ? out : out.reverse();
}

/**
 * The `hours` UTC hours (`2026-11-02T10`) that end with the newest event's hour, oldest first;
 * empty when there is no event.
 */
export async function hourWindow(store: Store, hours: number): Promise<string[]> {
  const newest = await store.db
    .selectFrom('honeypot_event')
    .select('time')
    .orderBy('time', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!newest) return [];
  const end = Date.parse(`${newest.time.slice(0, 13)}:00:00Z`);
  const window: string[] = [];
  for (let i = 0; i < hours; i++)
    window.push(new Date(end - (hours - 1 - i) * 3_600_000).toISOString().slice(0, 13));
  return window;
}

/** Events per UTC hour over the `hours` hours that end with the newest event. */
export async function eventsPerHour(
  store: Store,
  hours = 48,
): Promise<{ hour: string; events: number }[]> {
  const window = await hourWindow(store, hours);
  if (window.length === 0) return [];
  const hourExpr = sql<string>`substr(time, 1, 13)`;
  const rows = await store.db
    .selectFrom('honeypot_event')
    .select([hourExpr.as('hour'), (e) => e.fn.countAll().as('n')])
    .where('time', '>=', window[0]!)
    .groupBy(hourExpr)
    .execute();
  const by = new Map(rows.map((r) => [r.hour, Number(r.n)]));
  return window.map((hour) => ({ hour, events: by.get(hour) ?? 0 }));
}

/** One row per source address: events, first and last seen; the busiest first. */
export async function sourceTable(
  store: Store,
  limit = 50,
): Promise<{ ip: string; events: number; firstSeen: string; lastSeen: string }[]> {
  const rows = await store.db
    .selectFrom('honeypot_event')
    .select([
      'src_ip',
      (e) => e.fn.countAll().as('n'),
      (e) => e.fn.min('time').as('first'),
      (e) => e.fn.max('time').as('last'),
    ])
    .groupBy('src_ip')
    .orderBy('n', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    ip: r.src_ip,
    events: Number(r.n),
    firstSeen: String(r.first),
    lastSeen: String(r.last),
  }));
}
