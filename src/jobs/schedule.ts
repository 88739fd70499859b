/**
 * Recurring jobs (`mamori schedule add vuln-sync --every 6h …`). Every worker ticks; for each
 * schedule whose current slot has no run yet, it tries to insert (schedule, slot) and only the
 * worker whose insert lands enqueues the job. The primary key makes "once per period" hold
 * with any number of workers, and a worker that dies after claiming loses at most that slot.
 */
import { randomUUID } from 'node:crypto';
import { MamoriError } from '../shared/errors.js';
import type { Store } from '../storage/index.js';
import { slotOf } from './core/every.js';
import { type JobKind, type JobPayload, validatePayload } from './core/payload.js';

export interface Schedule {
  id: string;
  kind: JobKind;
  everySeconds: number;
  args: string[];
  createdAt: string;
}

/** Schedules run on workers, which share PostgreSQL; refuse them on an embedded store. */
export function requirePostgres(store: Store, what: string): void {
  if (store.backend !== 'postgres') {
    throw new MamoriError('E_USAGE', `${what} needs a PostgreSQL store`, {
      hint: 'workers share one PostgreSQL: give --db postgres://… (or MAMORI_DB); SQLite stays the single-machine default',
    });
  }
}

/** @example await addSchedule(store, { kind: 'vuln-sync', everySeconds: 21600, args: ['--source', 'nvd'] }) */
export async function addSchedule(
  store: Store,
  input: { kind: JobKind; everySeconds: number; args: string[] },
  now: () => Date = () => new Date(),
): Promise<Schedule> {
  requirePostgres(store, 'a schedule');
  const p = validatePayload({ kind: input.kind, args: input.args });
  const row = {
    id: randomUUID().slice(0, 8),
    kind: p.kind,
    every_seconds: input.everySeconds,
    args: JSON.stringify(p.args),
    created_at: now().toISOString(),
  };
  await store.db.insertInto('jobs_schedule').values(row).execute();
  return toSchedule(row);
}

export async function listSchedules(store: Store): Promise<Schedule[]> {
  const rows = await store.db
    .selectFrom('jobs_schedule')
    .selectAll()
    .orderBy('created_at')
    .execute();
  return rows.map(toSchedule);
}

/** @returns whether a schedule with that id existed. */
export async function removeSchedule(store: Store, id: string): Promise<boolean> {
  return store.db.transaction().execute(async (trx) => {
    const r = await trx.deleteFrom('jobs_schedule').where('id', '=', id).executeTakeFirst();
    await trx.deleteFrom('jobs_schedule_run').where('schedule_id', '=', id).execute();
    return Number(r.numDeletedRows) > 0;
  });
}

/**
 * Claim the current slot of every schedule that has no run in it yet, and enqueue each claimed
 * run. A schedule whose stored payload no longer validates is skipped (and reported).
 */
export async function tickSchedules(
  store: Store,
  worker: string,
  enqueue: (p: JobPayload) => Promise<string | null>,
  nowMs: number,
): Promise<{
  claimed: { schedule: string; slot: number; jobId: string | null }[];
  invalid: string[];
}> {
  const claimed: { schedule: string; slot: number; jobId: string | null }[] = [];
  const invalid: string[] = [];
  for (const s of await listSchedulesRaw(store)) {
    const slot = slotOf(nowMs, s.every_seconds);
    let payload: JobPayload;
    try {
      payload = validatePayload({ kind: s.kind, args: JSON.parse(s.args), schedule: s.id });
    } catch {
      invalid.push(s.id);
      continue;
    }
    const r = await store.db
      .insertInto('jobs_schedule_run')
      .values({
        schedule_id: s.id,
        slot,
        claimed_by: worker,
        claimed_at: new Date(nowMs).toISOString(),
        job_id: null,
      })
      .onConflict((oc) => oc.columns(['schedule_id', 'slot']).doNothing())
      .executeTakeFirst();
    if (Number(r.numInsertedOrUpdatedRows ?? 0) === 0) continue;
    const jobId = await enqueue(payload);
    await store.db
      .updateTable('jobs_schedule_run')
      .set({ job_id: jobId })
      .where('schedule_id', '=', s.id)
      .where('slot', '=', slot)
      .execute();
    claimed.push({ schedule: s.id, slot, jobId });
  }
  return { claimed, invalid };
}

/** Runs claimed for a schedule, newest first. */
export async function scheduleRuns(store: Store, id: string, limit = 100) {
  const rows = await store.db
    .selectFrom('jobs_schedule_run')
    .selectAll()
    .where('schedule_id', '=', id)
    .orderBy('slot', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    slot: Number(r.slot),
    claimedBy: r.claimed_by,
    claimedAt: r.claimed_at,
    jobId: r.job_id,
  }));
}

function listSchedulesRaw(store: Store) {
  return store.db.selectFrom('jobs_schedule').selectAll().execute();
}

function toSchedule(r: {
  id: string;
  kind: string;
  every_seconds: number;
  args: string;
  created_at: string;
}): Schedule {
  return {
    id: r.id,
    kind: r.kind as JobKind,
    everySeconds: Number(r.every_seconds),
    args: JSON.parse(r.args) as string[],
    createdAt: r.created_at,
  };
}
