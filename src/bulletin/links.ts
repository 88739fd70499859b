/**
 * Cross-area links for a bulletin issue, read only through the other areas' index.ts:
 * the vuln area's severity for each CVE/JVNDB/GHSA id a story names and "affects your
 * inventory" from the last recorded `vuln check` run; for IoT stories what the reader's own
 * honeypot saw and the open cameras the exposure area found.
 */

import { openCameras } from '../exposure/index.js';
import { honeypotSummary } from '../honeypot/index.js';
import type { Store } from '../storage/index.js';
import { lastCheckFindings, lookup } from '../vuln/index.js';
import type { InventoryHit } from './core/render.js';

export interface CrossLinks {
  /** Severity of a vulnerability id in the local vuln store; undefined when unknown. */
  severityOf(id: string): Promise<string | undefined>;
  /** Inventory packages the last `vuln check` found affected by any of a story's ids. */
  inventoryOf(ids: string[]): Promise<InventoryHit[]>;
  /** The reader's own IoT figures (honeypot, exposure), one line per area, or undefined. */
  iotContext(): Promise<string | undefined>;
}

async function honeypotLine(store: Store): Promise<string | undefined> {
  try {
    const s = await honeypotSummary(store);
    if (!s.events) return undefined;
    const top = s.topCredentials[0];
    return `Your honeypot: ${s.events} events${s.firstContact ? ` since ${s.firstContact.slice(0, 10)}` : ''}; ${(s.botnetShare * 100).toFixed(0)}% of logins used botnet default credentials${top ? `; most tried: ${top.username}/${top.password} (${top.attempts})` : ''}.`;
  } catch {
    return undefined;
  }
}

async function exposureLine(store: Store): Promise<string | undefined> {
  try {
    const rows = await openCameras(store);
    const noAuth = new Set<string>();
    const defaults = new Set<string>();
    for (const r of rows) {
      const key = `${r.ip}:${r.port}`;
      if (r.kind === 'no-auth') noAuth.add(key);
      else if (r.kind === 'default-credentials') defaults.add(key);
    }
    const open = new Set([...noAuth, ...defaults]).size;
    if (!open) return undefined;
    return `Your exposure scans: ${open} open camera${open === 1 ? '' : 's'} — ${noAuth.size} without authentication, ${defaults.size} with factory-default credentials.`;
  } catch {
    return undefined;
  }
}

/** Links backed by this store's vuln, honeypot and exposure data. */
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
    async inventoryOf(ids) {
      let hits: Awaited<ReturnType<typeof lastCheckFindings>>;
      try {
        hits = await lastCheckFindings(store, ids);
      } catch {
        return [];
      }
      const named = new Map(ids.map((i) => [i.toUpperCase(), i]));
      const out = new Map<string, InventoryHit>();
      for (const h of hits) {
        const id =
          [h.id, ...h.aliases].map((a) => named.get(a.toUpperCase())).find(Boolean) ?? h.id;
        const key = `${id}\n${h.package.ecosystem}\n${h.package.name}\n${h.package.version}`;
        if (!out.has(key))
          out.set(key, {
            id,
            package: h.package.name,
            version: h.package.version,
            ecosystem: h.package.ecosystem,
            fixed: h.fixed,
          });
      }
      return [...out.values()];
    },
    iotContext() {
      iot ??= (async () => {
        const lines = (await Promise.all([honeypotLine(store), exposureLine(store)])).filter(
          (l): l is string => Boolean(l),
        );
        return lines.length ? lines.join('\n') : undefined;
      })();
      return iot;
    },
  };
}
