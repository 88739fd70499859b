/**
 * The jobs area's public surface: a job queue on the shared PostgreSQL store (pg-boss), the
 * recurring schedules that feed it, and the workers' heartbeats. The CLI's `worker` and
 * `schedule` verbs and the console import only this file.
 */
export { formatEvery, parseEvery, slotOf } from './core/every.js';
export {
  isJobKind,
  JOB_KINDS,
  type JobKind,
  type JobPayload,
  QUEUES,
  type QueueName,
  validatePayload,
} from './core/payload.js';
export {
  DEAD_LETTER,
  type DeadLetter,
  type JobHandler,
  type JobOutcome,
  type JobQueue,
  jobKey,
  openQueue,
} from './queue.js';
export {
  addSchedule,
  listSchedules,
  removeSchedule,
  requirePostgres,
  type Schedule,
  scheduleRuns,
  tickSchedules,
} from './schedule.js';
export { type WorkerStatus, workerStatus } from './status.js';
export { BEAT_SECONDS, beat, listWorkers, registerWorker, type WorkerInfo } from './workers.js';
