/**
 * Results in and out: `import` of nmap XML and masscan JSON as a scan of their own, `export` of
 * the current services as JSON, CSV or nmap XML, `diff` of two scans, and the open-camera
 * summary other areas (bulletin) show. Imports send no packets, so they need no scope.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { sql } from 'kysely';
import { MamoriError } from '../shared/errors.js';
import type { Store } from '../storage/index.js';
import { cidrContains, parseAddr, parseCidr } from './core/cidr.js';
import { expandTargets } from './core/scope.js';
import { ipKey } from './search.js';
import {
  createScan,
  getScan,
  listScans,
  recordServices,
  refreshStatistics,
  type ScanRow,
  type ServiceRecord,
} from './store.js';

interface ImportedService {
  ip: string;
  port: number;
  transport: 'tcp' | 'udp';
  protocol: string | null;
  product: string | null;
  version: string | null;
  banner: string;
}

const asArray = <T>(x: T | T[] | undefined): T[] =>
  x === undefined ? [] : Array.isArray(x) ? x : [x];

/** nmap `-oX` output: open ports with service name, product and version. */
export function parseNmapXml(text: string): ImportedService[] {
  // well-formed first (fast-xml-parser's parse alone accepts unclosed tags), with the line
  const valid = XMLValidator.validate(text);
  if (valid !== true)
    throw new MamoriError(
      'E_INPUT',
      `malformed nmap XML at line ${valid.err.line}, column ${valid.err.col}: ${valid.err.msg}`,
      { hint: 'nmap -oX file.xml … (a complete, unedited file)' },
    );
  try {
    return readNmapDoc(text);
  } catch (err) {
    if (err instanceof MamoriError) throw err;
    throw new MamoriError('E_INPUT', `malformed nmap XML: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

function readNmapDoc(text: string): ImportedService[] {
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(text) as {
    nmaprun?: { host?: unknown };
  };
  if (!doc.nmaprun)
    throw new MamoriError('E_INPUT', 'not nmap XML: no <nmaprun> element', {
      hint: 'nmap -oX file.xml …',
    });
  const out: ImportedService[] = [];
  for (const host of asArray(doc.nmaprun.host) as Record<string, unknown>[]) {
    const addrs = asArray(host.address as Record<string, string> | Record<string, string>[]);
    const ip = addrs.find((a) => a.addrtype === 'ipv4' || a.addrtype === 'ipv6')?.addr;
    if (!ip) continue;
    parseAddr(ip);
    const ports = asArray((host.ports as { port?: unknown } | undefined)?.port) as Record<
      string,
      unknown
    >[];
    for (const p of ports) {
      if (typeof p !== 'object' || p === null) continue;
      const state = (p.state as Record<string, string> | undefined)?.state;
      if (state !== 'open') continue;
      const port = Number(p.portid);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new MamoriError('E_INPUT', `malformed nmap XML: port "${String(p.portid)}"`);
      const first = Array.isArray(p.service) ? p.service[0] : p.service;
      const svc = (typeof first === 'object' && first ? first : {}) as Record<string, unknown>;
      const str = (v: unknown) => (typeof v === 'string' && v ? v : null);
      out.push({
        ip,
        port,
        transport: p.protocol === 'udp' ? 'udp' : 'tcp',
        protocol: str(svc.name),
        product: str(svc.product),
        version: str(svc.version),
        banner: [str(svc.product), str(svc.version), str(svc.extrainfo)].filter(Boolean).join(' '),
      });
    }
  }
  return out;
}

/** masscan `-oJ` output (a JSON array, tolerating masscan's trailing comma). */
export function parseMasscanJson(text: string): ImportedService[] {
  let records: unknown;
  try {
    records = JSON.parse(text.replace(/,\s*\]\s*$/, ']'));
  } catch (err) {
    throw new MamoriError('E_INPUT', `not masscan JSON: ${(err as Error).message}`, {
      hint: 'masscan -oJ file.json …',
    });
  }
  if (!Array.isArray(records))
    throw new MamoriError('E_INPUT', 'not masscan JSON: expected an array');
  const out: ImportedService[] = [];
  for (const r of records as {
    ip?: string;
    ports?: {
      port: number;
      proto?: string;
      status?: string;
      service?: { name?: string; banner?: string };
    }[];
  }[]) {
    if (!r.ip) continue;
    parseAddr(r.ip);
    for (const p of r.ports ?? []) {
      if (p.status && p.status !== 'open') continue;
      out.push({
        ip: r.ip,
        port: Number(p.port),
        transport: p.proto === 'udp' ? 'udp' : 'tcp',
        protocol: p.service?.name ?? null,
        product: null,
        version: null,
        banner: p.service?.banner ?? '',
      });
    }
  }
  return out;
}

/** Import a file as a new scan; returns the scan id and the count. */
export async function importResults(
  store: Store,
  text: string,
  name: string,
  now = () => new Date(),
) {
  const trimmed = text.trimStart();
  const services = trimmed.startsWith('<') ? parseNmapXml(text) : parseMasscanJson(text);
  const ips = [...new Set(services.map((s) => s.ip))];
  const seen = now().toISOString();
  const scanId = await createScan(store, {
    targets: ips.map((ip) => (ip.includes(':') ? `${ip}/128` : `${ip}/32`)),
    ports: [...new Set(services.map((s) => s.port))].sort((a, b) => a - b),
    options: {
      rate: 0,
      concurrency: 0,
      perHost: 0,
      timeoutMs: 0,
      retries: 0,
      udp: false,
      fingerprints: `import:${name}`,
    },
    total: services.length,
    now: seen,
  });
  const recs: ServiceRecord[] = services.map((s) => ({
    scanId,
    ip: s.ip,
    port: s.port,
    transport: s.transport,
    seen,
    grab: {
      protocol: s.protocol ?? 'unknown',
      raw: Buffer.from(s.banner),
      data: {},
      authRequired: null,
      fingerprintInputs: [],
    },
    identity: {
      vendor: null,
      product: s.product,
      version: s.version,
      deviceType: null,
      cpe: null,
      params: {},
      matched: [],
    },
  }));
  await recordServices(store, recs);
  await store.db
    .updateTable('exposure_scan')
    .set({
      status: 'done',
      finished_at: seen,
      next_index: services.length,
      open_count: services.length,
    })
    .where('id', '=', scanId)
    .execute();
  await refreshStatistics(store);
  return { scan: scanId, services: services.length, hosts: ips.length };
}

export interface ExportRow {
  ip: string;
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
  auth_required: boolean | null;
  first_seen: string;
  last_seen: string;
}

export async function exportRows(store: Store): Promise<ExportRow[]> {
  const rows = await store.db
    .selectFrom('exposure_service')
    .selectAll()
    .orderBy('ip_key')
    .orderBy('port')
    .orderBy('transport')
    .execute();
  return rows.map((r) => ({
    ip: r.ip,
    port: Number(r.port),
    transport: r.transport,
    protocol: r.protocol,
    vendor: r.vendor,
    product: r.product,
    version: r.version,
    device_type: r.device_type,
    cpe: r.cpe,
    title: r.title,
    http_status: r.http_status === null ? null : Number(r.http_status),
    auth_required: r.auth_required === null ? null : Number(r.auth_required) === 1,
    first_seen: r.first_seen,
    last_seen: r.last_seen,
  }));
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  let s = String(v);
  // a cell a spreadsheet would run as a formula is quoted as text
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const xmlEsc = (s: string) =>
  s
    .replace(
      /[<>&"']/g,
      (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!,
    )
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

/** Render services as json, csv or nmap-xml. */
export function formatExport(rows: ExportRow[], format: string): string {
  if (format === 'json') return `${JSON.stringify(rows, null, 2)}\n`;
  if (format === 'csv') {
    const cols = Object.keys(
      rows[0] ?? {
        ip: 0,
        port: 0,
        transport: 0,
        protocol: 0,
        vendor: 0,
        product: 0,
        version: 0,
        device_type: 0,
        cpe: 0,
        title: 0,
        http_status: 0,
        auth_required: 0,
        first_seen: 0,
        last_seen: 0,
      },
    );
    return `${[cols.join(','), ...rows.map((r) => cols.map((c) => csvCell(r[c as keyof ExportRow])).join(','))].join('\r\n')}\r\n`;
  }
  if (format === 'nmap-xml') {
    const byHost = new Map<string, ExportRow[]>();
    for (const r of rows) byHost.set(r.ip, [...(byHost.get(r.ip) ?? []), r]);
    const hosts = [...byHost.entries()].map(
      ([ip, ports]) =>
        `<host><status state="up" reason="mamori"/><address addr="${xmlEsc(ip)}" addrtype="${ip.includes(':') ? 'ipv6' : 'ipv4'}"/><ports>${ports
          .map(
            (p) =>
              `<port protocol="${p.transport}" portid="${p.port}"><state state="open" reason="mamori"/><service name="${xmlEsc(p.protocol ?? 'unknown')}"${p.product ? ` product="${xmlEsc(p.product)}"` : ''}${p.version ? ` version="${xmlEsc(p.version)}"` : ''}${p.cpe ? ` method="probed"><cpe>${xmlEsc(p.cpe)}</cpe></service>` : ' method="probed"/>'}</port>`,
          )
          .join('')}</ports></host>`,
    );
    return `<?xml version="1.0" encoding="UTF-8"?>\n<nmaprun scanner="mamori" args="mamori exposure export --format nmap-xml" xmloutputversion="1.05">\n${hosts.join('\n')}\n<runstats><hosts up="${byHost.size}" down="0" total="${byHost.size}"/></runstats>\n</nmaprun>\n`;
  }
  throw new MamoriError('E_USAGE', `unknown export format "${format}"`, {
    hint: 'use --format json, csv or nmap-xml',
  });
}

export interface DiffResult {
  from: number;
  to: number;
  appeared: { ip: string; port: number; transport: string; protocol: string | null }[];
  disappeared: { ip: string; port: number; transport: string; protocol: string | null }[];
}

/**
 * Services that appeared or disappeared between two scans (default: the latest finished scan
 * against the one before it), compared only inside the later scan's targets.
 */
export async function diffScans(store: Store, since?: number, until?: number): Promise<DiffResult> {
  const scans = (await listScans(store)).filter((s) => s.status === 'done');
  const to = until !== undefined ? await getScan(store, until) : scans[scans.length - 1];
  if (!to)
    throw new MamoriError('E_NOT_FOUND', 'no finished scan to compare', {
      hint: 'run mamori exposure scan first',
    });
  const from =
    since !== undefined ? await getScan(store, since) : scans.filter((s) => s.id < to.id).pop();
  if (!from)
    throw new MamoriError('E_NOT_FOUND', `no scan before scan ${to.id} to compare with`, {
      hint: 'use --since <scan>',
    });
  const within = to.targets.map((t) => parseCidr(t));
  const inTargets = (ip: string) => within.some((c) => cidrContains(c, parseAddr(ip)));
  const load = async (id: number) =>
    (
      await sql<{
        ip: string;
        port: number;
        transport: string;
        protocol: string | null;
      }>`select distinct ip, port, transport, protocol from exposure_banner where scan_id = ${id}`.execute(
        store.db,
      )
    ).rows.map((r) => ({ ...r, port: Number(r.port) }));
  const key = (r: { ip: string; port: number; transport: string }) =>
    `${r.ip}|${r.port}|${r.transport}`;
  // only what the second scan probed can have gone: its addresses, its ports, UDP only when
  // it sent UDP probes, and (when it was interrupted) only the finished prefix of its order
  const toPorts = new Set(to.ports);
  const probed = (r: { ip: string; port: number; transport: string }) =>
    inTargets(r.ip) &&
    (r.transport === 'udp' ? to.options.udp === true : toPorts.has(r.port)) &&
    (to.status === 'done' || reached(to, r.ip, r.port));
  const a = (await load(from.id)).filter(probed);
  const b = await load(to.id);
  const aKeys = new Set(a.map(key));
  const bKeys = new Set(b.map(key));
  const order = (x: { ip: string; port: number }, y: { ip: string; port: number }) =>
    x.ip < y.ip ? -1 : x.ip > y.ip ? 1 : x.port - y.port;
  return {
    from: from.id,
    to: to.id,
    appeared: b.filter((r) => !aKeys.has(key(r))).sort(order),
    disappeared: a.filter((r) => !bKeys.has(key(r))).sort(order),
  };
}

/** Whether an unfinished scan's checkpoint passed (port × address) — its fixed probe order. */
function reached(scan: ScanRow, ip: string, port: number): boolean {
  const addrs = [...expandTargets(scan.targets.map((t) => parseCidr(t)))];
  if (addrs.length > 1 << 20) return false;
  const a = parseAddr(ip);
  const addrIdx = addrs.findIndex((x) => x.family === a.family && x.value === a.value);
  const portIdx = scan.ports.indexOf(port);
  if (addrIdx < 0 || portIdx < 0) return false;
  return portIdx * addrs.length + addrIdx < scan.nextIndex;
}

/** Cameras, DVRs and NVRs reachable without a password or with a factory default (for bulletin). */
export async function openCameras(store: Store) {
  // The findings first (few, through exposure_finding_kind_time), then their services through
  // the (ip_key, port, transport) key: joining on the service's ip text has no index and made
  // the planner walk every service.
  const found = await store.db
    .selectFrom('exposure_finding')
    .select(['ip', 'port', 'kind', 'time'])
    .where('kind', 'in', [
      'no-auth',
      'default-credentials',
      'weak-auth-control-failed',
      'unauthenticated-path',
      'auth-bypass',
    ])
    .orderBy('time', 'desc')
    .orderBy('id', 'desc')
    .execute();
  const services = new Map<
    string,
    {
      vendor: string | null;
      product: string | null;
      protocol: string | null;
      device_type: string | null;
    }[]
  >();
  const keys = [...new Set(found.map((f) => keyOf(f.ip)).filter((k) => k !== null))];
  for (let i = 0; i < keys.length; i += 500) {
    const rows = await store.db
      .selectFrom('exposure_service')
      .select(['ip', 'port', 'vendor', 'product', 'protocol', 'device_type'])
      .where('ip_key', 'in', keys.slice(i, i + 500))
      .orderBy('id')
      .execute();
    for (const { ip, port, ...r } of rows) {
      const k = `${ip}|${Number(port)}`;
      services.set(k, [...(services.get(k) ?? []), r]);
    }
  }
  return found.flatMap((f) =>
    (services.get(`${f.ip}|${Number(f.port)}`) ?? []).map((s) => ({
      ip: f.ip,
      port: Number(f.port),
      kind: f.kind,
      time: f.time,
      ...s,
    })),
  );
}

/** A finding's address as the service key's ip_key; null for text that is not an address. */
function keyOf(ip: string): string | null {
  try {
    return ipKey(ip);
  } catch {
    return null;
  }
}
