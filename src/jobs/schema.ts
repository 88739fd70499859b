/**
 * Row types of the jobs area's tables (prefixed `jobs_`), for Kysely. Types only; the tables
 * are created by `src/storage/migrations/jobs.ts`. The queue itself is pg-boss's own schema
 * (`pgboss`) in the same PostgreSQL database: these tables hold what Mamori adds around it.
 */
export interface JobsScheduleTable {
  id: string;
  /** A job kind, e.g. `vuln-sync`. */
  kind: string;
  every_seconds: number;
  /** JSON array of the verb's arguments. */
  args: string;
  created_at: string;
}

/** One row per (schedule, time slot) a worker claimed: the slot runs once, whoever claims it. */
export interface JobsScheduleRunTable {
  schedule_id: string;
  slot: number;
  claimed_by: string;
  claimed_at: string;
  job_id: string | null;
}

/** Workers' heartbeats, for `worker status` and the console. */
export interface JobsWorkerTable {
  id: string;
  host: string;
  pid: number;
  queues: string;
  started_at: string;
  last_seen: string;
  stopped_at: string | null;
  jobs_done: number;
  jobs_failed: number;
}

export interface JobsTables {
  jobs_schedule: JobsScheduleTable;
  jobs_schedule_run: JobsScheduleRunTable;
  jobs_worker: JobsWorkerTable;
}
