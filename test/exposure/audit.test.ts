/**
 * The credential audit against the honeypot (weak: admin/admin; flawed: unauthenticated vendor
 * paths and the Hikvision CVE-2017-7921 bypass), against a camera whose front page redirects to
 * a login page, against a device that errors on the wrong-password control, and with the
 * default-account fingerprints Debian's nmap ships. Real sockets on loopback only.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NMAP_DEFAULT_ACCOUNTS } from '../../src/exposure/audit.js';
import { defaultsFor, parseNmapDefaultAccounts } from '../../src/exposure/core/defaults.js';
import { addScope, auditCredentials, loadEngine, runScan } from '../../src/exposure/index.js';
import {
  type HoneypotEvent,
  type RunningHoneypot,
  startHoneypot,
} from '../../src/honeypot/index.js';
import { freshStore, type TestStore } from '../helpers/db.js';
import { vector } from '../helpers/vectors.js';

const engine = loadEngine(vector('recog/xml'));

async function listen(server: Server, host: string): Promise<number> {
  await new Promise<void>((r) => server.listen(0, host, () => r()));
  return (server.address() as { port: number }).port;
}
const close = (server: Server) =>
  new Promise<void>((r) => {
    server.closeAllConnections();
    server.close(() => r());
  });

describe('credential audit against the honeypot and look-alike devices', () => {
  let t: TestStore;
  const events: HoneypotEvent[] = [];
  const pots: RunningHoneypot[] = [];
  const servers: Server[] = [];
  beforeAll(async () => {
    t = await freshStore('sqlite');
    await addScope(t.store, { cidr: '127.0.30.0/28', owner: 'test', allowCredentials: true });
  });
  afterAll(async () => {
    await Promise.all(pots.map((p) => p.stop()));
    await Promise.all(servers.map(close));
    await t.cleanup();
  });
  const honeypot = async (auth: 'weak' | 'flawed', bind: string) => {
    const hp = await startHoneypot({
      store: t.store,
      bind,
      ports: { http: 0, rtsp: 0, telnet: 0, onvif: 0 },
      auth,
      sink: { record: async (e) => void events.push(e) },
    });
    pots.push(hp);
    await runScan(
      { targets: [bind], ports: Object.values(hp.ports), timeoutMs: 1000, retries: 0 },
      { store: t.store, engine },
    );
    return hp;
  };

  it('weak honeypot: admin/admin is found on the web and RTSP ports, stopping at the first success', async () => {
    const hp = await honeypot('weak', '127.0.30.1');
    const audit = await auditCredentials(t.store, ['127.0.30.1'], {
      backoffMs: 1,
      maxAttemptsPerHost: 12,
      alerts: false,
    });
    const got = audit.findings.map((f) => `${f.port}:${f.kind}`).sort();
    expect(got).toEqual(
      [
        `${hp.ports.http}:default-credentials`,
        `${hp.ports.onvif}:default-credentials`,
        `${hp.ports.rtsp}:default-credentials`,
      ].sort(),
    );
    // the login page on / is not "no-auth"
    expect(audit.findings.some((f) => f.kind === 'no-auth')).toBe(false);
    // GoAhead/IPCAM list: admin/"" fails, admin/admin succeeds, admin/123456 is never tried
    const web = audit.findings.find((f) => f.port === hp.ports.http)!;
    expect(web.detail).toMatch(/2 of \d+ defaults tried/);
    const logins = events.filter(
      (e) =>
        e.srcIp === '127.0.0.1' &&
        e.dstPort === hp.ports.http &&
        (e.eventid === 'login.success' || e.eventid === 'login.failed'),
    );
    expect(logins.map((e) => `${e.eventid}:${e.username}`)).toEqual([
      'login.failed:admin', // the control
      'login.failed:admin', // admin / ""
      'login.success:admin', // admin / admin: stop here
    ]);
    expect(logins.some((e) => e.password === '123456')).toBe(false);
    // the control is printable and no default
    expect(logins[0]!.password).toMatch(/^[\x21-\x7e]{16,}$/);
    expect(audit.attempts).toBe(3 + 3 + 2);
  });

  it('flawed honeypot: unauthenticated snapshot/config paths and the CVE-2017-7921 bypass, no default', async () => {
    const hp = await honeypot('flawed', '127.0.30.2');
    const audit = await auditCredentials(t.store, ['127.0.30.2'], {
      backoffMs: 0,
      maxAttemptsPerHost: 20,
      alerts: false,
    });
    const got = audit.findings.map((f) => `${f.port}:${f.kind}`).sort();
    expect(got).toEqual(
      [
        `${hp.ports.http}:unauthenticated-path`,
        `${hp.ports.http}:auth-bypass`,
        `${hp.ports.onvif}:unauthenticated-path`,
        `${hp.ports.onvif}:auth-bypass`,
      ].sort(),
    );
    const paths = audit.findings.find((f) => f.kind === 'unauthenticated-path')!.detail;
    for (const p of ['/snapshot.cgi', '/system.ini']) expect(paths).toContain(p);
    // status only: the protected paths that need the password are not listed
    expect(paths).not.toContain('/snapshot.jpg');
  });

  it('a redirect to a login page, a login form or 403 is not "no-auth"; real content is', async () => {
    let mode: 'redirect' | 'form' | 'forbidden' | 'open' = 'redirect';
    const cam = createServer((req, res) => {
      res.setHeader('Server', 'DNVRS-Webs'); // Mamori's set: Hikvision, IP Camera
      if (req.url === '/' && mode === 'redirect')
        return void res.writeHead(302, { Location: '/doc/page/login.asp' }).end();
      if (req.url === '/' && mode === 'forbidden') return void res.writeHead(403).end();
      if (req.url === '/' && mode === 'form')
        return void res
          .writeHead(200, { 'Content-Type': 'text/html' })
          .end('<form><input name=u><input type="password" name=p></form>');
      if (req.url === '/')
        return void res.writeHead(200, { 'Content-Type': 'text/html' }).end('<h1>Live</h1>');
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="cam"' }).end();
    });
    servers.push(cam);
    const port = await listen(cam, '127.0.30.3');
    await runScan(
      { targets: ['127.0.30.3'], ports: [port], timeoutMs: 1000, retries: 0 },
      { store: t.store, engine },
    );
    for (const m of ['redirect', 'form', 'forbidden'] as const) {
      mode = m;
      const audit = await auditCredentials(t.store, ['127.0.30.3'], {
        backoffMs: 1,
        alerts: false,
      });
      expect(audit.findings, m).toEqual([]);
    }
    mode = 'open';
    const audit = await auditCredentials(t.store, ['127.0.30.3'], { backoffMs: 1, alerts: false });
    expect(audit.findings.map((f) => f.kind)).toEqual(['no-auth']);
  });

  it('a device that errors on the control gives an unknown verdict, not default-credentials', async () => {
    const controls: string[] = [];
    const dev = createServer((req, res) => {
      res.setHeader('Server', 'DNVRS-Webs');
      const h = req.headers.authorization;
      if (!h) return void res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="x"' }).end();
      const [, pass] = Buffer.from(h.slice(6), 'base64').toString('latin1').split(':');
      if (pass === '12345') return void res.writeHead(200).end('ok');
      controls.push(pass ?? '');
      res.writeHead(500).end();
    });
    servers.push(dev);
    const port = await listen(dev, '127.0.30.4');
    await runScan(
      { targets: ['127.0.30.4'], ports: [port], timeoutMs: 1000, retries: 0 },
      { store: t.store, engine },
    );
    const audit = await auditCredentials(t.store, ['127.0.30.4'], { backoffMs: 1, alerts: false });
    expect(audit.findings).toEqual([]);
    expect(audit.skipped.map((s) => s.reason)).toEqual([
      'the wrong-password control got no clear answer: verdict unknown',
    ]);
    expect(controls).toHaveLength(1);
    expect(controls[0]).toMatch(/^[\x21-\x7e]{16,}$/);
  });
});

describe("nmap's default-account fingerprints (Debian's nmap, installed by scripts/test.sh)", () => {
  it('reads the Basic/Digest entries and adds them after Mamori’s own defaults', () => {
    const all = parseNmapDefaultAccounts(readFileSync(NMAP_DEFAULT_ACCOUNTS, 'utf8'));
    expect(all.length).toBeGreaterThan(10);
    const axis = all.find((e) => e.name.startsWith('AXIS'));
    expect(axis?.combos).toContainEqual({ user: 'root', password: 'root' });
    expect(axis?.paths).toContain('/view/viewer_index.shtml');
    const d = defaultsFor({ vendor: 'Axis', product: null, title: null }, all);
    expect(d.credentials[0]).toMatchObject({ user: 'root', password: 'pass' });
    expect(d.credentials.map((c) => `${c.user}/${c.password}`)).toContain('admin/admin');
    expect(d.paths).toContain('/view/viewer_index.shtml');
    // entries whose login is a form post are left out: the audit speaks Basic/Digest only
    expect(all.some((e) => e.name === 'NUOO DVR')).toBe(false);
  });
});
