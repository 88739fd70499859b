/**
 * The exposure area's writes and reads of scans, banners, services and findings. Each banner is
 * stored with the scan it came from (exposure_banner) and folds into the current state of its
 * service (exposure_service, the search index) in one transaction.
 * Not the query language: see search.ts.
 */
import { type Insertable, sql } from 'kysely';
import { MamoriError } from '../shared/errors.js';
import type { Store } from '../storage/index.js';
import { BANNER_CAP, bannerText } from './core/banner.js';
import { addrKey, parseAddr } from './core/cidr.js';
import type { Identity } from './core/identify.js';
import type { GrabResult } from './grab/grabbers.js';
import type { ExposureBannerTable, ExposureServiceTable } from './schema.js';

export interface ScanOptionsRecord {
  rate: number;
  concurrency: number;
  perHost: number;
  timeoutMs: number;
  retries: number;
  udp: boolean;
  /** A raw-socket SYN scan (a resume keeps the mode). */
  syn?: boolean;
  fingerprints?: string;
}

export interface ScanRow {
  id: number;
  startedAt: string;
  finishedAt: string | null;
  status: string;
  targets: string[];
  ports: number[];
  options: ScanOptionsRecord;
  nextIndex: number;
  total: number;
  openCount: number;
}

/**
 * Refresh the query planner's statistics after a bulk write (a scan or an import), so search
 * picks the narrowest index; PostgreSQL's autovacuum does this on its own.
 */
export async function refreshStatistics(store: Store): Promise<void> {
  if (store.backend === 'sqlite') await sql`analyze`.execute(store.db);
}

export async function createScan(
  store: Store,
  s: { targets: string[]; ports: number[]; options: ScanOptionsRecord; total: number; now: string },
): Promise<number> {
  const row = await store.db
    .insertInto('exposure_scan')
    .values({
      started_at: s.now,
      finished_at: null,
      status: 'running',
      targets: JSON.stringify(s.targets),
      ports: JSON.stringify(s.ports),
      options: JSON.stringify(s.options),
      next_index: 0,
      total: s.total,
      open_count: 0,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

export async function getScan(store: Store, id: number): Promise<ScanRow> {
  const r = await store.db
    .selectFrom('exposure_scan')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  if (!r)
    throw new MamoriError('E_NOT_FOUND', `no scan ${id}`, {
      hint: 'mamori exposure diff --json lists scans',
    });
  return {
    id: Number(r.id),
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    status: r.status,
    targets: JSON.parse(r.targets) as string[],
    ports: JSON.parse(r.ports) as number[],
    options: JSON.parse(r.options) as ScanOptionsRecord,
    nextIndex: Number(r.next_index),
    total: Number(r.total),
    openCount: Number(r.open_count),
  };
}

export async function listScans(store: Store): Promise<ScanRow[]> {
  const ids = await store.db.selectFrom('exposure_scan').select('id').orderBy('id').execute();
  return Promise.all(ids.map((r) => getScan(store, Number(r.id))));
}

export async function checkpointScan(
  store: Store,
  id: number,
  nextIndex: number,
  status?: string,
  finishedAt?: string,
): Promise<void> {
  const openCount = await store.db
    .selectFrom('exposure_banner')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('scan_id', '=', id)
    .executeTakeFirst();
  await store.db
    .updateTable('exposure_scan')
    .set({
      next_index: nextIndex,
      open_count: Number(openCount?.n ?? 0),
      ...(status ? { status } : {}),
      ...(finishedAt ? { finished_at: finishedAt } : {}),
    })
    .where('id', '=', id)
    .execute();
}

export interface ServiceRecord {
  scanId: number;
  ip: string;
  port: number;
  transport: 'tcp' | 'udp';
  grab: GrabResult;
  identity: Identity;
  seen: string;
}

const keepIdentity = (column: 'vendor' | 'product' | 'version' | 'device_type' | 'cpe') =>
  sql<
    string | null
  >`case when excluded.protocol = exposure_service.protocol then coalesce(excluded.${sql.ref(column)}, exposure_service.${sql.ref(column)}) else excluded.${sql.ref(column)} end`;

/** Store one observation and fold it into the service's current state, atomically. */
export async function recordService(store: Store, rec: ServiceRecord): Promise<void> {
  await recordServices(store, [rec]);
}

/** Rows per multi-row statement: under SQLite's 32,766 bound parameters, and PostgreSQL's. */
const ROWS_PER_STATEMENT = 500;

/**
 * Store many observations in one transaction (the scanner batches its writes): one multi-row
 * insert of the observations and one multi-row upsert of the services per 500 rows, instead of
 * two statements per row (the per-statement cost, compile and round trip, was most of a
 * discovery scan's time). Within one call the last observation of a service wins, as it would
 * with one statement per row.
 */
export async function recordServices(store: Store, recs: readonly ServiceRecord[]): Promise<void> {
  if (recs.length === 0) return;
  const banners: Insertable<ExposureBannerTable>[] = [];
  const services = new Map<string, Insertable<ExposureServiceTable>>();
  for (const rec of recs) {
    const raw =
      rec.grab.raw.length > BANNER_CAP ? rec.grab.raw.subarray(0, BANNER_CAP) : rec.grab.raw;
    const banner = bannerText(raw);
    const ipKey = addrKey(parseAddr(rec.ip));
    const http = rec.grab.data.http;
    const data = JSON.stringify({
      ...rec.grab.data,
      fingerprint: rec.identity.params,
      matched: rec.identity.matched,
    });
    const id = rec.identity;
    banners.push({
      scan_id: rec.scanId,
      ip: rec.ip,
      ip_key: ipKey,
      port: rec.port,
      transport: rec.transport,
      protocol: rec.grab.protocol,
      banner,
      banner_b64: Buffer.from(raw).toString('base64'),
      data,
      seen: rec.seen,
    });
    const key = `${ipKey}|${rec.port}|${rec.transport}`;
    services.set(key, {
      ip: rec.ip,
      ip_key: ipKey,
      port: rec.port,
      transport: rec.transport,
      first_seen: services.get(key)?.first_seen ?? rec.seen,
      protocol: rec.grab.protocol,
      vendor: id.vendor,
      product: id.product,
      version: id.version,
      device_type: id.deviceType,
      cpe: id.cpe,
      title: http?.title ?? null,
      http_status: http?.status ?? null,
      cert_cn: rec.grab.data.tls?.subject_cn ?? null,
      auth_required: rec.grab.authRequired === null ? null : rec.grab.authRequired ? 1 : 0,
      banner,
      data,
      last_seen: rec.seen,
      scan_id: rec.scanId,
    });
  }
  const serviceRows = [...services.values()];
  const excluded = (column: keyof ExposureServiceTable & string) =>
    sql<never>`excluded.${sql.ref(column)}`;
  await store.db.transaction().execute(async (trx) => {
    for (let i = 0; i < banners.length; i += ROWS_PER_STATEMENT)
      await trx
        .insertInto('exposure_banner')
        .values(banners.slice(i, i + ROWS_PER_STATEMENT))
        .execute();
    for (let i = 0; i < serviceRows.length; i += ROWS_PER_STATEMENT)
      await trx
        .insertInto('exposure_service')
        .values(serviceRows.slice(i, i + ROWS_PER_STATEMENT))
        .onConflict((oc) =>
          oc.columns(['ip_key', 'port', 'transport']).doUpdateSet({
            protocol: excluded('protocol'),
            title: excluded('title'),
            http_status: excluded('http_status'),
            cert_cn: excluded('cert_cn'),
            auth_required: excluded('auth_required'),
            banner: excluded('banner'),
            data: excluded('data'),
            last_seen: excluded('last_seen'),
            scan_id: excluded('scan_id'),
            // a scan that identifies less (no --fingerprints) keeps what an earlier one found,
            // as long as the port still speaks the same protocol
            vendor: keepIdentity('vendor'),
            product: keepIdentity('product'),
            version: keepIdentity('version'),
            device_type: keepIdentity('device_type'),
            cpe: keepIdentity('cpe'),
          }),
        )
        .execute();
  });
}

/** Store an open port seen by an import (nmap/masscan) without a grab. */
export async function recordImported(
  store: Store,
  scanId: number,
  s: {
    ip: string;
    port: number;
    transport: 'tcp' | 'udp';
    protocol: string | null;
    product: string | null;
    version: string | null;
    banner: string;
    seen: string;
  },
): Promise<void> {
  const grab: GrabResult = {
    protocol: s.protocol ?? 'unknown',
    raw: Buffer.from(s.banner, 'utf8'),
    data: {},
    authRequired: null,
    fingerprintInputs: [],
  };
  await recordService(store, {
    scanId,
    ip: s.ip,
    port: s.port,
    transport: s.transport,
    grab,
    identity: {
      vendor: null,
      product: s.product,
      version: s.version,
      deviceType: null,
      cpe: null,
      params: {},
      matched: [],
    },
    seen: s.seen,
  });
}

export interface FindingRecord {
  ip: string;
  port: number;
  kind:
    | 'no-auth'
    | 'default-credentials'
    | 'weak-auth-control-failed'
    | 'unauthenticated-path'
    | 'auth-bypass';
  detail: string;
  time: string;
}

export async function recordFinding(store: Store, f: FindingRecord): Promise<void> {
  await store.db
    .insertInto('exposure_finding')
    .values(f)
    .onConflict((oc) =>
      oc.columns(['ip', 'port', 'kind']).doUpdateSet({ detail: f.detail, time: f.time }),
    )
    .execute();
}

/** Services whose observation in a scan exists: the set diff compares. */
export async function scanServices(store: Store, scanId: number) {
  return store.db
    .selectFrom('exposure_banner')
    .select(['ip', 'port', 'transport', 'protocol'])
    .where('scan_id', '=', scanId)
    .orderBy('ip_key')
    .orderBy('port')
    .execute();
}
