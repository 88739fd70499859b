/**
 * CVSS base scores from vector strings (v2 and v3.0/3.1 by the FIRST specifications' formulas;
 * v4.0 through metaeffekt's `ae-cvss-calculator`, which carries the specification's
 * macro-vector table) and the qualitative severity. Not a validator of environmental metrics.
 */
import cvssCalculator from 'ae-cvss-calculator';

export type Severity = 'none' | 'low' | 'medium' | 'high' | 'critical';
export const SEVERITY_ORDER: Severity[] = ['none', 'low', 'medium', 'high', 'critical'];

/** @example severityRank('high') > severityRank('medium') */
export function severityRank(s: string | null | undefined): number {
  return s ? SEVERITY_ORDER.indexOf(s as Severity) : -1;
}

function metrics(vector: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of vector.split('/')) {
    const [k, v] = part.split(':');
    if (k && v) m.set(k, v);
  }
  return m;
}

function roundUp(x: number): number {
  const i = Math.round(x * 100000);
  return i % 10000 === 0 ? i / 100000 : (Math.floor(i / 10000) + 1) / 10;
}

/**
 * Base score ×10 of a CVSS v3 vector, or undefined when the vector is malformed.
 * @example cvss3Score10('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H') === 98
 */
export function cvss3Score10(vector: string): number | undefined {
  if (!/^CVSS:3\.[01]\//.test(vector)) return undefined;
  const m = metrics(vector);
  const scope = m.get('S');
  const av = { N: 0.85, A: 0.62, L: 0.55, P: 0.2 }[m.get('AV') ?? ''];
  const ac = { L: 0.77, H: 0.44 }[m.get('AC') ?? ''];
  const pr =
    scope === 'C'
      ? { N: 0.85, L: 0.68, H: 0.5 }[m.get('PR') ?? '']
      : { N: 0.85, L: 0.62, H: 0.27 }[m.get('PR') ?? ''];
  const ui = { N: 0.85, R: 0.62 }[m.get('UI') ?? ''];
  const cia = (k: string) => ({ H: 0.56, L: 0.22, N: 0 })[m.get(k) ?? ''];
  const c = cia('C');
  const i = cia('I');
  const a = cia('A');
  if (
    av === undefined ||
    ac === undefined ||
    pr === undefined ||
    ui === undefined ||
    c === undefined ||
    i === undefined ||
    a === undefined ||
    (scope !== 'U' && scope !== 'C')
  )
    return undefined;
  const iss = 1 - (1 - c) * (1 - i) * (1 - a);
  const impact = scope === 'U' ? 6.42 * iss : 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15;
  const expl = 8.22 * av * ac * pr * ui;
  if (impact <= 0) return 0;
  const base =
    scope === 'U'
      ? roundUp(Math.min(impact + expl, 10))
      : roundUp(Math.min(1.08 * (impact + expl), 10));
  return Math.round(base * 10);
}

/**
 * Base score ×10 of a CVSS v2 vector (with or without parentheses).
 * @example cvss2Score10('AV:N/AC:L/Au:N/C:P/I:P/A:P') === 75
 */
export function cvss2Score10(vector: string): number | undefined {
  const m = metrics(vector.replace(/^\(|\)$/g, '').replace(/^CVSS:2\.0\//, ''));
  const av = { L: 0.395, A: 0.646, N: 1.0 }[m.get('AV') ?? ''];
  const ac = { H: 0.35, M: 0.61, L: 0.71 }[m.get('AC') ?? ''];
  const au = { M: 0.45, S: 0.56, N: 0.704 }[m.get('Au') ?? ''];
  const cia = (k: string) => ({ N: 0, P: 0.275, C: 0.66 })[m.get(k) ?? ''];
  const c = cia('C');
  const i = cia('I');
  const a = cia('A');
  if (
    av === undefined ||
    ac === undefined ||
    au === undefined ||
    c === undefined ||
    i === undefined ||
    a === undefined
  )
    return undefined;
  const impact = 10.41 * (1 - (1 - c) * (1 - i) * (1 - a));
  const expl = 20 * av * ac * au;
  const f = impact === 0 ? 0 : 1.176;
  const base = Math.round((0.6 * impact + 0.4 * expl - 1.5) * f * 10);
  return Math.max(0, base);
}

/** Qualitative severity of a v3/v4 score ×10. @example severityOf3(98) === 'critical' */
export function severityOf3(score10: number): Severity {
  if (score10 === 0) return 'none';
  if (score10 < 40) return 'low';
  if (score10 < 70) return 'medium';
  if (score10 < 90) return 'high';
  return 'critical';
}

/** Qualitative severity of a v2 score ×10 (NVD's v2 bands). */
export function severityOf2(score10: number): Severity {
  if (score10 < 40) return 'low';
  if (score10 < 70) return 'medium';
  return 'high';
}

/** Parse a word a source uses ("HIGH", "Moderate", "重要") into our severity. */
export function parseSeverityWord(word: string | undefined | null): Severity | undefined {
  if (!word) return undefined;
  const w = word.trim().toLowerCase();
  if (w === 'critical' || w === '緊急') return 'critical';
  if (w === 'high' || w === 'important' || w === '重要' || w === 'h') return 'high';
  if (w === 'medium' || w === 'moderate' || w === '警告' || w === 'm') return 'medium';
  if (w === 'low' || w === '注意' || w === 'l') return 'low';
  if (w === 'none') return 'none';
  return undefined;
}

const V4_BASE: Record<string, string> = {
  AV: 'NALP',
  AC: 'LH',
  AT: 'NP',
  PR: 'NLH',
  UI: 'NPA',
  VC: 'HLN',
  VI: 'HLN',
  VA: 'HLN',
  SC: 'HLN',
  SI: 'HLN',
  SA: 'HLN',
};

/**
 * Score ×10 of a CVSS v4.0 vector (CVSS-B, or CVSS-BT/BE/BTE when the vector carries threat or
 * environmental metrics, as the specification names them), or undefined when a base metric is
 * missing or has a value the specification does not define.
 * @example cvss4Score10('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N') === 93
 */
export function cvss4Score10(vector: string): number | undefined {
  if (!vector.startsWith('CVSS:4.0/')) return undefined;
  const m = metrics(vector.slice('CVSS:4.0/'.length));
  for (const [k, values] of Object.entries(V4_BASE)) {
    const v = m.get(k);
    if (v === undefined || v.length !== 1 || !values.includes(v)) return undefined;
  }
  try {
    const score = new cvssCalculator.Cvss4P0(vector).calculateScores().base;
    return typeof score === 'number' && Number.isFinite(score) ? Math.round(score * 10) : undefined;
  } catch {
    return undefined; // the library refuses a metric it does not know
  }
}

/** The CVSS fields a stored record keeps, for {@link severityOfRecord}. */
export interface RecordCvss {
  severity: string | null;
  score10: number | null;
  v2: string | null;
  v3: string | null;
  v4: string | null;
}

/**
 * A record's severity and score: the source's own when it gave one, else computed from the
 * vectors it keeps (v3, then v4, then v2), so a record stored without a severity (a v4-only
 * OSV record, or one stored before v4 was scored) is not "unknown" while a vector says more.
 * `basis` names what the severity came from.
 * @example severityOfRecord({ severity: null, score10: null, v2: null, v3: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N', v4: null }).severity === 'high'
 */
export function severityOfRecord(r: RecordCvss): {
  severity: Severity | null;
  score10: number | null;
  basis: string | null;
} {
  const own = parseSeverityWord(r.severity);
  if (own) return { severity: own, score10: r.score10, basis: 'source' };
  const tries: [string | null, (v: string) => number | undefined, (n: number) => Severity][] = [
    [r.v3, cvss3Score10, severityOf3],
    [r.v4, cvss4Score10, severityOf3],
    [r.v2, cvss2Score10, severityOf2],
  ];
  for (const [vector, score, band] of tries) {
    if (!vector) continue;
    const s = score(vector);
    if (s !== undefined) return { severity: band(s), score10: s, basis: vector };
  }
  return { severity: null, score10: r.score10, basis: null };
}
