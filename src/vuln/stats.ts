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

/** @example await registrationStats(store, { by: 'quarter', from: '2017-10-01', to: '2017-12-31' }) */
export async function registrationStats(
  store: Store,
  o: StatsOptions,
): Promise<{ by: StatsBy; rows: StatsRow[] }> {
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
  const source = o.source ?? 'jvn';
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
