/**
 * `scale-scan`: addresses per second of a distributed exposure scan with 1, 2 and 4 `mamori
 * worker` processes on one PostgreSQL store, against one `mamori exposure scan` process over the
 * same range, ports and settings, in the same run. Loopback only: 127.78.0.0/20 with a few live
 * listeners; every other probe is answered by a reset. Discovery only (no banner grabs), so the
 * figure is the connect loop, the queue and the store, not the grabbers.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchFn, Figure } from './lib.js';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'dist', 'cli', 'bin.js');
const PORTS = '18091,18092,18093,18094';
const FLAGS = [
  '--ports',
  PORTS,
  '--discovery-only',
  '--timeout',
  '1000',
  '--retries',
  '0',
  '--rate',
  '50000',
  '--concurrency',
  '512',
  '--per-host',
  '16',
];

function cli(args: string[], env: Record<string, string>): string {
  return execFileSync(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
}

async function freshDb(base: string, name: string): Promise<string> {
  const { default: pg } = await import('pg');
  const c = new pg.Client({ connectionString: base });
  await c.connect();
  await c.query(`drop database if exists ${name} with (force)`);
  await c.query(`create database ${name}`);
  await c.end();
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
}

export const run: BenchFn = async (ctx) => {
  const prefix = ctx.scale < 1 ? 22 : 20;
  const range = `127.78.0.0/${prefix}`;
  const dir = mkdtempSync(join(tmpdir(), 'mamori-scale-'));
  const env = { XDG_CONFIG_HOME: dir };
  const servers: Server[] = [];
  for (let i = 1; i <= 40; i++) {
    const s = createServer((sock) => sock.destroy());
    await new Promise<void>((r) => s.listen(18091 + (i % 4), `127.78.${i % 4}.${i}`, () => r()));
    servers.push(s);
  }
  const base = await ctx.postgresUrl();
  const figures: Figure[] = [];
  const notes: string[] = [];
  const workers: ChildProcess[] = [];
  try {
    // One process, writing to PostgreSQL like the workers do.
    const single = await freshDb(base, 'mamori_bench_scale_1p');
    cli(['exposure', 'scope', 'add', range, '--owner', 'bench', '--db', single], env);
    let t0 = performance.now();
    const one = JSON.parse(
      cli(['exposure', 'scan', range, ...FLAGS, '--json', '--db', single], env),
    );
    const oneSec = (performance.now() - t0) / 1000;
    const addresses = one.probes / 4;
    const oneRate = addresses / oneSec;
    ctx.log(
      `one process: ${addresses} addresses in ${oneSec.toFixed(1)} s, ${one.open.length} open`,
    );
    for (const n of [1, 2, 4]) {
      const db = await freshDb(base, `mamori_bench_scale_${n}w`);
      cli(['exposure', 'scope', 'add', range, '--owner', 'bench', '--db', db], env);
      for (let i = 0; i < n; i++) {
        const w = spawn(
          process.execPath,
          [BIN, 'worker', '--queues', 'scan', '--quiet', '--db', db],
          {
            env: { ...process.env, ...env },
            stdio: 'ignore',
          },
        );
        workers.push(w);
      }
      // Let the workers connect and start polling before the clock starts.
      await new Promise((r) => setTimeout(r, 3000));
      t0 = performance.now();
      const dist = JSON.parse(
        cli(['exposure', 'scan', range, ...FLAGS, '--distribute', '--json', '--db', db], env),
      );
      const sec = (performance.now() - t0) / 1000;
      const rate = addresses / sec;
      if (dist.open.length !== one.open.length)
        throw new Error(
          `${n} workers found ${dist.open.length} open, one process ${one.open.length}`,
        );
      figures.push({
        name: `distributed scan, ${n} worker${n > 1 ? 's' : ''}`,
        value: Math.round(rate),
        unit: 'addresses/s',
        base: 'one exposure scan process, same range and flags',
        baseValue: Math.round(oneRate),
        ratio: rate / oneRate,
        ...(n === 2 ? { goal: '≤ 2× on 2 cores' } : {}),
      });
      for (const w of workers.splice(0)) w.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 1500));
    }
    notes.push(
      `Range ${range} (${addresses} addresses) × ports ${PORTS}, 40 live listeners, discovery only; flags ${FLAGS.join(' ')}; distributed in shards of the default 1,024 addresses (${Math.ceil(addresses / 1024)} shards); each worker runs its shards on its own open store (one pool for all its jobs) and fetches the next shard as soon as one ends; workers started before timing; time = from queuing the shards to the last shard's completion seen by the coordinator (it polls every 0.5 s).`,
      'Each worker runs each shard as `exposure scan --probe-range` in process; all write to the same throwaway PostgreSQL over loopback. This machine has 2 cores, shared with other sessions working in parallel: ratios move between runs.',
    );
  } finally {
    for (const w of workers.splice(0)) w.kill('SIGKILL');
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return { figures, notes };
};
