/**
 * Two `mamori serve` replicas on one PostgreSQL store: a session made by signing in on one is
 * accepted by the other, for reading and for a state change with the session's CSRF token, and
 * signing out on the second ends it on the first. Sessions are rows in the store, not process
 * memory, so this is what a load balancer in front of several replicas relies on.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, runMamori } from '../helpers/cli.js';
import { freshSpec } from '../helpers/db.js';

const PASSWORD = 'replica-test-password-1';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startServe(spec: string, env: Record<string, string>): Promise<string> {
  const child: ChildProcess = spawn(
    process.execPath,
    [BIN, 'serve', '--port', '0', '--json', '--db', spec],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  );
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => {
    err += d;
  });
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${err}`)), 60_000);
    child.stdout!.on('data', (d) => {
      out += d;
      try {
        resolve(JSON.parse(out).url);
        clearTimeout(timer);
      } catch {
        // not a whole JSON document yet
      }
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}

function cookies(r: Response): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of r.headers.getSetCookie()) {
    const [pair] = c.split(';');
    const i = pair!.indexOf('=');
    out[pair!.slice(0, i)] = pair!.slice(i + 1);
  }
  return out;
}

describe.skipIf(!process.env.MAMORI_TEST_PG)('two serve replicas on one PostgreSQL', () => {
  it('a session made on one replica works on the other, and signing out ends it on both', {
    timeout: 180_000,
  }, async () => {
    const { spec, cleanup } = await freshSpec('postgres');
    cleanups.push(cleanup);
    const home = mkdtempSync(join(tmpdir(), 'mamori-replicas-'));
    cleanups.push(() => rmSync(home, { recursive: true, force: true }));
    const env = { HOME: home, XDG_CONFIG_HOME: home, XDG_DATA_HOME: home };
    const add = await runMamori(['user', 'add', 'kenji', '--role', 'operator', '--db', spec], {
      env: { ...env, MAMORI_PASSWORD: PASSWORD },
    });
    expect(add.code, add.stderr).toBe(0);
    const [a, b] = await Promise.all([startServe(spec, env), startServe(spec, env)]);
    expect(a).not.toBe(b);

    // Sign in on replica A.
    const form = await fetch(new URL('/login', a));
    const loginCookie = cookies(form).mamori_login!;
    const loginToken = /name="_login" value="([^"]+)"/.exec(await form.text())![1]!;
    const signed = await fetch(new URL('/login', a), {
      method: 'POST',
      redirect: 'manual',
      headers: {
        origin: new URL(a).origin,
        cookie: `mamori_login=${loginCookie}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        _login: loginToken,
        name: 'kenji',
        password: PASSWORD,
        next: '/',
      }),
    });
    expect(signed.status).toBe(303);
    const session = cookies(signed).mamori_session;
    expect(session).toBeTruthy();
    const cookie = `mamori_session=${session}`;

    // Replica B knows nothing but the store, and accepts the session.
    expect((await fetch(new URL('/api/v1/status', b))).status).toBe(401);
    const status = await fetch(new URL('/api/v1/status', b), { headers: { cookie } });
    expect(status.status).toBe(200);
    const page = await fetch(new URL('/', b), { headers: { cookie } });
    expect(page.status).toBe(200);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1];
    expect(csrf).toBeTruthy();

    // A state change on B with the session's CSRF token: sign out, then A refuses the session.
    const out = await fetch(new URL('/logout', b), {
      method: 'POST',
      redirect: 'manual',
      headers: {
        origin: new URL(b).origin,
        cookie,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ _csrf: csrf! }),
    });
    expect(out.status).toBe(303);
    expect((await fetch(new URL('/api/v1/status', a), { headers: { cookie } })).status).toBe(401);
  });
});
