/**
 * NVD CVE API 2.0 JSON (`vulnerabilities[].cve`) → VulnRecord: English description, CVSS
 * v2/v3.x/v4 (primary NVD metric preferred), CWE weaknesses, references, and the CPE matches of
 * its configurations: each vulnerable match with its version range and, when the configuration
 * needs more than that match (AND nodes, "running on/with" platforms, negated nodes), the
 * platform condition in disjunctive normal form. Rejected CVEs become withdrawn records.
 * Not a matcher: conditions are evaluated against an inventory in match.ts.
 */
import {
  cvss2Score10,
  cvss3Score10,
  cvss4Score10,
  parseSeverityWord,
  type Severity,
  severityOf2,
  severityOf3,
} from './cvss.js';
import { toUtcIso } from './names.js';
import { RecordError } from './osv.js';
import type {
  CpeCriteria,
  CpeMatch,
  PlatformCondition,
  PlatformMatch,
  VulnRecord,
} from './types.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const s = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function pickMetric(list: unknown): Obj | undefined {
  const ms = arr(list).filter(isObj);
  return ms.find((m) => m.type === 'Primary') ?? ms[0];
}

/** One `vulnerabilities[]` item (or a bare `cve` object). */
export function fromNvdCve(item: unknown): VulnRecord {
  const cve = isObj(item) && isObj(item.cve) ? item.cve : item;
  if (!isObj(cve)) throw new RecordError('vulnerability without cve');
  const id = s(cve.id);
  if (!id || !/^CVE-\d{4}-\d{4,}$/.test(id))
    throw new RecordError(`not a CVE id: ${String(cve.id)}`);
  const rec: VulnRecord = {
    source: 'nvd',
    id,
    aliases: [],
    cwes: [],
    references: [],
    affected: [],
    cpes: [],
  };
  const desc = arr(cve.descriptions).filter(isObj);
  const en = desc.find((d) => d.lang === 'en') ?? desc[0];
  if (en && s(en.value)) rec.description = s(en.value)!;
  for (const k of ['published', 'lastModified'] as const) {
    const raw = s(cve[k]);
    if (!raw) continue;
    const iso = toUtcIso(raw);
    if (!iso) throw new RecordError(`${id}: ${k} is not a date: ${raw}`);
    if (k === 'published') rec.published = iso;
    else rec.modified = iso;
  }
  if (cve.vulnStatus === 'Rejected')
    rec.withdrawn = rec.modified ?? rec.published ?? '1970-01-01T00:00:00Z';
  const metrics = isObj(cve.metrics) ? cve.metrics : {};
  let best: { severity: Severity; score10?: number } | undefined;
  const v4 = pickMetric(metrics.cvssMetricV40);
  const v3 = pickMetric(metrics.cvssMetricV31) ?? pickMetric(metrics.cvssMetricV30);
  const v2 = pickMetric(metrics.cvssMetricV2);
  if (v2 && isObj(v2.cvssData) && s(v2.cvssData.vectorString)) {
    rec.cvssV2 = s(v2.cvssData.vectorString)!;
    const sc = cvss2Score10(rec.cvssV2);
    if (sc !== undefined) best = { severity: severityOf2(sc), score10: sc };
  }
  if (v4 && isObj(v4.cvssData) && s(v4.cvssData.vectorString)) {
    rec.cvssV4 = s(v4.cvssData.vectorString)!;
    const computed = cvss4Score10(rec.cvssV4);
    const score = computed === undefined ? Number(v4.cvssData.baseScore) : computed / 10;
    const sev =
      computed === undefined
        ? parseSeverityWord(s(v4.cvssData.baseSeverity))
        : severityOf3(computed);
    if (sev)
      best = Number.isFinite(score)
        ? { severity: sev, score10: Math.round(score * 10) }
        : { severity: sev };
  }
  if (v3 && isObj(v3.cvssData) && s(v3.cvssData.vectorString)) {
    rec.cvssV3 = s(v3.cvssData.vectorString)!;
    const sc = cvss3Score10(rec.cvssV3);
    if (sc !== undefined) best = { severity: severityOf3(sc), score10: sc };
  }
  if (best) {
    rec.severity = best.severity;
    if (best.score10 !== undefined) rec.cvssScore10 = best.score10;
  }
  for (const w of arr(cve.weaknesses).filter(isObj))
    for (const d of arr(w.description).filter(isObj)) {
      const v = s(d.value);
      if (v && /^(NVD-)?CWE-/.test(v) && !rec.cwes.includes(v)) rec.cwes.push(v);
    }
  for (const r of arr(cve.references).filter(isObj)) {
    const url = s(r.url);
    if (url && !rec.references.some((x) => x.url === url))
      rec.references.push({ type: arr(r.tags).includes('Patch') ? 'FIX' : 'WEB', url });
    const m = url ? /GHSA-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}/.exec(url) : null;
    if (m && !rec.aliases.includes(m[0])) rec.aliases.push(m[0]);
  }
  rec.cpes = configurationMatches(arr(cve.configurations));
  rec.aliases.sort();
  return rec;
}

/**
 * A configuration as a formula over CPE literals. Literal `i` is "some component of the system
 * matches criteria i"; an occurrence is vulnerable when NVD marks that cpeMatch so.
 */
type Formula =
  | { lit: number; vulnerable: boolean }
  | { op: 'AND' | 'OR'; negate: boolean; of: Formula[] };

/** A literal in a clause: `neg` = the platform must be absent. */
type Lit = { i: number; neg: boolean };
/** Disjunctive normal form over literal indices: [] = false, [[]] = true. */
type Dnf = Lit[][];

/**
 * Past this many clauses a conjunction is not multiplied out (three or more AND-ed nodes of many
 * platforms each); the condition is then widened to "any one of its platform literals", which
 * every satisfying system also meets, so nothing vulnerable is lost.
 */
const MAX_CLAUSES = 256;

class TooLarge extends Error {}

function criteriaOf(m: Obj): CpeCriteria | undefined {
  // API 2.0 names first; the JSON 1.1 feed's `cpe23Uri` where a record still uses it.
  const cpe = s(m.criteria) ?? s(m.cpe23Uri);
  if (!cpe) return undefined;
  const c: CpeCriteria = { cpe };
  const vsi = s(m.versionStartIncluding);
  const vse = s(m.versionStartExcluding);
  const vei = s(m.versionEndIncluding);
  const vee = s(m.versionEndExcluding);
  if (vsi) c.versionStartIncluding = vsi;
  if (vse) c.versionStartExcluding = vse;
  if (vei) c.versionEndIncluding = vei;
  if (vee) c.versionEndExcluding = vee;
  return c;
}

interface Literals {
  list: CpeCriteria[];
  byKey: Map<string, number>;
}

function nodeFormula(node: Obj, lits: Literals, depth: number): Formula | undefined {
  if (depth > 16) throw new RecordError('configuration nodes nested deeper than 16');
  const of: Formula[] = [];
  for (const m of [...arr(node.cpeMatch), ...arr(node.cpe_match)].filter(isObj)) {
    const c = criteriaOf(m);
    if (!c) continue;
    const key = JSON.stringify(c);
    let i = lits.byKey.get(key);
    if (i === undefined) {
      i = lits.list.length;
      lits.list.push(c);
      lits.byKey.set(key, i);
    }
    of.push({ lit: i, vulnerable: m.vulnerable === true });
  }
  // JSON 1.1 feeds nest nodes under `children` (an AND node of OR children).
  for (const child of arr(node.children).filter(isObj)) {
    const f = nodeFormula(child, lits, depth + 1);
    if (f) of.push(f);
  }
  if (of.length === 0) return undefined;
  const op = String(node.operator ?? 'OR').toUpperCase() === 'AND' ? 'AND' : 'OR';
  return { op, negate: node.negate === true, of };
}

const litKey = (l: Lit) => `${l.neg ? '!' : ''}${l.i}`;
const clauseKey = (c: Lit[]) => c.map(litKey).join(',');

/** Drop repeated clauses and, when few, clauses implied by a shorter one (absorption). */
function simplify(d: Dnf): Dnf {
  const seen = new Map<string, Lit[]>();
  for (const c of d) {
    if (c.length === 0) return [[]];
    seen.set(clauseKey(c), c);
  }
  const out = [...seen.values()].sort((a, b) => a.length - b.length);
  if (out.length > MAX_CLAUSES) return out;
  const kept: Lit[][] = [];
  for (const c of out) {
    const keys = new Set(c.map(litKey));
    if (!kept.some((k) => k.every((l) => keys.has(litKey(l))))) kept.push(c);
  }
  return kept;
}

const isTrue = (d: Dnf) => d.length === 1 && d[0]!.length === 0;

function product(a: Dnf, b: Dnf): Dnf {
  if (isTrue(a)) return b;
  if (isTrue(b)) return a;
  if (a.length * b.length > MAX_CLAUSES * MAX_CLAUSES) throw new TooLarge();
  const out: Dnf = [];
  for (const x of a)
    for (const y of b) {
      const merged = new Map<number, Lit>();
      let contradiction = false;
      for (const l of [...x, ...y]) {
        const prev = merged.get(l.i);
        if (prev && prev.neg !== l.neg) contradiction = true;
        merged.set(l.i, l);
      }
      if (!contradiction) out.push([...merged.values()].sort((p, q) => p.i - q.i));
    }
  const simple = simplify(out);
  if (simple.length > Math.max(MAX_CLAUSES, a.length, b.length)) throw new TooLarge();
  return simple;
}

/** The formula with literal `given` fixed true, in DNF, under `neg` negations. */
function toDnf(f: Formula, given: number, neg: boolean): Dnf {
  if ('lit' in f) {
    if (f.lit === given) return neg ? [] : [[]];
    return [[{ i: f.lit, neg }]];
  }
  const n = neg !== f.negate;
  // De Morgan: a negated AND is an OR of negations, and the other way round.
  const conjunction = (f.op === 'AND') !== n;
  if (conjunction) {
    let acc: Dnf = [[]];
    for (const x of f.of) {
      const d = toDnf(x, given, n);
      if (d.length === 0) return [];
      acc = product(acc, d);
    }
    return acc;
  }
  const parts: Dnf = [];
  for (const x of f.of) {
    const d = toDnf(x, given, n);
    if (isTrue(d)) return [[]];
    parts.push(...d);
  }
  return simplify(parts);
}

/**
 * Every literal of the formula with its polarity, leaving out parts that already hold with
 * `given` present (the vulnerable node itself): the widened condition when DNF is too big.
 */
function anyLiteral(f: Formula, given: number, neg: boolean, out: Map<string, Lit>): void {
  if ('lit' in f) {
    if (f.lit !== given) out.set(litKey({ i: f.lit, neg }), { i: f.lit, neg });
    return;
  }
  try {
    if (isTrue(toDnf(f, given, neg))) return;
  } catch (err) {
    if (!(err instanceof TooLarge)) throw err;
  }
  for (const x of f.of) anyLiteral(x, given, neg !== f.negate, out);
}

/** Literals with a vulnerable occurrence under an even number of negations. */
function vulnerableLiterals(f: Formula, neg: boolean, out: Set<number>): void {
  if ('lit' in f) {
    if (f.vulnerable && !neg) out.add(f.lit);
    return;
  }
  for (const x of f.of) vulnerableLiterals(x, neg !== f.negate, out);
}

/**
 * The vulnerable CPE matches of NVD `configurations[]` with their platform conditions. A
 * configuration is true of a system when its nodes are (AND/OR, `negate` inverting a node or the
 * whole configuration; `children` nested as in the JSON 1.1 feeds); a vulnerable match of it is
 * reported with the rest of the configuration (the match itself taken as present) as its
 * condition. A match listed in several configurations keeps every alternative; one that needs
 * nothing else has no condition.
 * @example configurationMatches([{ operator: 'AND', nodes: [app, onWindows] }])[0].platform
 *   // [[{ cpe: 'cpe:2.3:o:microsoft:windows:-:*:*:*:*:*:*:*' }]]
 */
export function configurationMatches(configurations: unknown[]): CpeMatch[] {
  const lits: Literals = { list: [], byKey: new Map() };
  const byLit = new Map<number, { unconditional: boolean; clauses: Map<string, Lit[]> }>();
  const order: number[] = [];
  for (const c of configurations.filter(isObj)) {
    const nodes: Formula[] = [];
    for (const n of arr(c.nodes).filter(isObj)) {
      const f = nodeFormula(n, lits, 0);
      if (f) nodes.push(f);
    }
    if (nodes.length === 0) continue;
    // Without an operator, a configuration's nodes are alternatives (the JSON 1.1 top level).
    const op = String(c.operator ?? 'OR').toUpperCase() === 'AND' ? 'AND' : 'OR';
    const config: Formula = { op, negate: c.negate === true, of: nodes };
    const vulnerable = new Set<number>();
    vulnerableLiterals(config, false, vulnerable);
    for (const i of vulnerable) {
      let d: Dnf;
      try {
        d = toDnf(config, i, false);
      } catch (err) {
        if (!(err instanceof TooLarge)) throw err;
        const any = new Map<string, Lit>();
        anyLiteral(config, i, false, any);
        d = [...any.values()].map((l) => [l]);
      }
      if (d.length === 0) continue; // the rest of the configuration can never hold
      let entry = byLit.get(i);
      if (!entry) {
        entry = { unconditional: false, clauses: new Map() };
        byLit.set(i, entry);
        order.push(i);
      }
      if (d.some((cl) => cl.length === 0)) entry.unconditional = true;
      else for (const cl of d) entry.clauses.set(clauseKey(cl), cl);
    }
  }
  const platformOf = (l: Lit): PlatformMatch =>
    l.neg ? { ...lits.list[l.i]!, negate: true } : { ...lits.list[l.i]! };
  return order.map((i) => {
    const c = lits.list[i]!;
    // Key order as before conditions existed, so unconditional records hash the same.
    const match: CpeMatch = { cpe: c.cpe, vulnerable: true, confidence: 'high' };
    if (c.versionStartIncluding) match.versionStartIncluding = c.versionStartIncluding;
    if (c.versionStartExcluding) match.versionStartExcluding = c.versionStartExcluding;
    if (c.versionEndIncluding) match.versionEndIncluding = c.versionEndIncluding;
    if (c.versionEndExcluding) match.versionEndExcluding = c.versionEndExcluding;
    const entry = byLit.get(i)!;
    if (!entry.unconditional) {
      const platform: PlatformCondition = [...entry.clauses.values()].map((cl) =>
        cl.map(platformOf),
      );
      match.platform = platform;
    }
    return match;
  });
}

/** Every CVE in one API 2.0 page (or a list of them), errors in place. */
export function nvdRecords(
  doc: unknown,
): ({ ok: true; record: VulnRecord } | { ok: false; at: string; message: string })[] {
  const items =
    isObj(doc) && Array.isArray(doc.vulnerabilities)
      ? doc.vulnerabilities
      : Array.isArray(doc)
        ? doc
        : undefined;
  if (!items) throw new RecordError('not an NVD CVE API 2.0 document (no vulnerabilities[])');
  return items.map((it, i) => {
    try {
      return { ok: true as const, record: fromNvdCve(it) };
    } catch (err) {
      if (!(err instanceof RecordError)) throw err;
      return { ok: false as const, at: `vulnerabilities[${i}]`, message: err.message };
    }
  });
}
