/**
 * The worker thread behind a large API inventory check (check-request.ts): it opens its own
 * connection to the store, checks, records the run and posts the response's JSON back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { DbTarget } from '../storage/index.js';
import { type CheckRequest, workerCheck } from './check-request.js';

const { target, req } = workerData as { target: DbTarget; req: CheckRequest };
parentPort?.postMessage(await workerCheck(target, req));
