/**
 * The job queue: pg-boss over the shared PostgreSQL store (its own `pgboss` schema beside
 * Mamori's tables). Each Mamori queue is a pg-boss queue with the `singleton` policy keyed by
 * what a job does, so two workers never run the same sync at once while different syncs still
 * run side by side. Jobs that fail are retried, then moved to the dead-letter queue; a job
 * whose payload fails validation goes there at once. Not a scheduler: see schedule.ts.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import PgBoss from 'pg-boss';
import { MamoriError } from '../shared/errors.js';
import {
  JOB_KINDS,
  type JobPayload,
  QUEUES,
  type QueueName,
  validatePayload,
} from './core/payload.js';

const PREFIX = 'mamori-';
export const DEAD_LETTER = `${PREFIX}dead`;

export interface EnqueueOptions {
  /** Seconds before a job that was started and not finished is retried elsewhere. */
  expireInSeconds?: number;
  retryLimit?: number;
}

export interface JobOutcome {
  /** The verb's exit code. */
  exitCode: number;
  output?: string;
  /** The verb's JSON result, kept as the job's output for whoever queued it. */
  result?: unknown;
}

export interface JobState {
  /** pg-boss's state: created, retry, active, completed, cancelled, failed. */
  state: string;
  retryCount: number;
  output: unknown;
}

export type JobHandler = (payload: JobPayload, job: { id: string }) => Promise<JobOutcome>;

export interface DeadLetter {
  id: string;
  createdOn: string;
  data: unknown;
  reason: string;
}

export interface JobQueue {
  enqueue(payload: JobPayload, options?: EnqueueOptions): Promise<string | null>;
  /** Serve queues until `stop()`: `concurrency` jobs at a time per queue. */
  work(
    queues: readonly QueueName[],
    concurrency: number,
    handler: JobHandler,
    events?: { done?(ok: boolean): void },
  ): Promise<void>;
  /** Jobs waiting or running, per queue. */
  depth(): Promise<Record<string, { queued: number; total: number }>>;
  /** A job's state and output, or undefined when it is unknown (or archived and purged). */
  state(kind: JobPayload['kind'], id: string): Promise<JobState | undefined>;
  deadLetters(limit?: number): Promise<DeadLetter[]>;
  stop(): Promise<void>;
}

/** The singleton key of a payload: one running job per distinct verb and arguments. */
export function jobKey(p: JobPayload): string {
  return createHash('sha256')
    .update(JSON.stringify([p.kind, p.args]))
    .digest('hex')
    .slice(0, 32);
}

/**
 * Connect to the queue in a PostgreSQL store (installs pg-boss's schema on first use).
 * @example const q = await openQueue(url); await q.enqueue({ kind: 'vuln-sync', args: [] });
 */
export async function openQueue(url: string): Promise<JobQueue> {
  const boss = new PgBoss({
    connectionString: url,
    application_name: 'mamori-jobs',
    max: 4,
    // Scheduling is Mamori's (schedule.ts): pg-boss's cron needs whole minutes.
    schedule: false,
    supervise: true,
    // Expired leases (a worker killed mid-job) are found by maintenance: look often.
    maintenanceIntervalSeconds: 5,
  });
  boss.on('error', () => {
    // Connection errors surface through the calls that hit them; maintenance errors are retried.
  });
  try {
    await boss.start();
  } catch (err) {
    throw new MamoriError('E_STORAGE', `the job queue could not start: ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    await withSetupLock(url, async () => {
      if (!(await boss.getQueue(DEAD_LETTER)))
        await boss.createQueue(DEAD_LETTER, { name: DEAD_LETTER, policy: 'standard' });
      for (const q of QUEUES) {
        const name = PREFIX + q;
        if (!(await boss.getQueue(name)))
          await boss.createQueue(name, {
            name,
            policy: 'singleton',
            deadLetter: DEAD_LETTER,
            retryLimit: 2,
            retryDelay: 1,
            expireInSeconds: 6 * 3600,
          });
      }
    });
  } catch (err) {
    await boss.stop({ graceful: false, wait: true }).catch(() => {});
    throw new MamoriError(
      'E_STORAGE',
      `the job queues could not be set up: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  const workers: string[] = [];
  return {
    async enqueue(payload, options = {}) {
      const p = validatePayload(payload);
      return boss.send(PREFIX + JOB_KINDS[p.kind].queue, p, {
        singletonKey: jobKey(p),
        ...(options.expireInSeconds ? { expireInSeconds: options.expireInSeconds } : {}),
        ...(options.retryLimit !== undefined ? { retryLimit: options.retryLimit } : {}),
      });
    },
    async work(queues, concurrency, handler, events) {
      for (const q of queues) {
        for (let i = 0; i < concurrency; i++) {
          const me = { id: '' };
          const id = await boss.work<unknown>(
            PREFIX + q,
            { batchSize: 1, pollingIntervalSeconds: 0.5 },
            async ([job]) => {
              if (!job) return;
              // A worker that just had a job fetches the next one at once, not after the polling
              // interval: 256-address shards take less than the interval, and waiting out the
              // rest of it after each was most of a distributed scan's time.
              if (me.id) boss.notifyWorker(me.id);
              let payload: JobPayload;
              try {
                payload = validatePayload(job.data);
              } catch (err) {
                // A payload that fails validation will fail again: dead-letter it now.
                await boss.send(DEAD_LETTER, {
                  queue: q,
                  jobId: job.id,
                  data: job.data,
                  reason: (err as Error).message,
                });
                events?.done?.(false);
                return { refused: (err as Error).message };
              }
              const outcome = await handler(payload, { id: job.id }).catch((err: unknown) => {
                events?.done?.(false);
                throw err;
              });
              if (outcome.exitCode === 2) {
                // Usage or bad input fails the same way every time: dead-letter, no retries.
                await boss.send(DEAD_LETTER, {
                  queue: q,
                  jobId: job.id,
                  data: payload,
                  reason: `exit 2: ${lastLine(outcome.output)}`,
                });
                events?.done?.(false);
                return { refused: 'exit 2' };
              }
              if (outcome.exitCode !== 0 && outcome.exitCode !== 1) {
                events?.done?.(false);
                // A dependency down (exit 3) may pass later: pg-boss retries, then dead-letters.
                throw new Error(`exit ${outcome.exitCode}: ${lastLine(outcome.output)}`);
              }
              events?.done?.(true);
              return { exitCode: outcome.exitCode, result: outcome.result ?? null };
            },
          );
          me.id = id;
          workers.push(id);
        }
      }
    },
    async depth() {
      const out: Record<string, { queued: number; total: number }> = {};
      for (const q of [...QUEUES, 'dead'] as const) {
        const name = PREFIX + q;
        out[q] = {
          queued: await boss.getQueueSize(name),
          total: await boss.getQueueSize(name, { before: 'completed' }),
        };
      }
      return out;
    },
    async state(kind, id) {
      const job = await boss.getJobById<unknown>(PREFIX + JOB_KINDS[kind].queue, id, {
        includeArchive: true,
      });
      if (!job) return undefined;
      return { state: job.state, retryCount: job.retryCount, output: job.output ?? null };
    },
    async deadLetters(limit = 50) {
      const r = await boss.getDb().executeSql(
        `SELECT id, created_on, data FROM pgboss.job WHERE name = $1
           UNION ALL SELECT id, created_on, data FROM pgboss.archive WHERE name = $1
           ORDER BY created_on DESC LIMIT $2`,
        [DEAD_LETTER, limit],
      );
      return r.rows.map((row: { id: string; created_on: Date; data: Record<string, unknown> }) => ({
        id: row.id,
        createdOn: new Date(row.created_on).toISOString(),
        data: row.data,
        reason: String(row.data?.reason ?? 'retries exhausted'),
      }));
    },
    async stop() {
      for (const id of workers.splice(0)) await boss.offWork({ id }).catch(() => {});
      await boss.stop({ graceful: true, wait: true, timeout: 10_000 });
    },
  };
}

/** The last non-empty line of a job's output, for a dead letter's reason. */
function lastLine(output: string | undefined): string {
  const lines = (output ?? '').trim().split('\n');
  return (lines[lines.length - 1] ?? '').slice(0, 500);
}

/** An arbitrary constant: the advisory lock that serialises queue set-up across workers. */
const SETUP_LOCK = 0x6d616d6f;

/**
 * Run `fn` holding a PostgreSQL advisory lock: workers starting together on a new store would
 * otherwise create the same pg-boss queue at once and deadlock.
 */
async function withSetupLock(url: string, fn: () => Promise<void>): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [SETUP_LOCK]);
    try {
      await fn();
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [SETUP_LOCK]);
    }
  } finally {
    await client.end();
  }
}
