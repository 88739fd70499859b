/**
 * One entry point for version order per OSV ecosystem name: `compareVersions(eco, a, b)`.
 * Ecosystems without a known order return undefined from `comparatorFor` so callers can say
 * "unsupported" instead of guessing.
 */
import { compareApk } from './apk.js';
import { compareDebian } from './debian.js';
import { compareMaven } from './maven.js';
import type { Ordering } from './num.js';
import { comparePep440 } from './pep440.js';
import { compareRpm } from './rpm.js';
import { compareRubyGems } from './rubygems.js';
import { compareSemver } from './semver.js';

export type { Ordering } from './num.js';
export {
  compareApk,
  compareDebian,
  compareMaven,
  comparePep440,
  compareRpm,
  compareRubyGems,
  compareSemver,
};

export type Comparator = (a: string, b: string) => Ordering;

const BY_FAMILY: Record<string, Comparator> = {
  debian: compareDebian,
  ubuntu: compareDebian,
  rpm: compareRpm,
  'red hat': compareRpm,
  redhat: compareRpm,
  rocky: compareRpm,
  'rocky linux': compareRpm,
  almalinux: compareRpm,
  suse: compareRpm,
  opensuse: compareRpm,
  'suse linux enterprise server': compareRpm,
  mageia: compareRpm,
  openeuler: compareRpm,
  alpine: compareApk,
  wolfi: compareApk,
  chainguard: compareApk,
  npm: compareSemver,
  'crates.io': compareSemver,
  go: compareSemver,
  hex: compareSemver,
  semver: compareSemver,
  pypi: comparePep440,
  maven: compareMaven,
  rubygems: compareRubyGems,
};

/**
 * The comparator for an OSV ecosystem ("Debian:12", "Alpine:v3.20", "PyPI", "npm" …).
 * @example comparatorFor('Debian:12')?.('1.0-1', '1.0-2') === -1
 */
export function comparatorFor(ecosystem: string): Comparator | undefined {
  const base = ecosystem.split(':')[0]!.trim().toLowerCase();
  return BY_FAMILY[base];
}

/** Normalised ecosystem family, for grouping ("Debian:12" → "debian"). */
export function ecosystemFamily(ecosystem: string): string {
  return ecosystem.split(':')[0]!.trim().toLowerCase();
}

export function compareVersions(ecosystem: string, a: string, b: string): Ordering | undefined {
  return comparatorFor(ecosystem)?.(a, b);
}
