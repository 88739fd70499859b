/**
 * `audit-credentials`: for services already found by a scan, inside ranges added with
 * --allow-credentials only: (1) is authentication demanded at all — an open camera is the
 * finding that matters most; (2) a deliberately wrong password as a control; (3) only the
 * factory defaults documented for the fingerprinted vendor, stopping at the first success, at
 * most N attempts per host with backoff. HTTP (Basic/Digest) and RTSP DESCRIBE only: never
 * SETUP/PLAY, so no video frame is fetched. Passwords are never stored or logged.
 * Not a brute forcer: no word lists, no guessing beyond the documented default.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createAlertSink } from '../alerts/index.js';
import { MamoriError } from '../shared/errors.js';
import type { Store } from '../storage/index.js';
import { cidrKeyRange, formatCidr } from './core/cidr.js';
import {
  type DefaultCredential,
  defaultsFor,
  HIKVISION_BYPASS,
  type NmapDefaultAccount,
  PROTECTED_PATHS,
  parseNmapDefaultAccounts,
  UNAUTHENTICATED_PATHS,
} from './core/defaults.js';
import { exchange, headComplete, parseHead } from './grab/io.js';
import { gateTargets } from './scope-store.js';
import { type FindingRecord, recordFinding } from './store.js';

export interface AuditOptions {
  /** Attempts (control + defaults) per host; default 4. */
  maxAttemptsPerHost?: number;
  /** First backoff between attempts on one host, doubled each time; default 250 ms. */
  backoffMs?: number;
  timeoutMs?: number;
  now?: () => Date;
  /** Raise alerts for findings into the store's alert table (default true). */
  alerts?: boolean;
  /** nmap's http-default-accounts-fingerprints.lua (default: Debian's path); false: not read. */
  nmapDefaults?: string | false;
}

export interface AuditFinding {
  ip: string;
  port: number;
  protocol: string;
  kind: FindingRecord['kind'];
  detail: string;
}

export interface AuditResult {
  targets: string[];
  services: number;
  attempts: number;
  findings: AuditFinding[];
  skipped: { ip: string; port: number; reason: string }[];
}

interface Credential {
  user: string;
  /** Zeroed after use. */
  password: Uint8Array;
}

type Attempt = 'accepted' | 'rejected' | 'no-auth' | 'unknown';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function digestHeader(
  challenge: string,
  method: string,
  uri: string,
  cred: Credential,
): string | undefined {
  const get = (k: string) => new RegExp(`${k}="?([^",]+)"?`, 'i').exec(challenge)?.[1];
  const realm = get('realm');
  const nonce = get('nonce');
  if (!realm || !nonce) return undefined;
  const qop = get('qop');
  const md5 = (s: string | Uint8Array) => createHash('md5').update(s).digest('hex');
  const ha1 = md5(Buffer.concat([Buffer.from(`${cred.user}:${realm}:`), cred.password]));
  const ha2 = md5(`${method}:${uri}`);
  const nc = '00000001';
  const cnonce = randomBytes(8).toString('hex');
  const response = qop
    ? md5(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`)
    : md5(`${ha1}:${nonce}:${ha2}`);
  return `Digest username="${cred.user}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}"${qop ? `, qop=auth, nc=${nc}, cnonce="${cnonce}"` : ''}`;
}

function basicHeader(cred: Credential): string {
  const raw = Buffer.concat([Buffer.from(`${cred.user}:`), cred.password]);
  const header = `Basic ${raw.toString('base64')}`;
  raw.fill(0);
  return header;
}

/** One HTTP GET on a fresh connection; the answer's head (and a body up to the cap). */
async function httpGet(
  ip: string,
  port: number,
  tls: boolean,
  path: string,
  timeoutMs: number,
  opts: { authorization?: string; headOnly?: boolean } = {},
) {
  const hostHeader = ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
  const r = await exchange({
    host: ip,
    port,
    tls,
    timeoutMs,
    send: `GET ${path} HTTP/1.1\r\nHost: ${hostHeader}\r\nUser-Agent: mamori-exposure-audit\r\nConnection: close\r\n${opts.authorization ? `Authorization: ${opts.authorization}\r\n` : ''}\r\n`,
    // status-only probes stop at the head: the body (a snapshot, a config) is never read
    until: opts.headOnly ? (b) => b.includes('\r\n\r\n') : headComplete,
    maxBytes: 64 * 1024,
  });
  return parseHead(r.data);
}

/** What the unauthenticated front page says about authentication. */
type FrontDoor =
  | { state: 'open' }
  | { state: 'challenge'; challenge: string }
  | { state: 'login'; why: string }
  | { state: 'unknown'; why: string };

const LOGIN_LOCATION = /log-?in|log-?on|sign-?in|auth|session|password/i;
const PASSWORD_INPUT = /<input\b[^>]*\btype\s*=\s*["']?password/i;

/**
 * Classify `/` as real auditors do: only a 200 with content (no password form) is open; a
 * redirect to a login page, a login form, 401 and 403 mean authentication is required.
 * Same-origin redirects elsewhere are followed (at most 3).
 */
async function frontDoor(
  ip: string,
  port: number,
  tls: boolean,
  timeoutMs: number,
): Promise<FrontDoor> {
  let path = '/';
  for (let hop = 0; hop < 4; hop++) {
    const r = await httpGet(ip, port, tls, path, timeoutMs);
    if (!r) return { state: 'unknown', why: 'no HTTP answer' };
    if (r.status === 401) {
      const challenge = r.headers['www-authenticate'] ?? '';
      if (/^(?:Basic|Digest)\b/i.test(challenge)) return { state: 'challenge', challenge };
      return { state: 'login', why: `401 with scheme "${challenge.split(' ')[0] ?? ''}"` };
    }
    if (r.status === 403) return { state: 'login', why: '403 Forbidden' };
    if (r.status >= 300 && r.status < 400) {
      const location = r.headers.location ?? '';
      if (LOGIN_LOCATION.test(location)) return { state: 'login', why: `redirect to ${location}` };
      const next = sameOriginPath(location, ip, port);
      if (next === undefined) return { state: 'unknown', why: `redirect to ${location}` };
      path = next;
      continue;
    }
    if (r.status === 200) {
      return PASSWORD_INPUT.test(r.body.toString('latin1'))
        ? { state: 'login', why: 'a login form' }
        : { state: 'open' };
    }
    return { state: 'unknown', why: `status ${r.status}` };
  }
  return { state: 'unknown', why: 'too many redirects' };
}

function sameOriginPath(location: string, ip: string, port: number): string | undefined {
  if (location.startsWith('/') && !location.startsWith('//')) return location;
  try {
    const u = new URL(location);
    const host = u.hostname.replace(/^\[|\]$/g, '');
    const p = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
    return host === ip && p === port ? `${u.pathname}${u.search}` : undefined;
  } catch {
    return undefined;
  }
}

async function httpAttempt(
  ip: string,
  port: number,
  tls: boolean,
  path: string,
  cred: Credential,
  timeoutMs: number,
): Promise<{ result: Attempt }> {
  const first = await httpGet(ip, port, tls, path, timeoutMs);
  if (!first) return { result: 'unknown' };
  if (first.status !== 401) return { result: 'unknown' };
  const challenge = first.headers['www-authenticate'] ?? '';
  const authz = /^Digest/i.test(challenge)
    ? digestHeader(challenge, 'GET', path, cred)
    : /^Basic/i.test(challenge)
      ? basicHeader(cred)
      : undefined;
  if (!authz) return { result: 'unknown' };
  const second = await httpGet(ip, port, tls, path, timeoutMs, { authorization: authz });
  if (!second) return { result: 'unknown' };
  return { result: verdict(second.status) };
}

/** What the answer to a request that carried credentials (HTTP or RTSP) says of them. */
function verdict(status: number): Attempt {
  if (status === 200) return 'accepted';
  return status === 401 || status === 403 ? 'rejected' : 'unknown';
}

async function rtspAttempt(
  ip: string,
  port: number,
  cred: Credential | undefined,
  timeoutMs: number,
): Promise<{ result: Attempt }> {
  const url = `rtsp://${ip.includes(':') ? `[${ip}]` : ip}:${port}/`;
  // DESCRIBE only: the session description, never SETUP or PLAY (no video frame)
  const describe = async (cseq: number, authorization?: string) => {
    const r = await exchange({
      host: ip,
      port,
      timeoutMs,
      send: `DESCRIBE ${url} RTSP/1.0\r\nCSeq: ${cseq}\r\nAccept: application/sdp\r\nUser-Agent: mamori-exposure-audit\r\n${authorization ? `Authorization: ${authorization}\r\n` : ''}\r\n`,
      until: headComplete,
      maxBytes: 16 * 1024,
    });
    return parseHead(r.data);
  };
  const first = await describe(1);
  if (!first) return { result: 'unknown' };
  if (first.status === 200) return { result: 'no-auth' };
  if (first.status !== 401) return { result: 'unknown' };
  if (!cred) return { result: 'rejected' };
  const challenge = first.headers['www-authenticate'] ?? '';
  const authz = /^Digest/i.test(challenge)
    ? digestHeader(challenge, 'DESCRIBE', url, cred)
    : basicHeader(cred);
  if (!authz) return { result: 'unknown' };
  const second = await describe(2, authz);
  if (!second) return { result: 'unknown' };
  return { result: verdict(second.status) };
}

const DEVICE_TYPES = /camera|dvr|nvr|router|video|webcam|recorder/i;

/** Where Debian's nmap keeps the default-account fingerprints. */
export const NMAP_DEFAULT_ACCOUNTS =
  '/usr/share/nmap/nselib/data/http-default-accounts-fingerprints.lua';

const nmapCache = new Map<string, NmapDefaultAccount[]>();

/** nmap's default-account entries when the file is there; none when nmap is not installed. */
export function nmapDefaultAccounts(path = NMAP_DEFAULT_ACCOUNTS): NmapDefaultAccount[] {
  let cached = nmapCache.get(path);
  if (!cached) {
    try {
      cached = parseNmapDefaultAccounts(readFileSync(path, 'utf8'));
    } catch {
      cached = [];
    }
    nmapCache.set(path, cached);
  }
  return cached;
}

interface ServiceRow {
  ip: string;
  port: number;
  protocol: string;
  vendor: string | null;
  product: string | null;
  title: string | null;
  device_type: string | null;
}

/** Shared per-run state: results, the per-host attempt budget and the finding sink. */
interface AuditRun {
  result: AuditResult;
  timeoutMs: number;
  nmap: NmapDefaultAccount[];
  add(f: AuditFinding): Promise<void>;
  /** Take one credential attempt from the host's budget (with backoff); false when spent. */
  spend(ip: string): Promise<boolean>;
  maxAttempts: number;
}

/**
 * A random wrong password, printable (a device may error on binary bytes, which would tell
 * nothing), and never one of the defaults.
 */
function controlCredential(user: string): Credential {
  return { user, password: new TextEncoder().encode(`mamori-${randomBytes(12).toString('hex')}`) };
}

/**
 * The control, then the defaults in order until the first is accepted. The control must be
 * clearly rejected: accepted is a finding, anything else an unknown verdict (no defaults tried).
 */
async function tryDefaults(
  run: AuditRun,
  s: ServiceRow,
  defaults: readonly DefaultCredential[],
  attempt: (cred: Credential) => Promise<{ result: Attempt }>,
): Promise<void> {
  const { ip, port, protocol } = s;
  const skip = (reason: string) => run.result.skipped.push({ ip, port, reason });
  if (!(await run.spend(ip)))
    return void skip(`attempt cap ${run.maxAttempts} reached for the host`);
  const control = controlCredential(defaults[0]!.user);
  const controlResult = await attempt(control);
  control.password.fill(0);
  if (controlResult.result === 'accepted') {
    await run.add({
      ip,
      port,
      protocol,
      kind: 'weak-auth-control-failed',
      detail: 'a deliberately wrong password was accepted: authentication is not enforced',
    });
    return;
  }
  if (controlResult.result !== 'rejected')
    return void skip('the wrong-password control got no clear answer: verdict unknown');
  let tried = 0;
  for (const d of defaults) {
    if (!(await run.spend(ip)))
      return void skip(`attempt cap ${run.maxAttempts} reached for the host`);
    tried++;
    const cred: Credential = { user: d.user, password: new TextEncoder().encode(d.password) };
    const r = await attempt(cred);
    cred.password.fill(0);
    if (r.result === 'accepted') {
      await run.add({
        ip,
        port,
        protocol,
        kind: 'default-credentials',
        detail: `user "${d.user}" accepts a documented factory default password (${d.source}); ${tried} of ${defaults.length} defaults tried`,
      });
      return;
    }
  }
}

/** Documented unauthenticated paths and the CVE-2017-7921 bypass, judged by status only. */
async function probeFlaws(run: AuditRun, s: ServiceRow, tls: boolean): Promise<void> {
  const { ip, port, protocol } = s;
  const status = async (path: string) =>
    (await httpGet(ip, port, tls, path, run.timeoutMs, { headOnly: true }))?.status;
  // a path that cannot exist: a server that answers 200 to anything proves nothing by status
  const control = await status(`/mamori-audit-${randomBytes(6).toString('hex')}.cgi`);
  if (control === undefined || (control >= 200 && control < 300)) {
    run.result.skipped.push({
      ip,
      port,
      reason: 'unauthenticated paths not judged: a nonexistent path is not refused',
    });
    return;
  }
  const open: string[] = [];
  for (const p of UNAUTHENTICATED_PATHS) if ((await status(p.path)) === 200) open.push(p.path);
  if (open.length)
    await run.add({
      ip,
      port,
      protocol,
      kind: 'unauthenticated-path',
      detail: `answers 200 without a password on ${open.join(', ')} (a nonexistent path gives ${control})`,
    });
  for (const p of HIKVISION_BYPASS.paths) {
    const plain = await status(p);
    if (plain !== 401 && plain !== 403) continue;
    if ((await status(`${p}?${HIKVISION_BYPASS.query}`)) === 200) {
      await run.add({
        ip,
        port,
        protocol,
        kind: 'auth-bypass',
        detail: `Hikvision CVE-2017-7921: ${p} answers ${plain} without credentials and 200 with ?${HIKVISION_BYPASS.query}`,
      });
      return;
    }
  }
}

async function auditHttp(run: AuditRun, s: ServiceRow): Promise<void> {
  const { ip, port, protocol } = s;
  const tls = protocol === 'https';
  const skip = (reason: string) => run.result.skipped.push({ ip, port, reason });
  const door = await frontDoor(ip, port, tls, run.timeoutMs);
  if (door.state === 'open') {
    if (DEVICE_TYPES.test(s.device_type ?? ''))
      await run.add({
        ip,
        port,
        protocol,
        kind: 'no-auth',
        detail: `${s.device_type} web interface answers without a password`,
      });
    else skip('no authentication, but not a camera/DVR/router');
    return;
  }
  await probeFlaws(run, s, tls);
  const { credentials, paths } = defaultsFor(s, run.nmap);
  if (credentials.length === 0)
    return void skip(
      s.vendor || s.product
        ? `no documented default for ${s.vendor ?? s.product}`
        : 'product not fingerprinted: no default tried',
    );
  // where to log in: `/` when it challenges, else the first path that asks for Basic/Digest
  let authPath: string | undefined = door.state === 'challenge' ? '/' : undefined;
  for (const p of authPath ? [] : [...paths, ...PROTECTED_PATHS]) {
    const r = await httpGet(ip, port, tls, p, run.timeoutMs, { headOnly: true });
    if (r?.status === 401 && /^(?:Basic|Digest)\b/i.test(r.headers['www-authenticate'] ?? '')) {
      authPath = p;
      break;
    }
  }
  if (!authPath)
    return void skip(
      `authentication required (${'why' in door ? door.why : 'a challenge'}), but no path asks for HTTP Basic/Digest: defaults not tried`,
    );
  const path = authPath;
  await tryDefaults(run, s, credentials, (cred) =>
    httpAttempt(ip, port, tls, path, cred, run.timeoutMs),
  );
}

async function auditRtsp(run: AuditRun, s: ServiceRow): Promise<void> {
  const { ip, port, protocol } = s;
  const skip = (reason: string) => run.result.skipped.push({ ip, port, reason });
  const open = await rtspAttempt(ip, port, undefined, run.timeoutMs);
  if (open.result === 'no-auth') {
    await run.add({
      ip,
      port,
      protocol,
      kind: 'no-auth',
      detail: 'RTSP DESCRIBE answered without authentication (stream open)',
    });
    return;
  }
  if (open.result !== 'rejected')
    return void skip('could not tell whether authentication is required');
  const { credentials } = defaultsFor(s, run.nmap);
  if (credentials.length === 0)
    return void skip(
      s.vendor
        ? `no documented default for ${s.vendor}`
        : 'product not fingerprinted: no default tried',
    );
  await tryDefaults(run, s, credentials, (cred) => rtspAttempt(ip, port, cred, run.timeoutMs));
}

/**
 * @example await auditCredentials(store, ['192.0.2.0/24'])
 */
export async function auditCredentials(
  store: Store,
  targets: string[],
  options: AuditOptions = {},
): Promise<AuditResult> {
  const now = options.now ?? (() => new Date());
  const maxAttempts = options.maxAttemptsPerHost ?? 4;
  const backoff = options.backoffMs ?? 250;
  // only ranges added with --allow-credentials; the whole credential scope when no targets
  const { listScope } = await import('./scope-store.js');
  const credScope = (await listScope(store)).filter((s) => s.allowCredentials).map((s) => s.cidr);
  const wanted = targets.length ? targets : credScope;
  if (wanted.length === 0) {
    throw new MamoriError('E_SCOPE', 'refused: no range was added with --allow-credentials', {
      hint: 'mamori exposure scope add <cidr> --owner <you> --allow-credentials',
    });
  }
  const gate = await gateTargets(store, wanted, { credentials: true });
  const result: AuditResult = {
    targets: gate.targets.map(formatCidr),
    services: 0,
    attempts: 0,
    findings: [],
    skipped: [],
  };
  const services: ServiceRow[] = [];
  for (const c of gate.targets) {
    const { lo, hi } = cidrKeyRange(c);
    const rows = await store.db
      .selectFrom('exposure_service')
      .select(['ip', 'port', 'protocol', 'vendor', 'product', 'title', 'device_type'])
      .where('ip_key', '>=', lo)
      .where('ip_key', '<=', hi)
      .where('transport', '=', 'tcp')
      .where('protocol', 'in', ['http', 'https', 'rtsp'])
      .orderBy('ip_key')
      .orderBy('port')
      .execute();
    for (const r of rows) services.push({ ...r, port: Number(r.port), protocol: r.protocol ?? '' });
  }
  const attemptsByHost = new Map<string, number>();
  const sink =
    options.alerts === false ? undefined : createAlertSink({ store, now: () => now().getTime() });
  const run: AuditRun = {
    result,
    timeoutMs: options.timeoutMs ?? 3000,
    nmap: options.nmapDefaults === false ? [] : nmapDefaultAccounts(options.nmapDefaults),
    maxAttempts,
    spend: async (ip) => {
      const used = attemptsByHost.get(ip) ?? 0;
      if (used >= maxAttempts) return false;
      if (used > 0) await sleep(backoff * 2 ** (used - 1));
      attemptsByHost.set(ip, used + 1);
      result.attempts++;
      return true;
    },
    add: async (f) => {
      result.findings.push(f);
      await recordFinding(store, {
        ip: f.ip,
        port: f.port,
        kind: f.kind,
        detail: f.detail,
        time: now().toISOString(),
      });
      await sink?.raise({
        area: 'exposure',
        kind: `exposure.${f.kind}`,
        severity: f.kind === 'weak-auth-control-failed' ? 'medium' : 'high',
        message: `${f.ip}:${f.port} (${f.protocol}): ${f.detail}`,
        next:
          f.kind === 'no-auth' || f.kind === 'unauthenticated-path' || f.kind === 'auth-bypass'
            ? 'update the firmware, turn on authentication or take the device off the network'
            : 'set a strong, unique password now',
        details: { ip: f.ip, port: f.port, kind: f.kind },
      });
    },
  };
  for (const s of services) {
    result.services++;
    if (s.protocol === 'rtsp') await auditRtsp(run, s);
    else await auditHttp(run, s);
  }
  return result;
}
