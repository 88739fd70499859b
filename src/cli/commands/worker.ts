/**
 * `mamori worker`: run jobs from the shared PostgreSQL store (scheduled syncs and fetches),
 * until SIGINT/SIGTERM; `mamori worker status`: workers, queue depth, dead letters.
 * A job is an allow-listed verb run in process through runCli, exactly as typed at a shell.
 */
import { sleep } from '../../shared/clock.js';
import { MamoriError } from '../../shared/errors.js';
import { formatTable } from '../../shared/text.js';
import type { AreaSpec, CommandContext, Io } from '../types.js';

function parseQueues(text: string | undefined, all: readonly string[]): string[] {
  if (text === undefined) return [...all];
  const qs = text
    .split(',')
    .map((q) => q.trim())
    .filter(Boolean);
  const bad = qs.find((q) => !all.includes(q));
  if (bad || qs.length === 0)
    throw new MamoriError('E_USAGE', `--queues: unknown queue '${bad ?? ''}'`, {
      hint: `one or more of ${all.join(',')}`,
    });
  return qs;
}

function parseConcurrency(text: string | undefined): number {
  const n = Number(text ?? '1');
  if (!Number.isInteger(n) || n < 1 || n > 32)
    throw new MamoriError('E_USAGE', '--concurrency must be an integer from 1 to 32');
  return n;
}

/** Run one job's verb in process, its output captured. */
async function runJobVerb(ctx: CommandContext, argv: string[], signal: AbortSignal) {
  const { runCli } = await import('../main.js');
  let output = '';
  let stdout = '';
  const io: Io = {
    stdout: (s) => {
      output += s;
      stdout += s;
    },
    stderr: (s) => {
      output += s;
    },
    stdoutIsTTY: false,
    stderrIsTTY: false,
    env: ctx.io.env,
  };
  // The job's verb uses the worker's open store (same --db): no pool, connection and schema
  // check per job, which was a fixed cost of every shard of a distributed scan.
  const exitCode = await runCli([...argv, '--db', ctx.dbSpec(), '--json', '--quiet'], {
    io,
    signal,
    store: await ctx.store(),
  });
  let result: unknown;
  try {
    result = stdout.trim() ? JSON.parse(stdout) : undefined;
  } catch {
    result = undefined;
  }
  return { exitCode, output, result };
}

export const area: AreaSpec = {
  name: 'worker',
  summary: 'run scheduled and queued jobs (syncs, fetches) from a shared PostgreSQL store',
  verbs: {
    status: {
      summary: 'workers seen in the last day, queue depth per queue, and dead letters',
      usage: 'mamori worker status [--json]',
      examples: ['mamori worker status --db postgres://mamori@db/mamori'],
      async run(ctx) {
        const jobs = await import('../../jobs/index.js');
        const store = await ctx.store();
        jobs.requirePostgres(store, 'mamori worker status');
        const queue = await jobs.openQueue(ctx.dbSpec());
        try {
          const workers = await jobs.listWorkers(store);
          const depth = await queue.depth();
          const dead = await queue.deadLetters(20);
          ctx.print({ workers, queues: depth, deadLetters: dead }, () =>
            [
              formatTable(
                ['worker', 'alive', 'queues', 'done', 'failed', 'last seen'],
                workers.map((w) => [
                  w.id,
                  w.alive ? 'yes' : 'no',
                  w.queues.join(','),
                  w.jobsDone,
                  w.jobsFailed,
                  w.lastSeen,
                ]),
              ),
              '',
              formatTable(
                ['queue', 'waiting', 'waiting or running'],
                Object.entries(depth).map(([q, d]) => [q, d.queued, d.total]),
              ),
              dead.length ? `\n${dead.length} dead letter(s); newest: ${dead[0]!.reason}` : '',
            ].join('\n'),
          );
        } finally {
          await queue.stop();
        }
        return 0;
      },
    },
  },
  defaultVerb: {
    summary: 'serve the job queues until SIGINT/SIGTERM (needs a PostgreSQL store)',
    usage: 'mamori worker [--queues sync,fetch,scan,audit] [--concurrency <n>]',
    examples: [
      'mamori worker --db postgres://mamori@db/mamori',
      'mamori worker --queues sync --concurrency 2',
    ],
    options: {
      queues: { type: 'string', value: '<list>', description: 'queues to serve (default all)' },
      concurrency: {
        type: 'string',
        value: '<n>',
        description: 'jobs at a time per queue (default 1)',
      },
    },
    async run(ctx, { values }) {
      const jobs = await import('../../jobs/index.js');
      const queues = parseQueues(values.queues as string | undefined, jobs.QUEUES);
      const concurrency = parseConcurrency(values.concurrency as string | undefined);
      const store = await ctx.store();
      jobs.requirePostgres(store, 'mamori worker');
      const queue = await jobs.openQueue(ctx.dbSpec());
      const id = await jobs.registerWorker(store, queues);
      const counts = { done: 0, failed: 0 };
      const say = (event: Record<string, unknown>, text: string) => {
        if (ctx.json)
          ctx.io.stdout(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
        else if (!ctx.quiet) ctx.io.stderr(`mamori worker: ${text}\n`);
      };
      say({ event: 'started', worker: id, queues }, `${id} serving ${queues.join(',')}`);
      await queue.work(
        queues as (typeof jobs.QUEUES)[number][],
        concurrency,
        async (payload, job) => {
          const argv = [...jobs.JOB_KINDS[payload.kind].argv, ...payload.args];
          say(
            { event: 'job.start', job: job.id, kind: payload.kind, args: payload.args },
            `job ${job.id} ${payload.kind} started`,
          );
          const outcome = await runJobVerb(ctx, argv, ctx.signal);
          say(
            {
              event: 'job.end',
              job: job.id,
              kind: payload.kind,
              exitCode: outcome.exitCode,
              schedule: payload.schedule ?? null,
            },
            `job ${job.id} ${payload.kind} exit ${outcome.exitCode}`,
          );
          return outcome;
        },
        {
          done(ok) {
            if (ok) counts.done++;
            else counts.failed++;
          },
        },
      );
      const tick = async () => {
        const r = await jobs.tickSchedules(store, id, (p) => queue.enqueue(p), Date.now());
        for (const c of r.claimed)
          say({ event: 'schedule.claimed', ...c }, `schedule ${c.schedule} slot ${c.slot} queued`);
      };
      let lastBeat = 0;
      let failures = 0;
      while (!ctx.signal.aborted) {
        try {
          await tick();
          if (Date.now() - lastBeat >= jobs.BEAT_SECONDS * 1000) {
            await jobs.beat(store, id, counts);
            lastBeat = Date.now();
          }
          failures = 0;
        } catch (err) {
          failures++;
          say({ event: 'error', message: (err as Error).message }, (err as Error).message);
          if (failures >= 30) {
            await queue.stop().catch(() => {});
            throw new MamoriError('E_STORAGE', 'the store has been unreachable for 30 ticks', {
              cause: err,
            });
          }
        }
        await sleep(1000, ctx.signal);
      }
      await queue.stop();
      await jobs.beat(store, id, counts, true);
      say({ event: 'stopped', worker: id, ...counts }, `${id} stopped`);
      return 0;
    },
  },
};
