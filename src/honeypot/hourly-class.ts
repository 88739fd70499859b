/**
 * Events per hour and source address, for the console's "events per hour by class" (the
 * console joins each address with its class from the report). Read-only; the same hour window
 * as eventsPerHour (ending at the newest event's hour).
 */
import { sql } from 'kysely';
import type { Store } from '../storage/index.js';
import { hourWindow } from './console.js';

/** @example const rows = await eventsPerHourBySource(store, 48); // [{ hour, srcIp, events }] */
export async function eventsPerHourBySource(
  store: Store,
  hours = 48,
): Promise<{ hours: string[]; rows: { hour: string; srcIp: string; events: number }[] }> {
  const window = await hourWindow(store, hours);
  if (window.length === 0) return { hours: [], rows: [] };
  const hourExpr = sql<string>`substr(time, 1, 13)`;
  const rows = await store.db
    .selectFrom('honeypot_event')
    .select([hourExpr.as('hour'), 'src_ip', (e) => e.fn.countAll().as('n')])
    .where('time', '>=', window[0]!)
    .groupBy([hourExpr, 'src_ip'])
    .execute();
  return {
    hours: window,
    rows: rows.map((r) => ({ hour: r.hour, srcIp: r.src_ip, events: Number(r.n) })),
  };
}
