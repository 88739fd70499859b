/**
 * What the console shows about the workers: who is alive, jobs done and failed, each queue's
 * depth and the newest dead letters — the figures `mamori worker status` prints, read through the
 * store's own connection (pg-boss's tables, read only) so a page view starts no queue client.
 */
import { sql } from 'kysely';
import type { Store } from '../storage/index.js';
import { QUEUES } from './core/payload.js';
import { DEAD_LETTER } from './queue.js';
import { listWorkers, type WorkerInfo } from './workers.js';

export interface WorkerStatus {
  backend: Store['backend'];
  /** Why there is nothing to show, when there is not (SQLite, or no queue made yet). */
  note: string | null;
  workers: WorkerInfo[];
  queues: { queue: string; queued: number; total: number }[];
  deadLetters: { id: string; createdOn: string; reason: string }[];
}

/**
 * @example const s = await workerStatus(store); s.workers.filter((w) => w.alive).length
 */
export async function workerStatus(store: Store, nowMs = Date.now()): Promise<WorkerStatus> {
  if (store.backend !== 'postgres')
    return {
      backend: store.backend,
      note: 'workers need a PostgreSQL store; this one is SQLite',
      workers: [],
      queues: [],
      deadLetters: [],
    };
  const workers = await listWorkers(store, nowMs);
  const exists = await sql<{
    t: string | null;
  }>`select to_regclass('pgboss.job')::text as t`.execute(store.db);
  if (!exists.rows[0]?.t)
    return {
      backend: store.backend,
      note: 'no job queue yet: it is made when the first worker starts',
      workers,
      queues: [],
      deadLetters: [],
    };
  const names = [...QUEUES, 'dead'].map((q) => `mamori-${q}`);
  const counts = await sql<{ name: string; queued: string; total: string }>`
    select name,
      count(*) filter (where state < 'active') as queued,
      count(*) filter (where state < 'completed') as total
    from pgboss.job where name in (${sql.join(names)}) group by name`.execute(store.db);
  const byName = new Map(counts.rows.map((r) => [r.name, r]));
  const queues = names.map((name) => ({
    queue: name.slice('mamori-'.length),
    queued: Number(byName.get(name)?.queued ?? 0),
    total: Number(byName.get(name)?.total ?? 0),
  }));
  const dead = await sql<{ id: string; created_on: Date; data: Record<string, unknown> | null }>`
    select id, created_on, data from pgboss.job where name = ${DEAD_LETTER}
    union all select id, created_on, data from pgboss.archive where name = ${DEAD_LETTER}
    order by created_on desc limit 20`.execute(store.db);
  return {
    backend: store.backend,
    note: null,
    workers,
    queues,
    deadLetters: dead.rows.map((r) => ({
      id: String(r.id),
      createdOn: new Date(r.created_on).toISOString(),
      reason: String(r.data?.reason ?? 'retries exhausted'),
    })),
  };
}
