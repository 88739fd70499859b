/**
 * `mamori serve` as a process: binds loopback, answers /healthz and /api/v1/status with secure
 * headers, and shuts down cleanly on SIGTERM and SIGINT — on both backends.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, runMamori } from '../helpers/cli.js';
import { freshSpec, testBackends } from '../helpers/db.js';

const home = mkdtempSync(join(tmpdir(), 'mamori-serve-'));

interface Served {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
  stderr(): string;
}

const env = { HOME: home, XDG_DATA_HOME: join(home, 'data') };

async function tokenFor(spec: string, role = 'viewer'): Promise<string> {
  const r = await runMamori(
    ['token', 'create', '--role', role, '--expires', '1h', '--json', '--db', spec],
    { env },
  );
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout).token;
}

async function startServe(spec: string, extra: string[] = []): Promise<Served> {
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '--port', '0', '--json', '--db', spec, ...extra],
    {
      env: { ...process.env, HOME: home, XDG_DATA_HOME: join(home, 'data') },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => {
    err += d;
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${err}`)), 30_000);
    child.stdout!.on('data', (d) => {
      out += d;
      try {
        const info = JSON.parse(out);
        clearTimeout(timer);
        resolve(info.url);
      } catch {
        // not a whole JSON document yet
      }
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
  return { child, url, exited, stderr: () => err };
}

for (const backend of testBackends()) {
  describe(`mamori serve on ${backend}`, () => {
    let served: Served | undefined;
    let cleanup: (() => Promise<void>) | undefined;
    afterEach(async () => {
      if (served && served.child.exitCode === null) served.child.kill('SIGKILL');
      await cleanup?.();
    });

    it('binds 127.0.0.1 by default and answers /healthz and /api/v1/status', async () => {
      const f = await freshSpec(backend);
      cleanup = f.cleanup;
      const token = await tokenFor(f.spec);
      served = await startServe(f.spec);
      expect(new URL(served.url).hostname).toBe('127.0.0.1');
      const health = await fetch(new URL('/healthz', served.url));
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok' });
      expect(health.headers.get('x-content-type-options')).toBe('nosniff');
      expect(health.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect((await fetch(new URL('/api/v1/status', served.url))).status).toBe(401);
      const status = await (
        await fetch(new URL('/api/v1/status', served.url), {
          headers: { authorization: `Bearer ${token}` },
        })
      ).json();
      expect(status.store.backend).toBe(backend);
      expect(status.store.schemaVersion).toBe(status.store.latestVersion);
      expect(status.version).toMatch(/^\d+\.\d+\.\d+$/);
      const page = await fetch(new URL('/login', served.url));
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      served.child.kill('SIGTERM');
      expect(await served.exited).toBe(0);
    });

    it('stops cleanly on SIGINT while a client holds a keep-alive connection', async () => {
      const f = await freshSpec(backend);
      cleanup = f.cleanup;
      served = await startServe(f.spec);
      const r = await fetch(new URL('/healthz', served.url), {
        headers: { connection: 'keep-alive' },
      });
      expect(r.status).toBe(200);
      served.child.kill('SIGINT');
      expect(await served.exited).toBe(0);
    });
  });
}

describe('mamori serve access', () => {
  let served: Served | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    if (served && served.child.exitCode === null) served.child.kill('SIGKILL');
    await cleanup?.();
  });

  it('on a fresh store makes a first admin with a one-time password, and refuses a forged Host', async () => {
    const f = await freshSpec('sqlite');
    cleanup = f.cleanup;
    served = await startServe(f.spec);
    await expect.poll(() => served!.stderr()).toMatch(/user 'admin', one-time password \S{20,}/);
    const list = await runMamori(['user', 'list', '--json', '--db', f.spec], { env });
    expect(JSON.parse(list.stdout)).toMatchObject([
      { name: 'admin', role: 'admin', mustChange: true },
    ]);
    const login = await fetch(new URL('/login', served.url));
    expect(login.status).toBe(200);
    const token = await tokenFor(f.spec);
    const { request } = await import('node:http');
    const u = new URL(served.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: u.hostname,
          port: u.port,
          path: '/api/v1/custody/wallets',
          headers: { host: 'attacker.example', authorization: `Bearer ${token}` },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(421);
    served.child.kill('SIGTERM');
    expect(await served.exited).toBe(0);
  });

  it('refuses plain HTTP on a non-loopback address unless told --insecure-http', async () => {
    const r = await runMamori(['serve', '--host', '0.0.0.0', '--port', '0', '--db', ':memory:'], {
      env,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/plain HTTP/);
    const half = await runMamori(
      ['serve', '--port', '0', '--tls-cert', 'x.pem', '--db', ':memory:'],
      { env },
    );
    expect(half.code).toBe(2);
    expect(half.stderr).toMatch(/go together/);
  });
});

describe('mamori serve bad input', () => {
  it('refuses a bad port with exit 2', async () => {
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '70000', '--db', ':memory:'], {
      stdio: 'pipe',
    });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(2);
    expect(err).toContain('not a TCP port');
  });
});
