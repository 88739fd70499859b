/**
 * Is an installed version affected by an OSV `affected` entry, and which versions fix it?
 * ECOSYSTEM and SEMVER ranges are evaluated with the ecosystem's own version order; GIT ranges
 * cannot be evaluated against a release number, so only the explicit `versions` list counts
 * for them (as OSV-Scanner does).
 */
import type { AffectedRange } from './types.js';
import { type Comparator, comparatorFor, compareSemver } from './versions/index.js';

export interface AffectedVerdict {
  affected: boolean;
  /** Versions that fix it, ascending; empty = no fix yet. */
  fixed: string[];
}

type Ev = { kind: 'introduced' | 'fixed' | 'last_affected' | 'limit'; at: string };

/** Events sorted by version, memoised per range object (rows are evaluated many times). */
const sortedCache = new WeakMap<AffectedRange, Map<Comparator, Ev[]>>();

function sortedEvents(cmp: Comparator, range: AffectedRange): Ev[] {
  let byCmp = sortedCache.get(range);
  const hit = byCmp?.get(cmp);
  if (hit) return hit;
  const events: Ev[] = [];
  for (const e of range.events) {
    for (const kind of ['introduced', 'fixed', 'last_affected', 'limit'] as const) {
      const at = e[kind];
      if (at !== undefined) events.push({ kind, at });
    }
  }
  const sorted = events
    .map((e, i) => ({ e, i }))
    .sort((x, y) => {
      const xz = x.e.kind === 'introduced' && x.e.at === '0';
      const yz = y.e.kind === 'introduced' && y.e.at === '0';
      if (xz || yz) return xz && yz ? 0 : xz ? -1 : 1;
      return cmp(x.e.at, y.e.at) || x.i - y.i;
    })
    .map((x) => x.e);
  if (!byCmp) {
    byCmp = new Map();
    sortedCache.set(range, byCmp);
  }
  byCmp.set(cmp, sorted);
  return sorted;
}

function inRange(
  cmp: Comparator,
  v: string,
  range: AffectedRange,
): { hit: boolean; fixed?: string } {
  const sorted = sortedEvents(cmp, range);
  let vulnerable = false;
  let fixedAfter: string | undefined;
  const limits = sorted.filter((e) => e.kind === 'limit');
  for (const e of sorted) {
    if (e.kind === 'introduced') {
      if (e.at === '0' || cmp(v, e.at) >= 0) vulnerable = true;
      else break;
    } else if (e.kind === 'fixed') {
      if (cmp(v, e.at) >= 0) vulnerable = false;
      else if (vulnerable) {
        fixedAfter = e.at;
        break;
      } else break;
    } else if (e.kind === 'last_affected') {
      if (cmp(v, e.at) > 0) vulnerable = false;
      else break;
    }
  }
  if (vulnerable && limits.length && limits.every((l) => l.at !== '*' && cmp(v, l.at) >= 0))
    vulnerable = false;
  return fixedAfter === undefined ? { hit: vulnerable } : { hit: vulnerable, fixed: fixedAfter };
}

const setCache = new WeakMap<string[], Set<string>>();

/** A set of explicit versions; callers holding the raw JSON can answer `has` without parsing it. */
export interface VersionLookup {
  has(version: string): boolean;
}

/** Explicit `versions` are matched as the exact strings the registry publishes. */
function versionSet(versions: readonly string[] | VersionLookup): VersionLookup {
  if (!Array.isArray(versions)) return versions as VersionLookup;
  const list = versions as string[];
  let s = setCache.get(list);
  if (!s) {
    s = new Set(list);
    setCache.set(list, s);
  }
  return s;
}

/**
 * @example affectedBy('PyPI', '2.0.1', [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '2.0.2' }] }], [])
 *   // { affected: true, fixed: ['2.0.2'] }
 */
export function affectedBy(
  ecosystem: string,
  version: string,
  ranges: AffectedRange[],
  versions: readonly string[] | VersionLookup,
): AffectedVerdict | undefined {
  const cmp = comparatorFor(ecosystem);
  if (!cmp) return undefined;
  const fixed = new Set<string>();
  let affected = false;
  const orderable = ranges.filter((r) => r.type === 'ECOSYSTEM' || r.type === 'SEMVER');
  for (const r of orderable) {
    const c = r.type === 'SEMVER' ? compareSemver : cmp;
    const res = inRange(c, version, r);
    if (res.hit) {
      affected = true;
      if (res.fixed) fixed.add(res.fixed);
    }
  }
  if (!affected && versionSet(versions).has(version)) {
    affected = true;
    for (const r of orderable)
      for (const e of r.events) if (e.fixed && cmp(e.fixed, version) > 0) fixed.add(e.fixed);
  }
  return { affected, fixed: affected ? [...fixed].sort(cmp) : [] };
}
