/**
 * Coverage of a check: which of an inventory's ecosystems the store has synced advisories for,
 * from which sources and when. A component whose ecosystem has none is "not covered": finding
 * nothing for it means nothing, and `check` must not read as an all-clear. Pure: the synced
 * marks (`vuln_sync_state` rows the sync writes) come in, the verdict per ecosystem goes out.
 */
import type { Component } from './inventory.js';
import { ecoKey } from './names.js';
import { comparatorFor } from './versions/index.js';

/** The sync-state key a sync writes for each ecosystem (as the source spells it) it stored. */
export const COVERAGE_ECO = 'coverage:eco:';
/** The sync-state key a sync writes when it stored CPE matches (NVD configurations, JVN). */
export const COVERAGE_CPE = 'coverage:cpe';

/** One coverage mark: `source` stored advisories for `key`; `value` is the ISO time, or ''. */
export interface CoverageMark {
  source: string;
  key: string;
  value: string;
}

export interface CoverageSource {
  source: string;
  /** The ecosystems as the source spells them (`Debian:12`), or `CPE`. */
  ecosystems: string[];
  /** The last time a record of these was synced (ISO UTC); null when synced before it was kept. */
  synced: string | null;
}

export interface EcosystemCoverage {
  /** The inventory's ecosystem as its components name it (`PyPI`, `Debian:12`, `CPE`). */
  ecosystem: string;
  components: number;
  covered: boolean;
  sources: CoverageSource[];
  /** Why it is not covered, and the command that would cover it. */
  reason?: string;
  hint?: string;
}

/** A synced ecosystem applies to a component's unless both name different releases. */
function applies(synced: string, wanted: string): boolean {
  if (ecoKey(synced) !== ecoKey(wanted)) return false;
  return !(synced.includes(':') && wanted.includes(':') && synced !== wanted);
}

function family(ecosystem: string): string {
  return ecosystem.split(':')[0] ?? ecosystem;
}

/**
 * Coverage of each ecosystem an inventory names, in order of first appearance.
 * @example coverageOf([{ name: 'zlib', version: '1:1.2.13', ecosystem: 'Debian:12' }], [{ source: 'osv', key: 'coverage:eco:PyPI', value: '2026-12-01T00:00:00Z' }])[0]!.covered === false
 */
export function coverageOf(
  components: readonly Component[],
  marks: readonly CoverageMark[],
): EcosystemCoverage[] {
  const counts = new Map<string, number>();
  for (const c of components) {
    const e = c.cpe ? 'CPE' : c.ecosystem;
    counts.set(e, (counts.get(e) ?? 0) + 1);
  }
  const out: EcosystemCoverage[] = [];
  for (const [ecosystem, n] of counts) {
    const bySource = new Map<string, CoverageSource>();
    const add = (source: string, spelled: string, value: string) => {
      let s = bySource.get(source);
      if (!s) {
        s = { source, ecosystems: [], synced: null };
        bySource.set(source, s);
      }
      if (!s.ecosystems.includes(spelled)) s.ecosystems.push(spelled);
      if (value && (s.synced === null || value > s.synced)) s.synced = value;
    };
    const entry: EcosystemCoverage = { ecosystem, components: n, covered: false, sources: [] };
    if (ecosystem === 'CPE') {
      for (const m of marks) if (m.key === COVERAGE_CPE) add(m.source, 'CPE', m.value);
      if (bySource.size === 0) {
        entry.reason = 'no CPE matches synced (NVD or JVN)';
        entry.hint = 'mamori vuln sync --source nvd';
      }
    } else if (!comparatorFor(ecosystem)) {
      entry.reason = `unsupported ecosystem ${ecosystem}: no version order to match by`;
    } else {
      const spelled = new Set<string>();
      for (const m of marks) {
        if (!m.key.startsWith(COVERAGE_ECO)) continue;
        const synced = m.key.slice(COVERAGE_ECO.length);
        if (ecoKey(synced) === ecoKey(ecosystem)) spelled.add(synced);
        if (applies(synced, ecosystem)) add(m.source, synced, m.value);
      }
      if (bySource.size === 0) {
        entry.reason = spelled.size
          ? `advisories synced only for ${[...spelled].sort().join(', ')}, not ${ecosystem}`
          : `no ${family(ecosystem)} advisories synced`;
        entry.hint = `mamori vuln sync --source osv --ecosystem ${spelled.size ? ecosystem : family(ecosystem)}`;
      }
    }
    entry.sources = [...bySource.values()].sort((a, b) => a.source.localeCompare(b.source));
    for (const s of entry.sources) s.ecosystems.sort();
    entry.covered = entry.sources.length > 0;
    out.push(entry);
  }
  return out;
}

/** Components in ecosystems that are not covered. */
export function uncoveredCount(coverage: readonly EcosystemCoverage[]): number {
  return coverage.reduce((n, c) => n + (c.covered ? 0 : c.components), 0);
}
