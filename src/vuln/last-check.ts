/**
 * The history of `vuln check` runs and "the last check": every run (CLI and
 * POST /api/v1/vuln/check, unless `--no-record`) is stored with its findings in one
 * transaction; nothing is replaced, and the newest run (highest id) is the last one. Other
 * areas (the bulletin's "affects your inventory") read it through index.ts.
 */
import type { Store } from '../storage/index.js';
import type { CheckResult, Confidence, Finding } from './check.js';
import { type EcosystemCoverage, uncoveredCount } from './core/coverage.js';

export interface CheckRun {
  id: number;
  time: string;
  origin: 'cli' | 'api';
  inventories: string[];
  components: number;
  findings: number;
  unsupported: number;
  /**
   * Per ecosystem, whether synced advisories covered it: a package of an ecosystem that was
   * not covered is "not checked", never "not affected". null for runs recorded before it was kept.
   */
  coverage: EcosystemCoverage[] | null;
  /** Components of ecosystems that were not covered; null when coverage is unknown. */
  notCovered: number | null;
}

/** One inventory package the last check found affected by a vulnerability. */
export interface LastCheckHit {
  /** The vulnerability's primary id at check time, and its other names. */
  id: string;
  aliases: string[];
  package: { name: string; version: string; ecosystem: string; purl: string | null };
  severity: string | null;
  /** Versions to update to; empty = no fix yet. */
  fixed: string[];
  confidence: Confidence;
  /** The open platform conditions of a medium NVD finding, as `check` reported them. */
  conditions?: string[];
  source: string;
  runId: number;
  runTime: string;
}

/** Findings per multi-row insert (12 columns each: well under SQLite's bound-parameter limit). */
const BATCH = 80;

/**
 * Record one check run and its findings, atomically; returns the run.
 * @example await recordCheckRun(store, { origin: 'cli', inventories: ['requirements.txt'], components: 3, result })
 */
export async function recordCheckRun(
  store: Store,
  run: {
    origin: 'cli' | 'api';
    inventories: string[];
    components: number;
    result: CheckResult;
    /** Extra unsupported lines found while parsing the inventory. */
    unsupported?: number;
    time?: string;
  },
): Promise<CheckRun> {
  const time = run.time ?? new Date().toISOString();
  const unsupported = (run.unsupported ?? 0) + run.result.unsupported.length;
  const findings = run.result.findings;
  return store.db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto('vuln_check_run')
      .values({
        time,
        origin: run.origin,
        inventories: JSON.stringify(run.inventories),
        components: run.components,
        findings: findings.length,
        unsupported,
        coverage: JSON.stringify(run.result.coverage),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const runId = Number(row.id);
    for (let i = 0; i < findings.length; i += BATCH) {
      await trx
        .insertInto('vuln_check_finding')
        .values(findings.slice(i, i + BATCH).map((f: Finding) => findingRow(runId, f)))
        .execute();
    }
    return {
      id: runId,
      time,
      origin: run.origin,
      inventories: run.inventories,
      components: run.components,
      findings: findings.length,
      unsupported,
      coverage: run.result.coverage,
      notCovered: run.result.notCovered,
    };
  });
}

function findingRow(runId: number, f: Finding) {
  return {
    run_id: runId,
    vuln_id: f.vulnerability.id,
    aliases: JSON.stringify(f.vulnerability.aliases),
    package_name: f.package.name,
    package_version: f.package.version,
    ecosystem: f.package.ecosystem,
    purl: f.package.purl,
    severity: f.vulnerability.severity,
    fixed: JSON.stringify(f.fixed),
    confidence: f.confidence,
    source: f.source,
    conditions: f.conditions?.length ? JSON.stringify(f.conditions) : null,
  };
}

function toRun(r: {
  id: number | string | bigint;
  time: string;
  origin: string;
  inventories: string;
  components: number | string;
  findings: number | string;
  unsupported: number | string;
  coverage: string | null;
}): CheckRun {
  const coverage = r.coverage === null ? null : (JSON.parse(r.coverage) as EcosystemCoverage[]);
  return {
    id: Number(r.id),
    time: r.time,
    origin: r.origin === 'api' ? 'api' : 'cli',
    inventories: JSON.parse(r.inventories) as string[],
    components: Number(r.components),
    findings: Number(r.findings),
    unsupported: Number(r.unsupported),
    coverage,
    notCovered: coverage === null ? null : uncoveredCount(coverage),
  };
}

/** The recorded runs, newest first. */
export async function listCheckRuns(store: Store, limit = 50): Promise<CheckRun[]> {
  const rows = await store.db
    .selectFrom('vuln_check_run')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map(toRun);
}

/** The newest recorded run, or undefined when `vuln check` has never been recorded. */
export async function lastCheckRun(store: Store): Promise<CheckRun | undefined> {
  return (await listCheckRuns(store, 1))[0];
}

/**
 * Which inventory packages the newest check run found affected by any of `ids` (any alias:
 * CVE, GHSA, PYSEC, JVNDB …; names the local store merged into one vulnerability count as
 * one). Empty when there is no run or the last run did not find these.
 * @example await lastCheckFindings(store, ['CVE-2023-46136']) // [{ package: { name: 'werkzeug', … }, fixed: ['2.3.8'], … }]
 */
export async function lastCheckFindings(store: Store, ids: string[]): Promise<LastCheckHit[]> {
  if (ids.length === 0) return [];
  const last = await lastCheckRun(store);
  if (!last || last.findings === 0) return [];
  const wanted = new Set(ids.map((i) => i.toUpperCase()));
  // Widen through the store's alias table: a story's JVNDB id finds a finding filed under its CVE.
  const asked = [...new Set([...ids, ...ids.map((i) => i.toUpperCase())])];
  const adv = await store.db
    .selectFrom('vuln_alias')
    .select('advisory_id')
    .where('alias', 'in', asked)
    .execute();
  if (adv.length) {
    const names = await store.db
      .selectFrom('vuln_alias')
      .select('alias')
      .where(
        'advisory_id',
        'in',
        adv.map((a) => a.advisory_id),
      )
      .execute();
    for (const n of names) wanted.add(n.alias.toUpperCase());
  }
  const rows = await store.db
    .selectFrom('vuln_check_finding')
    .selectAll()
    .where('run_id', '=', last.id)
    .orderBy('id')
    .execute();
  const hits: LastCheckHit[] = [];
  for (const r of rows) {
    const aliases = JSON.parse(r.aliases) as string[];
    if (![r.vuln_id, ...aliases].some((a) => wanted.has(a.toUpperCase()))) continue;
    hits.push({
      id: r.vuln_id,
      aliases,
      package: {
        name: r.package_name,
        version: r.package_version,
        ecosystem: r.ecosystem,
        purl: r.purl,
      },
      severity: r.severity,
      fixed: JSON.parse(r.fixed) as string[],
      confidence: r.confidence === 'high' || r.confidence === 'medium' ? r.confidence : 'low',
      ...(r.conditions ? { conditions: JSON.parse(r.conditions) as string[] } : {}),
      source: r.source,
      runId: last.id,
      runTime: last.time,
    });
  }
  return hits;
}
