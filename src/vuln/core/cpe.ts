/**
 * CPE 2.3 names: parsing the formatted-string binding (and 2.2 URIs), and name matching as
 * NISTIR 7696 defines it (ANY/NA logical values, `*` and `?` wildcards in the source), plus
 * the version-range bounds NVD configurations put beside a criteria name.
 */
import { rpmvercmp } from './versions/rpm.js';

export const CPE_ATTRS = [
  'part',
  'vendor',
  'product',
  'version',
  'update',
  'edition',
  'language',
  'sw_edition',
  'target_sw',
  'target_hw',
  'other',
] as const;

export type CpeAttr = (typeof CPE_ATTRS)[number];
export type Cpe = Record<CpeAttr, string>;

/** Split on unescaped colons. */
function splitFs(s: string): string[] {
  // Most names escape nothing: a plain split (the loop below is a few times slower).
  if (!s.includes('\\')) return s.split(':');
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[i + 1]!;
      i++;
    } else if (c === ':') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/**
 * Parse `cpe:2.3:a:vendor:product:version:…` (or a `cpe:/a:vendor:product:version` URI).
 * Values stay in formatted-string form, lower-cased; "*" = ANY, "-" = NA.
 * @example parseCpe('cpe:2.3:a:apache:http_server:2.4.49:*:*:*:*:*:*:*')?.product === 'http_server'
 */
export function parseCpe(s: string): Cpe | undefined {
  const t = s.trim();
  let fields: string[];
  const head = t.slice(0, 8).toLowerCase();
  if (head === 'cpe:2.3:') {
    fields = splitFs(t.slice(8).toLowerCase());
    if (fields.length !== 11) return undefined;
  } else if (head.startsWith('cpe:/')) {
    fields = t
      .slice(5)
      .split(':')
      .map((f) => decodeURIComponent(f).replace(/([^A-Za-z0-9._\\*?-])/g, '\\$1'));
    while (fields.length < 11) fields.push('*');
    fields = fields.map((f) => (f === '' ? '*' : f));
    if (fields.length > 11) return undefined;
  } else return undefined;
  const part = fields[0]!.toLowerCase();
  if (part !== 'a' && part !== 'o' && part !== 'h' && part !== '*') return undefined;
  const f = (i: number) => (fields[i] ?? '*').toLowerCase();
  return {
    part,
    vendor: f(1),
    product: f(2),
    version: f(3),
    update: f(4),
    edition: f(5),
    language: f(6),
    sw_edition: f(7),
    target_sw: f(8),
    target_hw: f(9),
    other: f(10),
  };
}

export function formatCpe(c: Cpe): string {
  return `cpe:2.3:${CPE_ATTRS.map((a) => c[a]).join(':')}`;
}

function unescapeCpe(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}

/** Wildcard match of a source value (may hold unescaped * and ?) against a target value. */
function wildcardMatch(source: string, target: string): boolean {
  let re = '^';
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\' && i + 1 < source.length) {
      re += source[i + 1]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      i++;
    } else if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`${re}$`).test(unescapeCpe(target));
}

export type Relation = 'EQUAL' | 'SUPERSET' | 'SUBSET' | 'DISJOINT' | 'UNDEFINED';

/** NISTIR 7696 Table 6-2: the relation of one source attribute value to one target value. */
export function compareAttr(source: string, target: string): Relation {
  const sAny = source === '*';
  const tAny = target === '*';
  const sNa = source === '-';
  const tNa = target === '-';
  if (sAny && tAny) return 'EQUAL';
  if (sAny) return 'SUPERSET';
  if (tAny) return sNa ? 'SUBSET' : 'SUBSET';
  if (sNa && tNa) return 'EQUAL';
  if (sNa || tNa) return 'DISJOINT';
  const hasWild = /(^|[^\\])[*?]/.test(source);
  if (!hasWild) return unescapeCpe(source) === unescapeCpe(target) ? 'EQUAL' : 'DISJOINT';
  if (/(^|[^\\])[*?]/.test(target)) return 'UNDEFINED';
  return wildcardMatch(source, target) ? 'SUPERSET' : 'DISJOINT';
}

/** CPE name match: every attribute of the source is a superset of or equal to the target's. */
export function cpeNameMatch(source: Cpe, target: Cpe, skip: CpeAttr[] = []): boolean {
  for (const a of CPE_ATTRS) {
    if (skip.includes(a)) continue;
    const r = compareAttr(source[a], target[a]);
    if (r !== 'EQUAL' && r !== 'SUPERSET') return false;
  }
  return true;
}

export interface CpeRange {
  versionStartIncluding?: string | null;
  versionStartExcluding?: string | null;
  versionEndIncluding?: string | null;
  versionEndExcluding?: string | null;
}

/** A generic version order for CPE ranges (rpmvercmp: numbers by value, letters by text). */
export function compareCpeVersion(a: string, b: string): number {
  return rpmvercmp(unescapeCpe(a), unescapeCpe(b));
}

/**
 * Does a criteria CPE (with optional NVD version range) match the target CPE?
 * @example cpeMatches('cpe:2.3:a:apache:http_server:*:*:*:*:*:*:*:*', { versionEndExcluding: '2.4.51' }, target)
 */
export function cpeMatches(criteria: Cpe, range: CpeRange, target: Cpe): boolean {
  const hasRange = Boolean(
    range.versionStartIncluding ||
      range.versionStartExcluding ||
      range.versionEndIncluding ||
      range.versionEndExcluding,
  );
  if (!hasRange) return cpeNameMatch(criteria, target);
  if (!cpeNameMatch(criteria, target, ['version'])) return false;
  const v = target.version;
  if (v === '*' || v === '-') return false;
  if (range.versionStartIncluding && compareCpeVersion(v, range.versionStartIncluding) < 0)
    return false;
  if (range.versionStartExcluding && compareCpeVersion(v, range.versionStartExcluding) <= 0)
    return false;
  if (range.versionEndIncluding && compareCpeVersion(v, range.versionEndIncluding) > 0)
    return false;
  if (range.versionEndExcluding && compareCpeVersion(v, range.versionEndExcluding) >= 0)
    return false;
  return true;
}
