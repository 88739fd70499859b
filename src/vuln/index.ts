/**
 * The vuln area's public surface: sync advisories (OSV, NVD, JVN) into the store, look one up
 * by any alias, check an inventory or a CPE, and count registrations IPA-style. Other areas,
 * the CLI and the web service import only this file.
 */

export {
  type CheckResult,
  checkComponents,
  type Finding,
  reachesFailOn,
} from './check.js';
export { type Cpe, cpeMatches, cpeNameMatch, parseCpe } from './core/cpe.js';
export { cvss2Score10, cvss3Score10, type Severity, severityRank } from './core/cvss.js';
export {
  type Component,
  type Inventory,
  InventoryError,
  parseDpkgStatus,
  parseInventory,
} from './core/inventory.js';
export { affectedBy } from './core/match.js';
export { toCycloneDxVex, toSarif } from './core/report.js';
export type { Source, VulnRecord } from './core/types.js';
export { comparatorFor, compareVersions } from './core/versions/index.js';
export { lookup, type VulnDetail } from './show.js';
export { type SyncError, type SyncOptions, type SyncSummary, syncFrom } from './sync.js';

import type { Store } from '../storage/index.js';
import { advisoryInfo, cpeHits } from './check.js';

/**
 * Vulnerabilities matching one CPE 2.3 name (for exposure's fingerprinted services).
 * @example await matchCpe(store, 'cpe:2.3:a:apache:http_server:2.4.49:*:*:*:*:*:*:*')
 */
export async function matchCpe(
  store: Store,
  cpe: string,
): Promise<
  {
    id: string;
    aliases: string[];
    severity: string | null;
    confidence: 'high' | 'low';
    source: string;
  }[]
> {
  const hits = await cpeHits(store, cpe);
  const info = await advisoryInfo(
    store,
    hits.map((h) => h.advisoryId),
  );
  return hits.flatMap((h) => {
    const a = info.get(h.advisoryId);
    return a && !a.withdrawn
      ? [
          {
            id: a.id,
            aliases: a.aliases,
            severity: a.severity,
            confidence: h.confidence,
            source: h.source,
          },
        ]
      : [];
  });
}
