/**
 * A distributed exposure scan with real `mamori worker` processes on a real PostgreSQL: three
 * workers share the shards of a loopback range, one is killed with SIGKILL in the middle of a
 * shard, and the stored services equal a single-process scan of the same range: every live
 * service exactly once. Traffic stays on 127.77.0.0/24 (loopback).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, runMamori } from '../helpers/cli.js';
import { freshSpec } from '../helpers/db.js';
import { PROJECT_ROOT } from '../helpers/vectors.js';

const RANGE = '127.77.0.0/24';
const PORTS = '18081,15554';
const LIVE = [
  ['127.77.0.5', 18081],
  ['127.77.0.9', 15554],
  ['127.77.0.40', 18081],
  ['127.77.0.40', 15554],
  ['127.77.0.77', 18081],
  ['127.77.0.130', 15554],
  ['127.77.0.201', 18081],
  ['127.77.0.254', 15554],
] as const;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function listen(host: string, port: number): Promise<Server> {
  const server = createServer((sock) => {
    sock.end('HELLO mamori-test\r\n');
    sock.on('error', () => {});
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

function startWorker(db: string): { child: ChildProcess; out: () => string } {
  const child = spawn(process.execPath, [BIN, 'worker', '--json', '--db', db, '--queues', 'scan'], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', () => {});
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('close', () => resolve());
        child.kill('SIGKILL');
      }),
  );
  return { child, out: () => out };
}

const key = (o: { ip: string; port: number; transport: string }) =>
  `${o.ip} ${o.port}/${o.transport}`;

describe.skipIf(!process.env.MAMORI_TEST_PG)('exposure scan --distribute (MAMORI_TEST_PG)', () => {
  it('refuses on SQLite and refuses out-of-scope targets before queuing anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mamori-dist-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const lite = await runMamori(
      ['exposure', 'scan', RANGE, '--distribute', '--db', join(dir, 'm.db')],
      { env: { XDG_CONFIG_HOME: dir } },
    );
    expect(lite.code).toBe(2);
    const { spec, cleanup } = await freshSpec('postgres');
    cleanups.push(cleanup);
    expect(
      (await runMamori(['exposure', 'scope', 'add', '127.77.0.0/25', '--owner', 't', '--db', spec]))
        .code,
    ).toBe(0);
    const out = await runMamori(['exposure', 'scan', RANGE, '--distribute', '--db', spec]);
    expect(out.code).toBe(4);
    const status = JSON.parse(
      (await runMamori(['worker', 'status', '--json', '--db', spec])).stdout,
    );
    expect(status.queues.scan.total).toBe(0);
  });

  it('three workers, one killed mid-shard: the stored services equal a single-process scan', {
    timeout: 240_000,
  }, async () => {
    for (const [h, p] of LIVE) {
      const s = await listen(h, p);
      cleanups.push(() => new Promise<void>((r) => s.close(() => r())));
    }
    const dir = mkdtempSync(join(tmpdir(), 'mamori-dist-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const env = { XDG_CONFIG_HOME: dir };
    const scanFlags = ['--ports', PORTS, '--discovery-only', '--timeout', '1000', '--retries', '0'];

    // The reference: one process, an embedded store.
    const single = join(dir, 'single.db');
    expect(
      (
        await runMamori(['exposure', 'scope', 'add', RANGE, '--owner', 't', '--db', single], {
          env,
        })
      ).code,
    ).toBe(0);
    const ref = await runMamori(
      ['exposure', 'scan', RANGE, ...scanFlags, '--json', '--db', single],
      {
        env,
      },
    );
    expect(ref.code, ref.stderr).toBe(0);
    const expected = (
      JSON.parse(ref.stdout).open as { ip: string; port: number; transport: string }[]
    )
      .map(key)
      .sort();
    for (const [h, p] of LIVE) expect(expected).toContain(`${h} ${p}/tcp`);

    const { spec, cleanup } = await freshSpec('postgres');
    cleanups.push(cleanup);
    expect(
      (await runMamori(['exposure', 'scope', 'add', RANGE, '--owner', 't', '--db', spec], { env }))
        .code,
    ).toBe(0);
    const workers = [startWorker(spec), startWorker(spec), startWorker(spec)];
    // Slow shards (20 probes/s, 32 probes each) so a worker can be caught in the middle of one.
    const dist = runMamori(
      [
        'exposure',
        'scan',
        RANGE,
        ...scanFlags,
        '--rate',
        '20',
        '--distribute',
        '--shard-size',
        '16',
        '--lease',
        '5',
        '--json',
        '--db',
        spec,
      ],
      { env, timeoutMs: 220_000 },
    );
    const victim = workers[0]!;
    const deadline = Date.now() + 120_000;
    while (!/"event":"job.start"/.test(victim.out()) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(victim.out()).toMatch(/"event":"job.start"/);
    await new Promise((r) => setTimeout(r, 400));
    const startedJobs = [...victim.out().matchAll(/"event":"job.start","job":"([^"]+)"/g)].map(
      (m) => m[1],
    );
    const endedJobs = [...victim.out().matchAll(/"event":"job.end","job":"([^"]+)"/g)].map(
      (m) => m[1],
    );
    victim.child.kill('SIGKILL');
    // It died holding a shard it had started and not finished.
    expect(startedJobs.filter((j) => !endedJobs.includes(j)).length).toBe(1);

    const r = await dist;
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ status: 'done', shards: 16, failedShards: 0 });
    expect(
      (summary.open as { ip: string; port: number; transport: string }[]).map(key).sort(),
    ).toEqual(expected);

    const client = new pg.Client({ connectionString: spec });
    await client.connect();
    try {
      const rows = (await client.query('select ip, port, transport from exposure_service'))
        .rows as {
        ip: string;
        port: number;
        transport: string;
      }[];
      const stored = rows.map(key).sort();
      expect(stored).toEqual(expected);
      expect(new Set(stored).size).toBe(stored.length);
    } finally {
      await client.end();
    }
  });
});
