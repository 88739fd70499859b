/**
 * `mamori serve` as a process: binds loopback, answers /healthz and /api/v1/status with secure
 * headers, and shuts down cleanly on SIGTERM and SIGINT — on both backends.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { freshSpec, testBackends } from '../helpers/db.js';

const home = mkdtempSync(join(tmpdir(), 'mamori-serve-'));

interface Served {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
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
  return { child, url, exited };
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
      served = await startServe(f.spec);
      expect(new URL(served.url).hostname).toBe('127.0.0.1');
      const health = await fetch(new URL('/healthz', served.url));
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok' });
      expect(health.headers.get('x-content-type-options')).toBe('nosniff');
      expect(health.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      const status = await (await fetch(new URL('/api/v1/status', served.url))).json();
      expect(status.store.backend).toBe(backend);
      expect(status.store.schemaVersion).toBe(status.store.latestVersion);
      expect(status.version).toMatch(/^\d+\.\d+\.\d+$/);
      const page = await fetch(served.url);
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
