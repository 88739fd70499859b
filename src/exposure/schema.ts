/**
 * Row types of the exposure area's tables (all prefixed `exposure_`), for Kysely. Types only.
 * The tables themselves are created by `src/storage/migrations/exposure.ts`.
 */
import type { Generated } from 'kysely';

/** A declared range: the only addresses scans and audits may touch. */
export interface ExposureScopeTable {
  id: Generated<number>;
  cidr: string;
  owner: string;
  /** 1 when `audit-credentials` may try passwords here. */
  allow_credentials: number;
  created_at: string;
}

export interface ExposureScanTable {
  id: Generated<number>;
  started_at: string;
  finished_at: string | null;
  /** running | done | interrupted */
  status: string;
  /** JSON array of target CIDRs. */
  targets: string;
  /** JSON array of ports. */
  ports: string;
  /** JSON: rate, concurrency, timeout, retries. */
  options: string;
  /** Probes finished in the deterministic (address × port) order: where a resume starts. */
  next_index: number;
  total: number;
  open_count: number;
}

/** One observation: what a grabber saw on one ip:port during one scan. */
export interface ExposureBannerTable {
  id: Generated<number>;
  scan_id: number;
  ip: string;
  ip_key: string;
  port: number;
  transport: string;
  protocol: string | null;
  /** Printable text (invalid UTF-8 replaced, NUL removed, capped); escape before printing. */
  banner: string;
  /** The raw bytes, base64, capped. */
  banner_b64: string;
  /** JSON: headers, cert, favicon hash, rtsp/onvif details. */
  data: string;
  seen: string;
}

/** The current state of each service (the search index). */
export interface ExposureServiceTable {
  id: Generated<number>;
  ip: string;
  ip_key: string;
  port: number;
  transport: string;
  protocol: string | null;
  vendor: string | null;
  product: string | null;
  version: string | null;
  device_type: string | null;
  cpe: string | null;
  title: string | null;
  http_status: number | null;
  cert_cn: string | null;
  /** 1 yes, 0 no, null unknown. */
  auth_required: number | null;
  banner: string;
  data: string;
  first_seen: string;
  last_seen: string;
  scan_id: number;
}

export interface ExposureFindingTable {
  id: Generated<number>;
  ip: string;
  port: number;
  /** no-auth | default-credentials | weak-auth-control-failed */
  kind: string;
  /** Never a password in clear: the user name and where the default is documented. */
  detail: string;
  time: string;
}

export interface ExposureTables {
  exposure_scope: ExposureScopeTable;
  exposure_scan: ExposureScanTable;
  exposure_banner: ExposureBannerTable;
  exposure_service: ExposureServiceTable;
  exposure_finding: ExposureFindingTable;
}
