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
import { createAlertSink } from '../alerts/index.js';
import { MamoriError } from '../shared/errors.js';
import type { Store } from '../storage/index.js';
import { cidrKeyRange, formatCidr } from './core/cidr.js';
import { FACTORY_DEFAULTS } from './core/mamori-fingerprints.js';
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

async function httpAttempt(
  ip: string,
  port: number,
  tls: boolean,
  cred: Credential | undefined,
  timeoutMs: number,
): Promise<{ result: Attempt; challenge?: string }> {
  const hostHeader = ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
  const ask = async (authorization?: string) => {
    const r = await exchange({
      host: ip,
      port,
      tls,
      timeoutMs,
      send: `GET / HTTP/1.1\r\nHost: ${hostHeader}\r\nUser-Agent: mamori-exposure-audit\r\nConnection: close\r\n${authorization ? `Authorization: ${authorization}\r\n` : ''}\r\n`,
      until: headComplete,
      maxBytes: 64 * 1024,
    });
    return parseHead(r.data);
  };
  const first = await ask();
  if (!first) return { result: 'unknown' };
  if (first.status !== 401) return { result: first.status < 400 ? 'no-auth' : 'unknown' };
  const challenge = first.headers['www-authenticate'] ?? '';
  if (!cred) return { result: 'rejected', challenge };
  const authz = /^Digest/i.test(challenge)
    ? digestHeader(challenge, 'GET', '/', cred)
    : /^Basic/i.test(challenge)
      ? basicHeader(cred)
      : undefined;
  if (!authz) return { result: 'unknown', challenge };
  const second = await ask(authz);
  if (!second) return { result: 'unknown' };
  return { result: verdict(second.status), challenge };
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
  const timeoutMs = options.timeoutMs ?? 3000;
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
  const services = [];
  for (const c of gate.targets) {
    const { lo, hi } = cidrKeyRange(c);
    services.push(
      ...(await store.db
        .selectFrom('exposure_service')
        .select(['ip', 'port', 'protocol', 'vendor', 'device_type', 'transport'])
        .where('ip_key', '>=', lo)
        .where('ip_key', '<=', hi)
        .where('transport', '=', 'tcp')
        .where('protocol', 'in', ['http', 'https', 'rtsp'])
        .orderBy('ip_key')
        .orderBy('port')
        .execute()),
    );
  }
  const attemptsByHost = new Map<string, number>();
  const sink =
    options.alerts === false ? undefined : createAlertSink({ store, now: () => now().getTime() });
  const add = async (f: AuditFinding) => {
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
      severity: f.kind === 'no-auth' || f.kind === 'default-credentials' ? 'high' : 'medium',
      message: `${f.ip}:${f.port} (${f.protocol}): ${f.detail}`,
      next:
        f.kind === 'no-auth'
          ? 'turn on authentication or take the device off the network'
          : 'set a strong, unique password now',
      details: { ip: f.ip, port: f.port, kind: f.kind },
    });
  };
  for (const s of services) {
    result.services++;
    const ip = s.ip;
    const port = Number(s.port);
    const protocol = s.protocol ?? 'unknown';
    const attempt = (cred: Credential | undefined) =>
      protocol === 'rtsp'
        ? rtspAttempt(ip, port, cred, timeoutMs)
        : httpAttempt(ip, port, protocol === 'https', cred, timeoutMs);
    const spend = async () => {
      const used = attemptsByHost.get(ip) ?? 0;
      if (used >= maxAttempts) return false;
      if (used > 0) await sleep(backoff * 2 ** (used - 1));
      attemptsByHost.set(ip, used + 1);
      result.attempts++;
      return true;
    };
    // (1) is authentication demanded at all?
    const open = await attempt(undefined);
    if (open.result === 'no-auth') {
      const isDevice = protocol === 'rtsp' || DEVICE_TYPES.test(s.device_type ?? '');
      if (isDevice)
        await add({
          ip,
          port,
          protocol,
          kind: 'no-auth',
          detail:
            protocol === 'rtsp'
              ? 'RTSP DESCRIBE answered without authentication (stream open)'
              : `${s.device_type} web interface answers without a password`,
        });
      else
        result.skipped.push({ ip, port, reason: 'no authentication, but not a camera/DVR/router' });
      continue;
    }
    if (open.result !== 'rejected') {
      result.skipped.push({
        ip,
        port,
        reason: 'could not tell whether authentication is required',
      });
      continue;
    }
    const defaults = s.vendor ? FACTORY_DEFAULTS[s.vendor] : undefined;
    if (!defaults || defaults.length === 0) {
      result.skipped.push({
        ip,
        port,
        reason: s.vendor
          ? `no documented default for ${s.vendor}`
          : 'product not fingerprinted: no default tried',
      });
      continue;
    }
    // (2) control: a random wrong password must be rejected
    if (!(await spend())) {
      result.skipped.push({ ip, port, reason: `attempt cap ${maxAttempts} reached for the host` });
      continue;
    }
    const control: Credential = {
      user: defaults[0]!.user,
      password: new Uint8Array(randomBytes(18)),
    };
    const controlResult = await attempt(control);
    control.password.fill(0);
    if (controlResult.result === 'accepted') {
      await add({
        ip,
        port,
        protocol,
        kind: 'weak-auth-control-failed',
        detail: 'a deliberately wrong password was accepted: authentication is not enforced',
      });
      continue;
    }
    // (3) the vendor's documented factory defaults, stopping at the first success
    for (const d of defaults) {
      if (!(await spend())) {
        result.skipped.push({
          ip,
          port,
          reason: `attempt cap ${maxAttempts} reached for the host`,
        });
        break;
      }
      const cred: Credential = { user: d.user, password: new TextEncoder().encode(d.password) };
      const r = await attempt(cred);
      cred.password.fill(0);
      if (r.result === 'accepted') {
        await add({
          ip,
          port,
          protocol,
          kind: 'default-credentials',
          detail: `user "${d.user}" accepts the documented factory default password (${d.source})`,
        });
        break;
      }
    }
  }
  return result;
}
