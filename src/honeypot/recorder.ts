/**
 * Durable recording with group commit. `record(event)` resolves only after the event is in a
 * committed store transaction AND appended to the JSON-lines log; the services answer the
 * attacker only after that, so "acknowledged" means "durable": a response the attacker saw
 * implies its event (and, the queue being FIFO, every earlier event) survives a SIGKILL.
 * Events queued together are committed in one transaction (one batch per turn of the loop).
 * Not the report: see store.ts.
 */

import { mkdirSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MamoriError } from '../shared/errors.js';
import type { Store } from '../storage/index.js';
import type { HoneypotEvent } from './core/events.js';

/** Where services send events. */
export interface EventSink {
  record(ev: HoneypotEvent): Promise<void>;
}

/** A sink that keeps nothing: the benchmark's base (the same server without recording). */
export const nullSink: EventSink = { record: async () => {} };

export interface RecorderOptions {
  store: Store;
  /** JSON-lines log appended beside the store; none when absent. */
  logPath?: string | undefined;
  /** Most events per transaction. */
  maxBatch?: number;
  /** Most events waiting; record() waits beyond this (back-pressure, never a drop). */
  maxQueue?: number;
  onError?: (err: unknown) => void;
}

interface Pending {
  ev: HoneypotEvent;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface RecorderStats {
  accepted: number;
  committed: number;
  failed: number;
  batches: number;
  queued: number;
}

/**
 * @example
 * const rec = await Recorder.open({ store, logPath: '/var/lib/mamori/honeypot.jsonl' });
 * await rec.record(event); // durable now
 * await rec.close();
 */
export class Recorder implements EventSink {
  readonly #store: Store;
  readonly #log: FileHandle | undefined;
  readonly #maxBatch: number;
  readonly #maxQueue: number;
  readonly #onError: ((err: unknown) => void) | undefined;
  #queue: Pending[] = [];
  #flushing: Promise<void> | undefined;
  #spaceWaiters: (() => void)[] = [];
  #closed = false;
  readonly stats: RecorderStats = { accepted: 0, committed: 0, failed: 0, batches: 0, queued: 0 };

  private constructor(opts: RecorderOptions, log: FileHandle | undefined) {
    this.#store = opts.store;
    this.#log = log;
    this.#maxBatch = opts.maxBatch ?? 500;
    this.#maxQueue = opts.maxQueue ?? 20_000;
    this.#onError = opts.onError;
  }

  static async open(opts: RecorderOptions): Promise<Recorder> {
    let log: FileHandle | undefined;
    if (opts.logPath) {
      try {
        mkdirSync(dirname(opts.logPath), { recursive: true });
        log = await open(opts.logPath, 'a');
      } catch (err) {
        throw new MamoriError('E_STORAGE', `cannot open the event log ${opts.logPath}`, {
          cause: err,
          hint: 'pass --log with a writable path',
        });
      }
    }
    return new Recorder(opts, log);
  }

  async record(ev: HoneypotEvent): Promise<void> {
    if (this.#closed) throw new MamoriError('E_STORAGE', 'the recorder is closed');
    while (this.#queue.length >= this.#maxQueue) {
      await new Promise<void>((r) => this.#spaceWaiters.push(r));
    }
    this.stats.accepted++;
    const done = new Promise<void>((resolve, reject) => {
      this.#queue.push({ ev, resolve, reject });
    });
    this.stats.queued = this.#queue.length;
    if (!this.#flushing) this.#flushing = this.#flushLoop();
    return done;
  }

  async #flushLoop(): Promise<void> {
    // Let the current turn of the event loop queue what it will, then commit it together.
    await new Promise<void>((r) => setImmediate(r));
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#maxBatch);
        this.stats.queued = this.#queue.length;
        for (const w of this.#spaceWaiters.splice(0)) w();
        try {
          await this.#commit(batch.map((p) => p.ev));
          this.stats.committed += batch.length;
          this.stats.batches++;
          for (const p of batch) p.resolve();
        } catch (err) {
          this.stats.failed += batch.length;
          this.#onError?.(err);
          const e = new MamoriError('E_STORAGE', 'could not record honeypot events', {
            cause: err,
          });
          for (const p of batch) p.reject(e);
        }
      }
    } finally {
      this.#flushing = undefined;
      if (this.#queue.length > 0) this.#flushing = this.#flushLoop();
    }
  }

  async #commit(events: HoneypotEvent[]): Promise<void> {
    const rows = events.map((e) => ({
      time: e.time,
      eventid: e.eventid,
      session: e.session,
      protocol: e.protocol,
      src_ip: e.srcIp,
      src_port: e.srcPort,
      dst_port: e.dstPort,
      username: e.username ?? null,
      password: e.password ?? null,
      summary: JSON.stringify(e.summary),
    }));
    await this.#store.db.transaction().execute(async (trx) => {
      for (let i = 0; i < rows.length; i += 250) {
        await trx
          .insertInto('honeypot_event')
          .values(rows.slice(i, i + 250))
          .execute();
      }
    });
    if (this.#log) {
      const text = events.map((e) => JSON.stringify(e)).join('\n');
      await this.#log.write(`${text}\n`);
    }
  }

  /** Wait until everything queued so far is committed. */
  async flush(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    await this.#log?.close();
  }
}
