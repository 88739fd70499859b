/**
 * `vuln check`: match inventory components against the store. OSV rows are looked up by
 * (ecosystem family, package name) in batches and evaluated with core/match.ts; CPE names go
 * through NISTIR 7696 matching against NVD configurations (high confidence; medium when a
 * "running on / with" condition is neither met nor ruled out by the rest of the inventory) and
 * JVN vendor/product entries (low confidence).
 */
import type { Store } from '../storage/index.js';
import {
  COVERAGE_CPE,
  COVERAGE_ECO,
  type CoverageMark,
  coverageOf,
  type EcosystemCoverage,
  uncoveredCount,
} from './core/coverage.js';
import { cpeMatches, parseCpe } from './core/cpe.js';
import { severityOfRecord, severityRank } from './core/cvss.js';
import type { Component } from './core/inventory.js';
import { affectedBy, evaluatePlatform, type PlatformFacts, platformFacts } from './core/match.js';
import { ecoKey, nameKey } from './core/names.js';
import { osvToPurl } from './core/purl.js';
import type { AffectedRange, ProductMatch } from './core/types.js';
import { comparatorFor } from './core/versions/index.js';
import { ensureLookupIndexes } from './store.js';

export interface Finding {
  package: { name: string; version: string; ecosystem: string; purl: string | null };
  vulnerability: {
    id: string;
    aliases: string[];
    /** null = no record of any alias gives a severity or a vector to score: unknown. */
    severity: string | null;
    cvss: { score: number | null; vector: string | null };
    /** Which record (source and id) the severity came from, and the vector when scored here. */
    severityFrom: string | null;
  };
  fixed: string[];
  /**
   * high: an NVD match whose conditions the inventory meets (or an OSV range); medium: an NVD
   * platform condition the inventory does not settle; low: a JVN vendor/product match.
   */
  confidence: Confidence;
  source: string;
  /**
   * Only when confidence is medium: the platform conditions (any one suffices) the inventory
   * neither confirms nor rules out, e.g. `cpe:2.3:o:microsoft:windows:-:*:*:*:*:*:*:*`.
   */
  conditions?: string[];
}

export type Confidence = 'high' | 'medium' | 'low';

const CONFIDENCE_RANK: Record<Confidence, number> = { high: 3, medium: 2, low: 1 };

export interface CheckResult {
  findings: Finding[];
  /** One line per component that could not be checked. */
  unsupported: string[];
  /**
   * Per ecosystem of the inventory: whether the store has synced advisories for it, from which
   * sources and when. No findings in an ecosystem that is not covered means nothing.
   */
  coverage: EcosystemCoverage[];
  /** Components whose ecosystem is not covered (unsupported ecosystems included). */
  notCovered: number;
}

/**
 * The coverage marks syncs left (`vuln_sync_state`, `coverage:…`). A store synced before syncs
 * kept them gets them once from its rows, with an unknown sync time.
 */
export async function coverageMarks(store: Store): Promise<CoverageMark[]> {
  const read = () =>
    store.db
      .selectFrom('vuln_sync_state')
      .select(['source', 'key', 'value'])
      .where('key', 'like', 'coverage:%')
      .execute();
  const marks = await read();
  if (marks.length > 0) return marks;
  const any = await store.db.selectFrom('vuln_record').select('id').limit(1).execute();
  if (any.length === 0) return [];
  const ecos = await store.db
    .selectFrom('vuln_affected')
    .innerJoin('vuln_record', 'vuln_record.id', 'vuln_affected.record_id')
    .select(['vuln_record.source', 'vuln_affected.ecosystem'])
    .distinct()
    .execute();
  const rows = ecos.map((e) => ({ source: e.source, key: `${COVERAGE_ECO}${e.ecosystem}` }));
  for (const source of ['nvd', 'jvn', 'osv']) {
    const p = await store.db
      .selectFrom('vuln_product')
      .innerJoin('vuln_record', 'vuln_record.id', 'vuln_product.record_id')
      .select('vuln_product.id')
      .where('vuln_record.source', '=', source)
      .limit(1)
      .execute();
    if (p.length) rows.push({ source, key: COVERAGE_CPE });
  }
  for (const r of rows)
    await store.db
      .insertInto('vuln_sync_state')
      .values({ ...r, value: '' })
      .onConflict((oc) => oc.columns(['source', 'key']).doNothing())
      .execute();
  return read();
}

interface AdvisoryInfo {
  id: string;
  aliases: string[];
  severity: string | null;
  score10: number | null;
  vector: string | null;
  /** The record the severity came from: `nvd CVE-2023-30861`, with the vector when computed. */
  severityFrom: string | null;
  withdrawn: boolean;
}

function chunks<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/** Names, worst severity and best CVSS of advisories, by advisory id. */
export async function advisoryInfo(
  store: Store,
  ids: number[],
): Promise<Map<number, AdvisoryInfo>> {
  const out = new Map<number, AdvisoryInfo>();
  for (const part of chunks([...new Set(ids)], 500)) {
    // Three independent reads: concurrent on PostgreSQL's pool, sequential on SQLite anyway.
    const [advs, names, recs] = await Promise.all([
      store.db
        .selectFrom('vuln_advisory')
        .select(['id', 'primary_id'])
        .where('id', 'in', part)
        .execute(),
      store.db
        .selectFrom('vuln_alias')
        .select(['alias', 'advisory_id'])
        .where('advisory_id', 'in', part)
        .execute(),
      store.db
        .selectFrom('vuln_record')
        .select([
          'advisory_id',
          'source',
          'external_id',
          'severity',
          'cvss_score10',
          'cvss_v2',
          'cvss_v3',
          'cvss_v4',
          'withdrawn',
        ])
        .where('advisory_id', 'in', part)
        .execute(),
    ]);
    for (const a of advs)
      out.set(Number(a.id), {
        id: a.primary_id,
        aliases: [],
        severity: null,
        score10: null,
        vector: null,
        severityFrom: null,
        withdrawn: true,
      });
    for (const n of names) {
      const a = out.get(Number(n.advisory_id));
      if (a && n.alias !== a.id) a.aliases.push(n.alias);
    }
    for (const r of recs) {
      const a = out.get(Number(r.advisory_id));
      if (!a) continue;
      if (!r.withdrawn) a.withdrawn = false;
      // Every source's record of the vulnerability counts (NVD, GHSA, JVN, OSV …); a record
      // without a severity of its own is scored from the vectors it keeps.
      const own = severityOfRecord({
        severity: r.severity,
        score10: r.cvss_score10,
        v2: r.cvss_v2,
        v3: r.cvss_v3,
        v4: r.cvss_v4,
      });
      if (severityRank(own.severity) > severityRank(a.severity)) {
        a.severity = own.severity;
        a.severityFrom = `${r.source} ${r.external_id}${own.basis === 'source' ? '' : ` (${own.basis})`}`;
      }
      if (own.score10 !== null && (a.score10 === null || own.score10 > a.score10)) {
        a.score10 = own.score10;
        a.vector = r.cvss_v3 ?? r.cvss_v4 ?? r.cvss_v2;
      } else if (a.vector === null) a.vector = r.cvss_v3 ?? r.cvss_v4 ?? r.cvss_v2;
    }
  }
  for (const a of out.values()) a.aliases.sort();
  return out;
}

function toFinding(
  c: Component,
  a: AdvisoryInfo,
  fixed: string[],
  confidence: Confidence,
  source: string,
  conditions?: string[],
): Finding {
  const f: Finding = {
    package: {
      name: c.name,
      version: c.version,
      ecosystem: c.ecosystem,
      purl: c.purl ?? (c.cpe ? null : (osvToPurl(c.ecosystem, c.name, c.version) ?? null)),
    },
    vulnerability: {
      id: a.id,
      aliases: a.aliases,
      severity: a.severity,
      cvss: { score: a.score10 === null ? null : a.score10 / 10, vector: a.vector },
      severityFrom: a.severityFrom,
    },
    fixed,
    confidence,
    source,
  };
  if (conditions?.length) f.conditions = conditions;
  return f;
}

/** One vulnerability a CPE name matched, and how sure the match is. */
export interface CpeHit {
  advisoryId: number;
  confidence: Confidence;
  source: string;
  /** Open platform conditions of a medium-confidence NVD match. */
  conditions?: string[];
}

/**
 * Matches of one CPE name: advisory ids with confidence and source. Platform conditions are
 * evaluated against `facts` (the rest of the inventory; `self` is this CPE's component index);
 * without facts every condition is unknown.
 */
export async function cpeHits(
  store: Store,
  cpe: string,
  facts: PlatformFacts = { cpes: [] },
  self = -1,
): Promise<CpeHit[]> {
  const target = parseCpe(cpe);
  if (!target) return [];
  const rows = await store.db
    .selectFrom('vuln_product')
    .innerJoin('vuln_record', 'vuln_record.id', 'vuln_product.record_id')
    .select([
      'vuln_product.advisory_id',
      'vuln_product.confidence',
      'vuln_product.matches',
      'vuln_record.source',
    ])
    .where('vuln_product.vendor', '=', target.vendor)
    .where('vuln_product.product', '=', target.product)
    .where('vuln_product.vulnerable', '=', 1)
    .execute();
  const best = new Map<number, CpeHit>();
  // Matches of one CVE share their condition (a node's matches have the same platforms).
  const conditionCache = new Map<string, ReturnType<typeof evaluatePlatform>>();
  for (const r of rows)
    for (const m of JSON.parse(r.matches) as ProductMatch[]) {
      const crit = parseCpe(m.cpe);
      if (!crit || !cpeMatches(crit, m, target)) continue;
      const id = Number(r.advisory_id);
      let conf: Confidence = r.confidence === 'high' ? 'high' : 'low';
      let conditions: string[] | undefined;
      if (m.platform) {
        const key = JSON.stringify(m.platform);
        let verdict = conditionCache.get(key);
        if (!verdict) {
          verdict = evaluatePlatform(m.platform, facts, self);
          conditionCache.set(key, verdict);
        }
        if (verdict.verdict === 'unmet') continue;
        if (verdict.verdict === 'unknown') {
          conf = 'medium';
          conditions = verdict.open;
        }
      }
      const prev = best.get(id);
      if (!prev || CONFIDENCE_RANK[conf] > CONFIDENCE_RANK[prev.confidence]) {
        const hit: CpeHit = { advisoryId: id, confidence: conf, source: r.source };
        if (conditions) hit.conditions = [...conditions];
        best.set(id, hit);
      } else if (prev.confidence === 'medium' && conf === 'medium' && conditions)
        prev.conditions = [...new Set([...(prev.conditions ?? []), ...conditions])];
    }
  return [...best.values()];
}

/**
 * @example const { findings } = await checkComponents(store, [{ name: 'django', version: '3.2.0', ecosystem: 'PyPI' }])
 */
export async function checkComponents(store: Store, components: Component[]): Promise<CheckResult> {
  await ensureLookupIndexes(store);
  const unsupported: string[] = [];
  const pending: {
    c: Component;
    advisoryId: number;
    fixed: string[];
    confidence: Confidence;
    source: string;
    conditions?: string[];
  }[] = [];
  const byEco = new Map<string, Component[]>();
  for (const c of components) {
    if (c.cpe) continue;
    if (!comparatorFor(c.ecosystem)) {
      unsupported.push(`${c.name}@${c.version}: unsupported ecosystem ${c.ecosystem}`);
      continue;
    }
    const k = ecoKey(c.ecosystem);
    const list = byEco.get(k);
    if (list) list.push(c);
    else byEco.set(k, [c]);
  }
  for (const [eco, comps] of byEco) {
    const keys = [...new Set(comps.map((c) => nameKey(c.ecosystem, c.name)))];
    const rows: {
      advisory_id: number;
      name_key: string;
      ecosystem: string;
      ranges: AffectedRange[];
      versions: { has(v: string): boolean };
      source: string;
    }[] = [];
    for (const part of chunks(keys, 500)) {
      const r = await store.db
        .selectFrom('vuln_affected')
        .innerJoin('vuln_record', 'vuln_record.id', 'vuln_affected.record_id')
        .select([
          'vuln_affected.advisory_id',
          'vuln_affected.name_key',
          'vuln_affected.ecosystem',
          'vuln_affected.ranges',
          'vuln_affected.versions',
          'vuln_record.source',
        ])
        .where('vuln_affected.eco_key', '=', eco)
        .where('vuln_affected.name_key', 'in', part)
        .where('vuln_record.withdrawn', 'is', null)
        .execute();
      // Parsed once per row here, not once per component that shares the package name.
      for (const x of r)
        rows.push({
          ...x,
          advisory_id: Number(x.advisory_id),
          ranges: JSON.parse(x.ranges) as AffectedRange[],
          // A JSON array of strings: `"1.2.3"` occurs in it exactly when 1.2.3 is an element.
          versions: { has: (v: string) => x.versions.includes(JSON.stringify(v)) },
        });
    }
    const byName = new Map<string, typeof rows>();
    for (const r of rows) {
      const list = byName.get(r.name_key);
      if (list) list.push(r);
      else byName.set(r.name_key, [r]);
    }
    for (const c of comps) {
      const merged = new Map<number, { fixed: Set<string>; source: string }>();
      for (const r of byName.get(nameKey(c.ecosystem, c.name)) ?? []) {
        // A release-specific record ("Debian:12") applies only to that release when ours is known.
        if (r.ecosystem.includes(':') && c.ecosystem.includes(':') && r.ecosystem !== c.ecosystem)
          continue;
        const verdict = affectedBy(r.ecosystem, c.version, r.ranges, r.versions);
        if (!verdict?.affected) continue;
        const m = merged.get(r.advisory_id) ?? { fixed: new Set<string>(), source: r.source };
        for (const f of verdict.fixed) m.fixed.add(f);
        merged.set(r.advisory_id, m);
      }
      const cmp = comparatorFor(c.ecosystem)!;
      for (const [advisoryId, m] of merged)
        pending.push({
          c,
          advisoryId,
          fixed: [...m.fixed].sort(cmp),
          confidence: 'high',
          source: m.source,
        });
    }
  }
  // The whole inventory (every input of one check) is one system for platform conditions.
  const facts = platformFacts(components);
  for (const [i, c] of components.entries()) {
    if (!c.cpe) continue;
    for (const h of await cpeHits(store, c.cpe, facts, i))
      pending.push({
        c,
        advisoryId: h.advisoryId,
        fixed: [],
        confidence: h.confidence,
        source: h.source,
        ...(h.conditions ? { conditions: h.conditions } : {}),
      });
  }
  const info = await advisoryInfo(
    store,
    pending.map((p) => p.advisoryId),
  );
  const findings: Finding[] = [];
  for (const p of pending) {
    const a = info.get(p.advisoryId);
    if (!a || a.withdrawn) continue;
    findings.push(toFinding(p.c, a, p.fixed, p.confidence, p.source, p.conditions));
  }
  findings.sort(
    (x, y) =>
      x.package.name.localeCompare(y.package.name) ||
      x.package.version.localeCompare(y.package.version) ||
      x.vulnerability.id.localeCompare(y.vulnerability.id),
  );
  const coverage = coverageOf(components, await coverageMarks(store));
  return { findings, unsupported, coverage, notCovered: uncoveredCount(coverage) };
}

/**
 * Does any finding reach `--fail-on`? A finding of unknown severity does, unless
 * `unknownSeverity` is 'ignore': not knowing is not a pass.
 * @example reachesFailOn(findings, 'high', 'fail')
 */
export function reachesFailOn(
  findings: Finding[],
  failOn: string,
  unknownSeverity: 'fail' | 'ignore' = 'fail',
): boolean {
  const min = severityRank(failOn);
  return findings.some((f) =>
    f.vulnerability.severity === null
      ? unknownSeverity === 'fail'
      : severityRank(f.vulnerability.severity) >= min,
  );
}
