/**
 * Workers' heartbeats in the store: who is alive, what it serves, how many jobs it did. A worker
 * not seen for three beats is reported as gone; nothing here stops or restarts one.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Store } from '../storage/index.js';

export const BEAT_SECONDS = 5;

export interface WorkerInfo {
  id: string;
  host: string;
  pid: number;
  queues: string[];
  startedAt: string;
  lastSeen: string;
  stoppedAt: string | null;
  alive: boolean;
  jobsDone: number;
  jobsFailed: number;
}

export async function registerWorker(store: Store, queues: readonly string[]): Promise<string> {
  const id = `${hostname()}-${process.pid}-${randomUUID().slice(0, 6)}`;
  const now = new Date().toISOString();
  await store.db
    .insertInto('jobs_worker')
    .values({
      id,
      host: hostname(),
      pid: process.pid,
      queues: queues.join(','),
      started_at: now,
      last_seen: now,
      stopped_at: null,
      jobs_done: 0,
      jobs_failed: 0,
    })
    .execute();
  return id;
}

export async function beat(
  store: Store,
  id: string,
  counts: { done: number; failed: number },
  stopped = false,
): Promise<void> {
  const now = new Date().toISOString();
  await store.db
    .updateTable('jobs_worker')
    .set({
      last_seen: now,
      jobs_done: counts.done,
      jobs_failed: counts.failed,
      ...(stopped ? { stopped_at: now } : {}),
    })
    .where('id', '=', id)
    .execute();
}

/** Workers seen in the last day, newest first. */
export async function listWorkers(store: Store, nowMs = Date.now()): Promise<WorkerInfo[]> {
  const since = new Date(nowMs - 86_400_000).toISOString();
  const rows = await store.db
    .selectFrom('jobs_worker')
    .selectAll()
    .where('last_seen', '>=', since)
    .orderBy('started_at', 'desc')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    host: r.host,
    pid: Number(r.pid),
    queues: r.queues.split(','),
    startedAt: r.started_at,
    lastSeen: r.last_seen,
    stoppedAt: r.stopped_at,
    alive: r.stopped_at === null && nowMs - Date.parse(r.last_seen) < 3 * BEAT_SECONDS * 1000,
    jobsDone: Number(r.jobs_done),
    jobsFailed: Number(r.jobs_failed),
  }));
}
