/**
 * `vuln stats`: reads registration times and CWEs of one source's records within inclusive JST
 * calendar bounds and counts them with core/stats.ts.
 */
import { MamoriError } from '../shared/errors.js';
import type { Store } from '../storage/index.js';
import { countRegistrations, jstDayStartUtc, type StatsBy, type StatsRow } from './core/stats.js';

export interface StatsOptions {
  by: StatsBy;
  source?: string;
  /** Inclusive JST calendar dates, YYYY-MM-DD. */
  from?: string;
  to?: string;
  top?: number;
}

export interface StatsResult {
  by: StatsBy;
  /** The source counted: the one asked for, else JVN when synced, else the largest synced. */
  source: string;
  /** Every source the store holds records of, largest first. */
  available: { source: string; records: number }[];
  rows: StatsRow[];
}

/** Sources with records in the store, largest first. */
async function syncedSources(store: Store): Promise<{ source: string; records: number }[]> {
  const rows = await store.db
    .selectFrom('vuln_record')
    .select(['source', (e) => e.fn.countAll().as('n')])
    .groupBy('source')
    .execute();
  return rows
    .map((r) => ({ source: r.source, records: Number(r.n) }))
    .sort((a, b) => b.records - a.records || a.source.localeCompare(b.source));
}

/** @example await registrationStats(store, { by: 'quarter', from: '2017-10-01', to: '2017-12-31' }) */
export async function registrationStats(store: Store, o: StatsOptions): Promise<StatsResult> {
  let fromUtc: string | undefined;
  let toUtc: string | undefined;
  try {
    if (o.from) fromUtc = jstDayStartUtc(o.from);
    if (o.to) toUtc = jstDayStartUtc(o.to, 1);
  } catch (err) {
    throw new MamoriError('E_USAGE', `--from/--to: ${(err as Error).message}`, {
      hint: 'dates are YYYY-MM-DD in JST',
    });
  }
  const available = await syncedSources(store);
  // Unasked, the source IPA counts (JVN) when it is synced, else the one with the most records.
  const source =
    o.source ??
    (available.some((a) => a.source === 'jvn') ? 'jvn' : (available[0]?.source ?? 'jvn'));
  const date = source === 'jvn' ? 'registered' : 'published';
  let q = store.db
    .selectFrom('vuln_record')
    .select([date, 'cwes'])
    .where('source', '=', source)
    .where(date, 'is not', null)
    .where('withdrawn', 'is', null);
  if (fromUtc) q = q.where(date, '>=', fromUtc);
  if (toUtc) q = q.where(date, '<', toUtc);
  const rows = await q.execute();
  return {
    by: o.by,
    source,
    available,
    rows: countRegistrations(
      rows.map((r) => ({
        registered: (r as Record<string, string>)[date]!,
        cwes: JSON.parse(r.cwes) as string[],
      })),
      o.by,
      o.top,
    ),
  };
}
