/**
 * The vuln area's public surface: sync advisories (OSV, NVD, JVN) into the store, look one up
 * by any alias, check an inventory or a CPE, and count registrations IPA-style. Other areas,
 * the CLI and the web service import only this file.
 */

export {
  type CheckResult,
  type Confidence,
  checkComponents,
  coverageMarks,
  type Finding,
  reachesFailOn,
} from './check.js';
export {
  type CheckRequest,
  type CheckResponse,
  checkInventory,
  checkInventoryText,
  OFF_THREAD_BYTES,
} from './check-request.js';
export {
  type CoverageSource,
  coverageOf,
  type EcosystemCoverage,
  uncoveredCount,
} from './core/coverage.js';
export { type Cpe, cpeMatches, cpeNameMatch, parseCpe } from './core/cpe.js';
export {
  cvss2Score10,
  cvss3Score10,
  cvss4Score10,
  type Severity,
  severityOfRecord,
  severityRank,
} from './core/cvss.js';
export {
  type Component,
  type Inventory,
  InventoryError,
  parseDpkgStatus,
  parseInventory,
} from './core/inventory.js';
export {
  affectedBy,
  describePlatformClause,
  evaluatePlatform,
  platformFacts,
} from './core/match.js';
export { toCycloneDxVex, toSarif } from './core/report.js';
export { cweName, type StatsBy, type StatsRow, statsSvg } from './core/stats.js';
export type { PlatformCondition, PlatformMatch, Source, VulnRecord } from './core/types.js';
export { comparatorFor, compareVersions } from './core/versions/index.js';
export type { SyncError } from './input.js';
export {
  type CheckRun,
  type LastCheckHit,
  lastCheckFindings,
  lastCheckRun,
  listCheckRuns,
  recordCheckRun,
} from './last-check.js';
export { lookup, type VulnDetail } from './show.js';
export { registrationStats, type StatsOptions } from './stats.js';
export { type SyncOptions, type SyncSummary, syncFrom } from './sync.js';

import { sql } from 'kysely';
import type { Store } from '../storage/index.js';
import { advisoryInfo, type Confidence, cpeHits } from './check.js';
import { platformFacts as factsOf } from './core/match.js';
import { ensureLookupIndexes } from './store.js';

/**
 * Vulnerabilities matching one CPE 2.3 name (for exposure's fingerprinted services).
 * `platforms` are the other CPEs known of the same host (its OS from a fingerprint): NVD
 * "running on" conditions are checked against them; without them such matches are `medium`
 * with the open `conditions` listed.
 * @example await matchCpe(store, 'cpe:2.3:a:apache:http_server:2.4.49:*:*:*:*:*:*:*', { platforms: ['cpe:2.3:o:debian:debian_linux:12.0:*:*:*:*:*:*:*'] })
 */
export async function matchCpe(
  store: Store,
  cpe: string,
  options: { platforms?: string[] } = {},
): Promise<
  {
    id: string;
    aliases: string[];
    severity: string | null;
    confidence: Confidence;
    source: string;
    conditions?: string[];
  }[]
> {
  const facts = factsOf(
    (options.platforms ?? []).map((p) => ({ name: p, version: '*', ecosystem: 'CPE', cpe: p })),
  );
  await ensureLookupIndexes(store);
  const hits = await cpeHits(store, cpe, facts);
  const info = await advisoryInfo(
    store,
    hits.map((h) => h.advisoryId),
  );
  return hits.flatMap((h) => {
    const a = info.get(h.advisoryId);
    return a && !a.withdrawn
      ? [
          {
            id: a.id,
            aliases: a.aliases,
            severity: a.severity,
            confidence: h.confidence,
            source: h.source,
            ...(h.conditions ? { conditions: h.conditions } : {}),
          },
        ]
      : [];
  });
}

/** What the dashboard shows: store size, top JVN CWEs, the most severe recent records. */
export async function vulnOverview(store: Store): Promise<{
  advisories: number;
  records: number;
  bySource: { source: string; count: number }[];
  topCwes: import('./core/stats.js').StatsRow[];
  recent: { id: string; severity: string | null; published: string | null; title: string | null }[];
}> {
  const adv = await store.db
    .selectFrom('vuln_advisory')
    .select((e) => e.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  const src = await store.db
    .selectFrom('vuln_record')
    .select(['source', (e) => e.fn.countAll().as('n')])
    .groupBy('source')
    .orderBy('source')
    .execute();
  const bySource = src.map((s) => ({ source: s.source, count: Number(s.n) }));
  const { registrationStats } = await import('./stats.js');
  const topCwes = (await registrationStats(store, { by: 'cwe', source: 'jvn', top: 10 })).rows;
  const recent = await store.db
    .selectFrom('vuln_record')
    .innerJoin('vuln_advisory', 'vuln_advisory.id', 'vuln_record.advisory_id')
    .select([
      'vuln_advisory.primary_id',
      'vuln_record.severity',
      'vuln_record.published',
      'vuln_record.title',
      'vuln_record.title_ja',
    ])
    // Literals, not parameters, so the planner can prove the partial index
    // vuln_record_severe_published applies (SQLite and PostgreSQL alike).
    .where(
      sql<boolean>`vuln_record.withdrawn is null and vuln_record.severity in ('critical', 'high')`,
    )
    .orderBy('vuln_record.published', 'desc')
    .limit(20)
    .execute();
  return {
    advisories: Number(adv.n),
    records: bySource.reduce((a, b) => a + b.count, 0),
    bySource,
    topCwes,
    recent: recent.map((r) => ({
      id: r.primary_id,
      severity: r.severity,
      published: r.published,
      title: r.title_ja ?? r.title,
    })),
  };
}
export { type FindingRow, lastCheckTable } from './findings.js';
