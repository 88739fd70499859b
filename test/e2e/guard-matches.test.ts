/**
 * `mamori guard proxy` stores its matches, and a clean shutdown loses none: attacks are sent
 * through the built CLI's proxy (block mode, CRS paranoia 1) to a loopback upstream, the proxy
 * gets SIGTERM right after the last answer, and `mamori guard matches --json` then lists
 * exactly the matches the proxy printed as JSON lines, on both backends.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recentAlerts } from '../../src/alerts/index.js';
import { openDb } from '../../src/storage/index.js';
import { BIN, runMamori } from '../helpers/cli.js';
import { freshSpec, testBackends } from '../helpers/db.js';
import { vector } from '../helpers/vectors.js';

let upstream: http.Server;
let upstreamPort = 0;

beforeAll(async () => {
  upstream = http.createServer((_req, res) => res.end('ok\n'));
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  upstreamPort = (upstream.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((r) => upstream.close(() => r()));
});

function startProxy(db: string): Promise<{ child: ChildProcess; port: number; out: () => string }> {
  const child = spawn(
    process.execPath,
    [
      BIN,
      'guard',
      'proxy',
      '--db',
      db,
      '--listen',
      '127.0.0.1:0',
      '--upstream',
      `http://127.0.0.1:${upstreamPort}`,
      '--rules',
      vector('waf/crs-rules'),
      '--mode',
      'block',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => {
    stdout += d;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`proxy did not start:\n${stderr}`));
    }, 90_000);
    child.stderr?.on('data', (d) => {
      stderr += d;
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]), out: () => stdout });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`proxy exited ${code}:\n${stderr}`));
    });
  });
}

for (const backend of testBackends()) {
  describe(`guard proxy → guard matches (${backend})`, () => {
    it('stores every match it printed, none lost on SIGTERM', async () => {
      const { spec, cleanup } = await freshSpec(backend);
      try {
        const p = await startProxy(spec);
        const statuses: number[] = [];
        for (let i = 0; i < 40; i++) {
          const payload = encodeURIComponent(`1' UNION SELECT password FROM users-- ${i}`);
          const r = await fetch(`http://127.0.0.1:${p.port}/item?id=${payload}`, {
            headers: { 'user-agent': 'sqlmap/1.8', accept: 'text/html' },
          });
          statuses.push(r.status);
          await r.text();
        }
        const clean = await fetch(`http://127.0.0.1:${p.port}/about`, {
          headers: { 'user-agent': 'Mozilla/5.0', accept: 'text/html' },
        });
        expect(await clean.text()).toBe('ok\n');
        expect(statuses.every((s) => s === 403)).toBe(true);
        const exited = new Promise<number | null>((r) => p.child.on('exit', (c) => r(c)));
        p.child.kill('SIGTERM');
        expect(await exited).toBe(0);
        const printed = p
          .out()
          .split('\n')
          .filter((l) => l.startsWith('{"type":"guard.match"'))
          .map((l) => JSON.parse(l) as { requestId: string; ruleId: number });
        expect(printed.length).toBeGreaterThanOrEqual(80);

        const listed = await runMamori([
          'guard',
          'matches',
          '--db',
          spec,
          '--json',
          '--limit',
          '10000',
        ]);
        expect(listed.code).toBe(0);
        const rows = JSON.parse(listed.stdout) as Array<{
          request_id: string;
          rule_id: number;
          action: string;
          client: string;
          method: string;
          path: string;
        }>;
        expect(rows.map((r) => `${r.request_id}/${r.rule_id}`).sort()).toEqual(
          printed.map((m) => `${m.requestId}/${m.ruleId}`).sort(),
        );
        const blocked = rows.filter((r) => r.action === 'blocked');
        expect(new Set(blocked.map((r) => r.request_id)).size).toBe(40);
        expect(rows.every((r) => r.client === '127.0.0.1' && r.method === 'GET')).toBe(true);
        expect(blocked.every((r) => r.path === '/item')).toBe(true);
        // the clean request may match a low-score rule, but it is only logged
        expect(rows.filter((r) => r.path === '/about').every((r) => r.action === 'logged')).toBe(
          true,
        );

        const one = await runMamori(['guard', 'matches', '--db', spec, '--rule', '949110']);
        expect(one.code).toBe(0);
        expect(one.stdout.trim().split('\n')).toHaveLength(40);
        // 40 blocks of one rule from one client: the first is an alert, the rest one summary.
        const store = await openDb(spec);
        try {
          const alerts = await recentAlerts(store);
          expect(alerts.map((a) => a.kind).sort()).toEqual([
            'guard.blocked',
            'guard.blocked_burst',
          ]);
          expect(
            JSON.parse(alerts.find((a) => a.kind === 'guard.blocked_burst')?.details ?? '{}'),
          ).toMatchObject({ count: 39 });
        } finally {
          await store.close();
        }
        const bad = await runMamori(['guard', 'matches', '--db', spec, '--since', 'yesterday']);
        expect(bad.code).toBe(2);
      } finally {
        await cleanup();
      }
    }, 180_000);
  });
}
