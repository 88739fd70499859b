/**
 * The findings of the last check for the console: one row per vulnerability and package,
 * sorted by severity, with the versions that fix it ("upgrade to X fixes N"). Read-only.
 */
import type { Store } from '../storage/index.js';
import { severityRank } from './core/cvss.js';
import { lastCheckRun } from './last-check.js';

export interface FindingRow {
  id: string;
  aliases: string[];
  severity: string | null;
  package: { name: string; version: string; ecosystem: string };
  fixed: string[];
  confidence: string;
  source: string;
}

/** One row per (vulnerability, package, version) of the newest run, most severe first. */
export async function lastCheckTable(
  store: Store,
  opts: { q?: string; limit?: number } = {},
): Promise<{
  runId: number | null;
  runTime: string | null;
  total: number;
  rows: FindingRow[];
  upgrades: { package: string; to: string; fixes: number }[];
}> {
  const last = await lastCheckRun(store);
  if (!last) return { runId: null, runTime: null, total: 0, rows: [], upgrades: [] };
  const all = await runRows(store, last.id);
  const q = opts.q?.trim().toUpperCase();
  let rows = all;
  if (q)
    rows = rows.filter(
      (r) =>
        r.id.toUpperCase().includes(q) ||
        r.aliases.some((a) => a.toUpperCase().includes(q)) ||
        r.package.name.toUpperCase().includes(q),
    );
  // The smallest fixing version that covers the most of a package's findings.
  const perPackage = new Map<string, Map<string, number>>();
  for (const r of rows) {
    const k = `${r.package.ecosystem}/${r.package.name}@${r.package.version}`;
    const m = perPackage.get(k) ?? new Map<string, number>();
    for (const f of r.fixed) m.set(f, (m.get(f) ?? 0) + 1);
    perPackage.set(k, m);
  }
  const upgrades = [...perPackage.entries()]
    .flatMap(([pkg, m]) => {
      const best = [...m.entries()].sort((a, b) => b[1] - a[1])[0];
      return best ? [{ package: pkg, to: best[0], fixes: best[1] }] : [];
    })
    .sort((a, b) => b.fixes - a.fixes);
  return {
    runId: last.id,
    runTime: last.time,
    total: rows.length,
    rows: rows.slice(0, opts.limit ?? 500),
    upgrades,
  };
}

/**
 * A run's rows, deduplicated and sorted, kept per store for the newest run read: a recorded
 * run's findings never change, so the console does not parse them again on every page.
 */
const keptRun = new WeakMap<Store, { runId: number; rows: FindingRow[] }>();

async function runRows(store: Store, runId: number): Promise<FindingRow[]> {
  const k = keptRun.get(store);
  if (k?.runId === runId) return k.rows;
  const raw = await store.db
    .selectFrom('vuln_check_finding')
    .selectAll()
    .where('run_id', '=', runId)
    .orderBy('id')
    .execute();
  const seen = new Map<string, FindingRow>();
  for (const r of raw) {
    const key = `${r.vuln_id}\u0000${r.ecosystem}\u0000${r.package_name}\u0000${r.package_version}`;
    const prev = seen.get(key);
    const fixed = JSON.parse(r.fixed) as string[];
    if (prev) {
      for (const f of fixed) if (!prev.fixed.includes(f)) prev.fixed.push(f);
      continue;
    }
    seen.set(key, {
      id: r.vuln_id,
      aliases: JSON.parse(r.aliases) as string[],
      severity: r.severity,
      package: { name: r.package_name, version: r.package_version, ecosystem: r.ecosystem },
      fixed,
      confidence: r.confidence,
      source: r.source,
    });
  }
  const rows = [...seen.values()];
  rows.sort(
    (a, b) =>
      severityRank(b.severity) - severityRank(a.severity) ||
      a.id.localeCompare(b.id) ||
      a.package.name.localeCompare(b.package.name),
  );
  keptRun.set(store, { runId, rows });
  return rows;
}
