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

/** One CPE match from an NVD configuration or a JVN product entry. */
export interface CpeMatch {
  cpe: string;
  versionStartIncluding?: string;
  versionStartExcluding?: string;
  versionEndIncluding?: string;
  versionEndExcluding?: string;
  vulnerable: boolean;
  confidence: 'high' | 'low';
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
