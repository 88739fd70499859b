/**
 * The normalised shape every source (OSV, NVD, JVN) is parsed into before it is stored, and
 * the shapes `check` returns. Types only.
 */
import type { Severity } from './cvss.js';

export type Source = 'osv' | 'nvd' | 'jvn';

export interface RangeEvent {
  introduced?: string;
  fixed?: string;
  last_affected?: string;
  limit?: string;
}

export interface AffectedRange {
  /** ECOSYSTEM | SEMVER | GIT */
  type: string;
  repo?: string;
  events: RangeEvent[];
}

export interface AffectedPackage {
  ecosystem: string;
  name: string;
  purl?: string;
  ranges: AffectedRange[];
  versions: string[];
}

/** A CPE name with NVD's optional version bounds. */
export interface CpeCriteria {
  cpe: string;
  versionStartIncluding?: string;
  versionStartExcluding?: string;
  versionEndIncluding?: string;
  versionEndExcluding?: string;
}

/** One literal of a platform condition: this platform must be present (or, negated, absent). */
export interface PlatformMatch extends CpeCriteria {
  negate?: true;
}

/**
 * The "running on / with" condition of a vulnerable CPE, in disjunctive normal form: the match
 * applies when every literal of at least one clause holds. `[[a], [b]]` = on a or on b;
 * `[[a, b]]` = with a and b. Absent = no condition.
 */
export type PlatformCondition = PlatformMatch[][];

/** One CPE match from an NVD configuration or a JVN product entry. */
export interface CpeMatch extends CpeCriteria {
  vulnerable: boolean;
  confidence: 'high' | 'low';
  /** NVD configurations that need other CPEs beside this one (AND nodes, negated nodes). */
  platform?: PlatformCondition;
}

/**
 * A CPE match as the store keeps it, inside the row of its product: vendor, product,
 * `vulnerable` and `confidence` are the row's own.
 */
export interface ProductMatch extends CpeCriteria {
  platform?: PlatformCondition;
}

export interface Reference {
  type: string;
  url: string;
}

export interface VulnRecord {
  source: Source;
  id: string;
  /** Other names of the same vulnerability (CVE, GHSA, PYSEC, JVNDB …), without `id`. */
  aliases: string[];
  title?: string;
  titleJa?: string;
  description?: string;
  descriptionJa?: string;
  /** ISO-8601 UTC. */
  published?: string;
  modified?: string;
  registered?: string;
  withdrawn?: string;
  severity?: Severity;
  cvssScore10?: number;
  cvssV2?: string;
  cvssV3?: string;
  cvssV4?: string;
  cwes: string[];
  references: Reference[];
  affected: AffectedPackage[];
  cpes: CpeMatch[];
}
