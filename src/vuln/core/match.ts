/**
 * Is an installed version affected by an OSV `affected` entry, and which versions fix it?
 * ECOSYSTEM and SEMVER ranges are evaluated with the ecosystem's own version order; GIT ranges
 * cannot be evaluated against a release number, so only the explicit `versions` list counts
 * for them (as OSV-Scanner does). And does an NVD platform condition ("running on / with")
 * hold for an inventory: yes, no, or unknown when the inventory does not say.
 */
import { CPE_ATTRS, type Cpe, type CpeRange, compareAttr, cpeMatches, parseCpe } from './cpe.js';
import type { Component } from './inventory.js';
import type { AffectedRange, PlatformCondition, PlatformMatch } from './types.js';
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

/** What an inventory says about the platforms (and other software) its components run with. */
export interface PlatformFacts {
  /** Every CPE the inventory names, and the index of the component that named it. */
  cpes: { cpe: Cpe; from: number }[];
}

/**
 * The operating system an ecosystem implies, as NVD names it (`debian_linux:12.0`); the
 * version is ANY when the ecosystem does not carry the release.
 * @example osCpeOf('Debian:12') === 'cpe:2.3:o:debian:debian_linux:12.0:*:*:*:*:*:*:*'
 */
export function osCpeOf(ecosystem: string): string | undefined {
  const os = (vendor: string, product: string, version = '*') =>
    `cpe:2.3:o:${vendor}:${product}:${version}:*:*:*:*:*:*:*`;
  let m = /^Debian(?::(\d+))?$/.exec(ecosystem);
  if (m) return os('debian', 'debian_linux', m[1] ? `${m[1]}.0` : '*');
  m = /^Ubuntu(?::(\d+\.\d+))?/.exec(ecosystem);
  if (m) return os('canonical', 'ubuntu_linux', m[1]);
  m = /^Alpine(?::v?(\d+\.\d+))?$/.exec(ecosystem);
  if (m) return os('alpinelinux', 'alpine_linux', m[1]);
  return undefined;
}

/**
 * The platform facts of one inventory: its CPE names of any part, and the OS its system
 * packages imply (dpkg status with the release from os-release).
 * @example platformFacts([{ name: 'x', version: '1', ecosystem: 'CPE', cpe: 'cpe:2.3:o:microsoft:windows:10:*:*:*:*:*:*:*' }])
 */
export function platformFacts(components: readonly Component[]): PlatformFacts {
  const cpes: PlatformFacts['cpes'] = [];
  const seenOs = new Set<string>();
  components.forEach((c, from) => {
    const named = c.cpe ? parseCpe(c.cpe) : undefined;
    if (named) cpes.push({ cpe: named, from });
    const os = osCpeOf(c.ecosystem);
    if (os && !seenOs.has(os)) {
      seenOs.add(os);
      cpes.push({ cpe: parseCpe(os)!, from });
    }
  });
  return { cpes };
}

/** Kleene's three values as numbers: AND is min, OR is max, NOT is 2 − x. */
const NO = 0;
const UNKNOWN = 1;
const YES = 2;
type Tri = 0 | 1 | 2;

/**
 * A fact that names the platform less precisely than the criteria (Ubuntu without its release
 * against `ubuntu_linux:20.04:…:lts`): neither a match nor a different platform.
 */
function couldBe(crit: Cpe, range: CpeRange, fact: Cpe): boolean {
  const ranged = Boolean(
    range.versionStartIncluding ||
      range.versionStartExcluding ||
      range.versionEndIncluding ||
      range.versionEndExcluding,
  );
  for (const a of CPE_ATTRS) {
    if (a === 'version' && ranged) {
      // A known release is in the range or not; only an unknown one leaves it open.
      if (fact.version !== '*' && !cpeMatches({ ...fact, version: '*' }, range, fact)) return false;
      continue;
    }
    if (compareAttr(crit[a], fact[a]) === 'DISJOINT') return false;
  }
  return true;
}

/**
 * Two numeric releases that differ only by trailing zero components (`12` and `12.0`, as an
 * SBOM and NVD name Debian 12): one platform release. Platforms only; an affected version
 * stays exact, as NISTIR 7696 matches it.
 */
export function sameRelease(a: string, b: string): boolean {
  const numeric = /^\d+(?:\.\d+)*$/;
  if (a === b || !numeric.test(a) || !numeric.test(b)) return false;
  const trim = (v: string) => v.replace(/(?:\.0+)+$/, '').replace(/^0+(?=\d)/, '');
  return trim(a) === trim(b);
}

function literalHolds(m: PlatformMatch, facts: PlatformFacts, self: number): Tri {
  const parsed = parseCpe(m.cpe);
  if (!parsed) return UNKNOWN;
  // NVD names a running-on platform without a version as NA (`o:microsoft:windows:-`,
  // `h:…:-`): the platform in any release, not "a release without a version".
  const crit = parsed.version === '-' ? { ...parsed, version: '*' } : parsed;
  let v: Tri = NO;
  let vague = false;
  for (const f of facts.cpes) {
    const fact = sameRelease(crit.version, f.cpe.version)
      ? { ...f.cpe, version: crit.version }
      : f.cpe;
    if (cpeMatches(crit, m, fact)) {
      v = YES;
      break;
    }
    if (couldBe(crit, m, f.cpe)) vague = true;
  }
  if (v === NO) {
    // Absent counts as "not there" only when the inventory names some other component of that
    // part (an OS for `o:`, hardware for `h:`, another application for `a:`).
    const named = facts.cpes.some(
      (f) => f.from !== self && (crit.part === '*' || f.cpe.part === crit.part),
    );
    v = vague || !named ? UNKNOWN : NO;
  }
  return m.negate ? ((YES - v) as Tri) : v;
}

/** One clause for people: `cpe … and not cpe … (>= 2.0, < 3.1)`. */
export function describePlatformClause(clause: readonly PlatformMatch[]): string {
  return clause
    .map((m) => {
      const b: string[] = [];
      if (m.versionStartIncluding) b.push(`>= ${m.versionStartIncluding}`);
      if (m.versionStartExcluding) b.push(`> ${m.versionStartExcluding}`);
      if (m.versionEndIncluding) b.push(`<= ${m.versionEndIncluding}`);
      if (m.versionEndExcluding) b.push(`< ${m.versionEndExcluding}`);
      return `${m.negate ? 'not ' : ''}${m.cpe}${b.length ? ` (${b.join(', ')})` : ''}`;
    })
    .join(' and ');
}

export interface PlatformVerdict {
  /** met: a clause holds; unmet: every clause is ruled out; unknown: the inventory cannot tell. */
  verdict: 'met' | 'unmet' | 'unknown';
  /** The clauses the inventory could neither confirm nor rule out, for people. */
  open: string[];
}

/**
 * Evaluate a platform condition against an inventory's facts; `self` is the index of the
 * component whose CPE matched (it does not count as naming the inventory's platforms).
 * @example evaluatePlatform([[{ cpe: 'cpe:2.3:o:microsoft:windows:-:*:*:*:*:*:*:*' }]], platformFacts([]))
 *   // { verdict: 'unknown', open: ['cpe:2.3:o:microsoft:windows:-:*:*:*:*:*:*:*'] }
 */
export function evaluatePlatform(
  condition: PlatformCondition,
  facts: PlatformFacts,
  self = -1,
): PlatformVerdict {
  let best: Tri = NO;
  const open: string[] = [];
  for (const clause of condition) {
    let v: Tri = YES;
    for (const m of clause) {
      v = Math.min(v, literalHolds(m, facts, self)) as Tri;
      if (v === NO) break;
    }
    if (v === YES) return { verdict: 'met', open: [] };
    if (v === UNKNOWN) open.push(describePlatformClause(clause));
    best = Math.max(best, v) as Tri;
  }
  return best === UNKNOWN ? { verdict: 'unknown', open } : { verdict: 'unmet', open: [] };
}
