/**
 * Workers and schedules against a real PostgreSQL with real `mamori worker` processes: a
 * schedule runs once per period whichever worker claims it, the same sync never runs twice at
 * once, and payloads that fail validation or usage are dead-lettered, not retried. SQLite
 * refuses workers and schedules with a usage error.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { sql } from 'kysely';
import PgBoss from 'pg-boss';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATION_TABLE, openDb } from '../../src/storage/db.js';
import { BIN, runMamori } from '../helpers/cli.js';
import { freshSpec } from '../helpers/db.js';
import { PROJECT_ROOT, vector } from '../helpers/vectors.js';

interface Event {
  time: string;
  event: string;
  job?: string;
  kind?: string;
  exitCode?: number;
  schedule?: string | null;
}

interface Worker {
  child: ChildProcess;
  stderr(): string;
  events(): Event[];
  exited: Promise<number | null>;
}

function startWorker(db: string, extra: string[] = []): Worker {
  const child = spawn(process.execPath, [BIN, 'worker', '--json', '--db', db, ...extra], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  let err = '';
  child.stderr!.on('data', (d) => {
    err += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return {
    child,
    exited,
    stderr: () => err,
    events: () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Event),
  };
}

/** Wait for a condition, polling, at most `ms`. */
async function until(what: string, ms: number, ok: () => boolean | Promise<boolean>) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const running: Worker[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const w of running.splice(0)) {
    w.child.kill('SIGKILL');
    await w.exited;
  }
  for (const c of cleanups.splice(0)) await c();
});

describe('on SQLite', () => {
  it('refuses workers and schedules with a usage error (exit 2)', async () => {
    const { spec, cleanup } = await freshSpec('sqlite');
    cleanups.push(cleanup);
    const w = await runMamori(['worker', '--db', spec]);
    expect(w.code).toBe(2);
    expect(w.stderr).toMatch(/needs a PostgreSQL store/);
    const s = await runMamori(['schedule', 'add', 'vuln-sync', '--every', '6h', '--db', spec]);
    expect(s.code).toBe(2);
  });
});

describe.skipIf(!process.env.MAMORI_TEST_PG)('on PostgreSQL (MAMORI_TEST_PG)', () => {
  it('refuses a store from a newer mamori before it takes a job (E_SCHEMA, exit 3), and changes nothing', async () => {
    const { spec, cleanup } = await freshSpec('postgres');
    cleanups.push(cleanup);
    // Migrate the store, then mark it as migrated further by a newer build.
    expect((await runMamori(['schedule', 'list', '--db', spec])).code).toBe(0);
    const store = await openDb(spec);
    try {
      await sql`insert into ${sql.table(MIGRATION_TABLE)} (name, timestamp) values ('29991231_01_from_the_future', '2999-12-31T00:00:00Z')`.execute(
        store.db,
      );
      const w = await runMamori(['worker', '--db', spec]);
      expect(w.code).toBe(3);
      expect(w.stderr).toMatch(/newer mamori/);
      const rows = await sql<{
        n: string;
      }>`select count(*) as n from ${sql.table(MIGRATION_TABLE)}`.execute(store.db);
      // Nothing applied or removed by the refused worker.
      expect(Number(rows.rows[0]!.n)).toBeGreaterThan(1);
      const after = await sql<{
        name: string;
      }>`select name from ${sql.table(MIGRATION_TABLE)} order by name desc limit 1`.execute(
        store.db,
      );
      expect(after.rows[0]!.name).toBe('29991231_01_from_the_future');
    } finally {
      await store.close();
    }
  });

  it('checks a schedule when it is added: kind, period and the verb’s own flags', async () => {
    const { spec, cleanup } = await freshSpec('postgres');
    cleanups.push(cleanup);
    const bad = [
      ['schedule', 'add', 'rm-rf', '--every', '6h'],
      ['schedule', 'add', 'vuln-sync', '--every', 'often'],
      ['schedule', 'add', 'vuln-sync', '--every', '6h', '--sorce', 'nvd'],
      ['schedule', 'add', 'vuln-sync'],
    ];
    for (const args of bad) {
      const r = await runMamori([...args, '--db', spec]);
      expect(r.code, args.join(' ')).toBe(2);
    }
    const ok = await runMamori([
      'schedule',
      'add',
      'vuln-sync',
      '--every',
      '6h',
      '--source',
      'nvd',
      '--json',
      '--db',
      spec,
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    const s = JSON.parse(ok.stdout);
    expect(s).toMatchObject({ kind: 'vuln-sync', everySeconds: 21600, args: ['--source', 'nvd'] });
    const list = JSON.parse((await runMamori(['schedule', 'list', '--json', '--db', spec])).stdout);
    expect(list.map((x: { id: string }) => x.id)).toEqual([s.id]);
    expect((await runMamori(['schedule', 'remove', s.id, '--db', spec])).code).toBe(0);
    expect((await runMamori(['schedule', 'remove', s.id, '--db', spec])).code).toBe(2);
  });

  it('runs a schedule once per period with two workers up, never the same sync twice at once', {
    timeout: 180_000,
  }, async () => {
    const { spec, cleanup } = await freshSpec('postgres');
    cleanups.push(cleanup);
    // A sync that takes longer than the period, so runs would overlap if nothing stopped them.
    const add = await runMamori([
      'schedule',
      'add',
      'vuln-sync',
      '--every',
      '1s',
      '--source',
      'osv',
      '--from',
      vector('vuln/osv/pypa'),
      '--json',
      '--db',
      spec,
    ]);
    expect(add.code, add.stderr).toBe(0);
    const id = JSON.parse(add.stdout).id as string;
    const workers = [startWorker(spec), startWorker(spec)];
    running.push(...workers);
    const ended = () => workers.flatMap((w) => w.events()).filter((e) => e.event === 'job.end');
    await until('three finished scheduled syncs', 150_000, () => ended().length >= 3);
    const stoppedAt = Date.now();
    for (const w of workers) w.child.kill('SIGTERM');
    const codes = await Promise.all(workers.map((w) => w.exited));
    running.splice(0);
    expect(codes, workers.map((w) => w.stderr()).join('\n')).toEqual([0, 0]);

    const runs = JSON.parse(
      (await runMamori(['schedule', 'runs', id, '--json', '--db', spec])).stdout,
    ) as { slot: number; jobId: string | null; claimedBy: string }[];
    // One claim per slot, each with its own job.
    expect(new Set(runs.map((r) => r.slot)).size).toBe(runs.length);
    expect(new Set(runs.map((r) => r.jobId)).size).toBe(runs.length);
    expect(runs.every((r) => r.jobId)).toBe(true);
    // Every job that ran was a claimed slot's, and ran once.
    const all = workers.flatMap((w) => w.events());
    const endedIds = all.filter((e) => e.event === 'job.end').map((e) => e.job!);
    expect(new Set(endedIds).size).toBe(endedIds.length);
    const claimedJobs = new Set(runs.map((r) => r.jobId));
    for (const j of endedIds) expect(claimedJobs.has(j)).toBe(true);
    for (const e of all.filter((x) => x.event === 'job.end')) {
      // A sync still running at SIGTERM is interrupted (130) and goes back to the queue.
      expect(e.exitCode).toBe(
        Date.parse(e.time) >= stoppedAt - 1000 && e.exitCode === 130 ? 130 : 0,
      );
      expect(e.schedule).toBe(id);
    }
    // Never two runs of the same sync at once, across both processes.
    const spans = endedIds.map((j) => {
      const start = all.find((e) => e.event === 'job.start' && e.job === j)!;
      const end = all.find((e) => e.event === 'job.end' && e.job === j)!;
      return [Date.parse(start.time), Date.parse(end.time)] as const;
    });
    spans.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++)
      expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
    // Slots far outnumber runs here: a period that passes while a sync runs is not queued twice.
    expect(runs.length).toBeGreaterThanOrEqual(endedIds.length);
  });

  it('dead-letters a job whose payload fails validation or whose verb refuses its flags', {
    timeout: 120_000,
  }, async () => {
    const { spec, cleanup } = await freshSpec('postgres');
    cleanups.push(cleanup);
    const worker = startWorker(spec, ['--queues', 'sync']);
    running.push(worker);
    await until('the worker to start', 60_000, () =>
      worker.events().some((e) => e.event === 'started'),
    );
    const boss = new PgBoss({ connectionString: spec, schedule: false, supervise: false });
    boss.on('error', () => {});
    await boss.start();
    try {
      await boss.send('mamori-sync', { kind: 'shell', args: ['rm', '-rf', '/'] });
      await boss.send('mamori-sync', { kind: 'vuln-sync', args: ['--db', '/tmp/elsewhere.db'] });
      await boss.send('mamori-sync', { kind: 'vuln-sync', args: ['--sorce', 'nvd'] });
    } finally {
      await boss.stop({ graceful: false, wait: true });
    }
    let status: { deadLetters: { reason: string }[]; workers: { jobsFailed: number }[] } = {
      deadLetters: [],
      workers: [],
    };
    await until('three dead letters', 60_000, async () => {
      const r = await runMamori(['worker', 'status', '--json', '--db', spec]);
      status = JSON.parse(r.stdout);
      return status.deadLetters.length >= 3;
    });
    const reasons = status.deadLetters.map((d) => d.reason).join('\n');
    expect(reasons).toMatch(/unknown job kind/);
    expect(reasons).toMatch(/--db is set by the worker/);
    expect(reasons).toMatch(/exit 2: .*--sorce/);
    expect(status.deadLetters).toHaveLength(3);
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    running.splice(0);
    // The payload's --db never reached a store.
    const after = JSON.parse(
      (await runMamori(['worker', 'status', '--json', '--db', spec])).stdout,
    );
    expect(after.workers[0].jobsFailed).toBe(3);
  });
});
