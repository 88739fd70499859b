import { readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bannerText, faviconHash, htmlTitle, murmur3 } from '../../src/exposure/core/banner.js';
import {
  addScope,
  auditCredentials,
  DeadlineQueue,
  loadEngine,
  probe,
  runScan,
  search,
} from '../../src/exposure/index.js';
import { escapeForTerminal } from '../../src/shared/text.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';
import { vector } from '../helpers/vectors.js';
import { type RunningDevice, startDevice } from './devices.js';

const engine = loadEngine(vector('recog/xml'));

describe('banner helpers', () => {
  it('computes MurmurHash3 as Python mmh3.hash does', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    expect(murmur3(enc('foo'))).toBe(-156908512);
    expect(murmur3(enc('hello'))).toBe(613153351);
    expect(murmur3(enc(''))).toBe(0);
    expect(faviconHash(Buffer.from('x').toString('base64'))).toBe(murmur3(enc('eA==\n')));
  });
  it('stores hostile bytes safely and prints them escaped', () => {
    const hostile = Buffer.concat([
      Buffer.from('ok\u001b[2J\u001b]0;pwned\u0007'),
      Buffer.from([0, 0xff, 0xfe, 0xc3]),
    ]);
    const text = bannerText(hostile);
    expect(text).not.toContain('\u0000');
    expect(text).toContain('\ufffd');
    expect(escapeForTerminal(text)).not.toMatch(/[\u0000-\u0008\u001b\u007f]/);
    expect(bannerText(Buffer.alloc(200_000, 0x41))).toHaveLength(64 * 1024);
    expect(htmlTitle('<TITLE> a &amp; b\n c </title>')).toBe('a & b c');
  });
});

describe('DeadlineQueue (one timer for all probes)', () => {
  it('fires each entry once, in order, never before its deadline, and none after clear()', async () => {
    const q = new DeadlineQueue(5);
    const fired: { i: number; late: number }[] = [];
    const t0 = performance.now();
    for (let i = 0; i < 50; i++) {
      const at = t0 + i;
      q.add(at, () => fired.push({ i, late: performance.now() - at }));
    }
    const dropped = { fired: false };
    await new Promise<void>((r) => q.add(performance.now() + 60, r));
    expect(fired.map((f) => f.i)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(fired.every((f) => f.late >= 0)).toBe(true);
    q.add(performance.now() + 10, () => {
      dropped.fired = true;
    });
    q.clear();
    await new Promise((r) => setTimeout(r, 40));
    expect(dropped.fired).toBe(false);
  });
});

describe('probe', () => {
  it('tells open, closed and timed-out ports apart and leaks no descriptors', async () => {
    const server: Server = createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const before = readdirSync('/proc/self/fd').length;
    expect(await probe('127.0.0.1', port, 1000)).toBe('open');
    const closed = await probe('127.0.0.1', 1, 1000);
    expect(closed).toBe('closed');
    // many probes at once, open and closed
    const outcomes = await Promise.all(
      Array.from({ length: 300 }, (_, i) => probe('127.0.0.1', i % 2 ? port : 1, 1000)),
    );
    expect(outcomes.filter((o) => o === 'open')).toHaveLength(150);
    // the same through a scan's shared deadline queue
    const q = new DeadlineQueue();
    const shared = await Promise.all(
      Array.from({ length: 300 }, (_, i) => probe('127.0.0.1', i % 2 ? port : 1, 1000, q)),
    );
    q.clear();
    expect(shared.filter((o) => o === 'open')).toHaveLength(150);
    expect(shared.filter((o) => o === 'closed')).toHaveLength(150);
    await new Promise<void>((r) => server.close(() => r()));
    await new Promise((r) => setTimeout(r, 50));
    expect(readdirSync('/proc/self/fd').length).toBeLessThanOrEqual(before + 2);
  });
});

for (const backend of testBackends()) {
  describe(`scan and audit on loopback (${backend})`, () => {
    let t: TestStore;
    const devices: RunningDevice[] = [];
    const H = { open: '127.0.10.1', dflt: '127.0.10.2', strong: '127.0.10.3', misc: '127.0.10.4' };
    beforeAll(async () => {
      t = await freshStore(backend);
      devices.push(
        await startDevice({ kind: 'camera-http', host: H.open, port: 0, auth: 'open' }),
        await startDevice({ kind: 'rtsp', host: H.open, port: 0, auth: 'open' }),
        await startDevice({ kind: 'camera-http', host: H.dflt, port: 0, auth: 'default' }),
        await startDevice({ kind: 'rtsp', host: H.dflt, port: 0, auth: 'default' }),
        await startDevice({
          kind: 'camera-http',
          host: H.strong,
          port: 0,
          auth: 'strong',
          password: 'correct horse battery staple 91',
        }),
        await startDevice({ kind: 'telnet', host: H.misc, port: 0 }),
        await startDevice({ kind: 'ssh', host: H.misc, port: 0 }),
        await startDevice({ kind: 'ftp', host: H.misc, port: 0 }),
      );
    });
    afterAll(async () => {
      await Promise.all(devices.map((d) => d.close()));
      await t.cleanup();
    });
    it('refuses targets outside the scope before connecting', async () => {
      await addScope(t.store, { cidr: '127.0.10.0/29', owner: 'test', allowCredentials: false });
      const listener = devices[0]!;
      const seen = listener.log.length;
      await expect(
        runScan(
          { targets: ['127.0.11.1', H.open], ports: [listener.port] },
          { store: t.store, engine },
        ),
      ).rejects.toMatchObject({ code: 'E_SCOPE' });
      await expect(auditCredentials(t.store, [H.open])).rejects.toMatchObject({ code: 'E_SCOPE' });
      expect(listener.log.length).toBe(seen);
    });
    it('finds, grabs and fingerprints each service; the audit reports exactly the open and default cameras', async () => {
      await addScope(t.store, { cidr: '127.0.10.0/29', owner: 'test', allowCredentials: true });
      const ports = [...new Set(devices.map((d) => d.port))];
      const summary = await runScan(
        { targets: ['127.0.10.0/29'], ports, timeoutMs: 800, retries: 0 },
        { store: t.store, engine },
      );
      expect(summary.status).toBe('done');
      const found = summary.open.map((o) => `${o.ip}:${o.port}:${o.protocol}`).sort();
      const expected = devices
        .map(
          (d) =>
            `${d.spec.host}:${d.port}:${{ 'camera-http': 'http', rtsp: 'rtsp', telnet: 'telnet', ssh: 'ssh', ftp: 'ftp' }[d.spec.kind as 'rtsp']}`,
        )
        .sort();
      expect(found).toEqual(expected);
      const cam = await search(t.store, `net:${H.open}/32 protocol:http`);
      expect(cam.matches[0]).toMatchObject({
        vendor: 'Mamori Lab',
        title: 'LabCam 100 - Live View',
        auth_required: false,
      });
      const ssh = await search(t.store, 'protocol:ssh');
      expect(ssh.matches[0]).toMatchObject({ product: 'OpenSSH', version: '8.4p1' });
      expect((await search(t.store, 'protocol:ftp')).matches[0]?.product).toBe('vsFTPd');
      expect((await search(t.store, 'protocol:telnet has_auth:true')).total).toBe(1);
      expect(
        (await search(t.store, 'protocol:rtsp has_auth:false')).matches.map((m) => m.ip),
      ).toEqual([H.open]);

      const audit = await auditCredentials(t.store, ['127.0.10.0/29'], {
        backoffMs: 10,
        alerts: true,
      });
      const findings = audit.findings.map((f) => `${f.ip}:${f.protocol}:${f.kind}`).sort();
      expect(findings).toEqual([
        `${H.open}:http:no-auth`,
        `${H.open}:rtsp:no-auth`,
        `${H.dflt}:http:default-credentials`,
        `${H.dflt}:rtsp:default-credentials`,
      ]);
      expect(JSON.stringify(audit)).not.toContain('labcam');
      // never past DESCRIBE: no SETUP or PLAY reached any RTSP server
      for (const d of devices.filter((x) => x.spec.kind === 'rtsp')) {
        expect(d.log.filter((l) => /^(SETUP|PLAY|GET_PARAMETER) /.test(l))).toEqual([]);
        expect(d.log.some((l) => /^DESCRIBE /.test(l))).toBe(true);
      }
      const withFindings = await search(t.store, `net:${H.dflt}/32`);
      expect(withFindings.matches.every((m) => m.findings.includes('default-credentials'))).toBe(
        true,
      );
    });
    it('reports weak-auth-control-failed when a wrong password is accepted', async () => {
      const permissive = createServer((s) => {
        s.on('data', (d) => {
          const authed = /Authorization:/i.test(d.toString());
          s.end(
            authed
              ? 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'
              : 'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="TP-LINK Wireless N Router WR840N"\r\nContent-Length: 0\r\n\r\n',
          );
        });
      });
      await new Promise<void>((r) => permissive.listen(0, '127.0.10.5', () => r()));
      const port = (permissive.address() as { port: number }).port;
      try {
        await runScan(
          { targets: ['127.0.10.5'], ports: [port], timeoutMs: 800, retries: 0 },
          { store: t.store, engine },
        );
        const audit = await auditCredentials(t.store, ['127.0.10.5'], { backoffMs: 10 });
        expect(audit.findings.map((f) => f.kind)).toEqual(['weak-auth-control-failed']);
      } finally {
        await new Promise<void>((r) => permissive.close(() => r()));
      }
    });
    it('resumes an interrupted scan from its checkpoint', async () => {
      const ac = new AbortController();
      const ports = [devices[0]!.port, devices[1]!.port];
      let opened = 0;
      const first = await runScan(
        { targets: ['127.0.10.0/29'], ports, timeoutMs: 800, retries: 0, concurrency: 1, rate: 50 },
        {
          store: t.store,
          engine,
          signal: ac.signal,
          onOpen: () => {
            opened++;
            ac.abort();
          },
        },
      );
      expect(first.status).toBe('interrupted');
      expect(opened).toBe(1);
      const second = await runScan(
        { targets: [], ports: [] },
        { store: t.store, engine },
        first.scan,
      );
      expect(second.status).toBe('done');
      expect(first.probes + second.probes).toBe(7 * 2);
      expect(second.open.length).toBeGreaterThanOrEqual(1);
    });
  });
}
