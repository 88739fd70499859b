/**
 * One host as the console's host page shows it: each service's current state (banner,
 * certificate name, CPE, first and last seen), the banner history across scans, and the
 * findings. Read-only; banners are stored printable text, to be escaped by whoever prints them.
 */
import type { Store } from '../storage/index.js';
import { ipKey } from './search.js';

export interface HostDetail {
  ip: string;
  services: {
    port: number;
    transport: string;
    protocol: string | null;
    product: string | null;
    version: string | null;
    cpe: string | null;
    certCn: string | null;
    banner: string;
    firstSeen: string;
    lastSeen: string;
  }[];
  history: {
    scanId: number;
    port: number;
    transport: string;
    protocol: string | null;
    seen: string;
    banner: string;
  }[];
  findings: { port: number; kind: string; detail: string; time: string }[];
}

const BANNER_SHOWN = 2000;

/** @example const h = await hostDetail(store, '192.0.2.1'); h.history.length */
export async function hostDetail(
  store: Store,
  ip: string,
  historyLimit = 200,
): Promise<HostDetail> {
  let key: string;
  try {
    key = ipKey(ip);
  } catch {
    return { ip, services: [], history: [], findings: [] };
  }
  // Services and banners by their indexed address key; the text column has no index.
  const [services, history, findings] = await Promise.all([
    store.db
      .selectFrom('exposure_service')
      .select([
        'port',
        'transport',
        'protocol',
        'product',
        'version',
        'cpe',
        'cert_cn',
        'banner',
        'first_seen',
        'last_seen',
      ])
      .where('ip_key', '=', key)
      .orderBy('port')
      .execute(),
    store.db
      .selectFrom('exposure_banner')
      .select(['scan_id', 'port', 'transport', 'protocol', 'seen', 'banner'])
      .where('ip_key', '=', key)
      .orderBy('seen', 'desc')
      .orderBy('port')
      .limit(historyLimit)
      .execute(),
    store.db
      .selectFrom('exposure_finding')
      .select(['port', 'kind', 'detail', 'time'])
      .where('ip', '=', ip)
      .orderBy('time', 'desc')
      .execute(),
  ]);
  return {
    ip,
    services: services.map((s) => ({
      port: Number(s.port),
      transport: s.transport,
      protocol: s.protocol,
      product: s.product,
      version: s.version,
      cpe: s.cpe,
      certCn: s.cert_cn,
      banner: s.banner.slice(0, BANNER_SHOWN),
      firstSeen: s.first_seen,
      lastSeen: s.last_seen,
    })),
    history: history.map((h) => ({
      scanId: Number(h.scan_id),
      port: Number(h.port),
      transport: h.transport,
      protocol: h.protocol,
      seen: h.seen,
      banner: h.banner.slice(0, BANNER_SHOWN),
    })),
    findings: findings.map((f) => ({
      port: Number(f.port),
      kind: f.kind,
      detail: f.detail,
      time: f.time,
    })),
  };
}
