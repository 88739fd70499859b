/**
 * Cross-area links for a bulletin issue, read only through the other areas' index.ts:
 * the vuln area's severity for each CVE/JVNDB/GHSA id a story names, and for IoT stories what
 * the reader's own honeypot saw. "Affects your inventory" and exposure's open-camera counts are
 * not wired: neither area keeps that result for others to read yet (see docs/bulletin.md).
 */
import { honeypotSummary } from '../honeypot/index.js';
import type { Store } from '../storage/index.js';
import { lookup } from '../vuln/index.js';

export interface CrossLinks {
  /** Severity of a vulnerability id in the local vuln store; undefined when unknown. */
  severityOf(id: string): Promise<string | undefined>;
  /** One line about the reader's own IoT exposure/attack figures, or undefined. */
  iotContext(): Promise<string | undefined>;
}

/** Links backed by this store's vuln and honeypot data. */
export function storeLinks(store: Store): CrossLinks {
  let iot: Promise<string | undefined> | undefined;
  return {
    async severityOf(id) {
      try {
        const d = await lookup(store, id);
        return d?.severity ?? undefined;
      } catch {
        return undefined;
      }
    },
    iotContext() {
      iot ??= (async () => {
        try {
          const s = await honeypotSummary(store);
          if (!s.events) return undefined;
          const top = s.topCredentials[0];
          return `Your honeypot: ${s.events} events${s.firstContact ? ` since ${s.firstContact.slice(0, 10)}` : ''}; ${(s.botnetShare * 100).toFixed(0)}% of logins used botnet default credentials${top ? `; most tried: ${top.username}/${top.password} (${top.attempts})` : ''}.`;
        } catch {
          return undefined;
        }
      })();
      return iot;
    },
  };
}
