/**
 * NVD CVE API 2.0 JSON (`vulnerabilities[].cve`) → VulnRecord: English description, CVSS
 * v2/v3.x/v4 (primary NVD metric preferred), CWE weaknesses, references, and the CPE matches of
 * its configurations (vulnerable ones, with their version ranges; AND-node platform conditions
 * are not evaluated). Rejected CVEs become withdrawn records.
 */
import {
  cvss2Score10,
  cvss3Score10,
  parseSeverityWord,
  type Severity,
  severityOf2,
  severityOf3,
} from './cvss.js';
import { toUtcIso } from './names.js';
import { RecordError } from './osv.js';
import type { CpeMatch, VulnRecord } from './types.js';

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
    const score = Number(v4.cvssData.baseScore);
    const sev = parseSeverityWord(s(v4.cvssData.baseSeverity));
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
  const seen = new Set<string>();
  const walk = (nodes: unknown) => {
    for (const n of arr(nodes).filter(isObj)) {
      if (n.negate === true) continue;
      for (const m of arr(n.cpeMatch).filter(isObj)) {
        const criteria = s(m.criteria);
        if (!criteria || m.vulnerable !== true) continue;
        const match: CpeMatch = { cpe: criteria, vulnerable: true, confidence: 'high' };
        const vsi = s(m.versionStartIncluding);
        const vse = s(m.versionStartExcluding);
        const vei = s(m.versionEndIncluding);
        const vee = s(m.versionEndExcluding);
        if (vsi) match.versionStartIncluding = vsi;
        if (vse) match.versionStartExcluding = vse;
        if (vei) match.versionEndIncluding = vei;
        if (vee) match.versionEndExcluding = vee;
        const key = JSON.stringify(match);
        if (seen.has(key)) continue;
        seen.add(key);
        rec.cpes.push(match);
      }
      walk(n.children);
    }
  };
  for (const c of arr(cve.configurations).filter(isObj)) walk(c.nodes);
  rec.aliases.sort();
  return rec;
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
