/**
 * Durable recording with group commit. `record(event)` resolves only after the event is in a
 * committed store transaction AND appended to the JSON-lines log; the services answer the
 * attacker only after that, so "acknowledged" means "durable": a response the attacker saw
 * implies its event (and, the queue being FIFO, every earlier event) survives a SIGKILL.
 * Events queued together are committed in one transaction (one batch per turn of the loop); on
 * an embedded SQLite file the transaction runs on a writer thread (writer.ts), so events keep
 * arriving while a batch commits and join the next one.
 * Not the report: see store.ts.
 */

import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { CompiledQuery } from 'kysely';
import { MamoriError } from '../shared/errors.js';
import type { Store } from '../storage/index.js';
import type { HoneypotEvent } from './core/events.js';
import { SqliteWriter, type WriterChunk } from './writer.js';

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
  /**
   * Commit on a writer thread with its own connection (embedded SQLite file stores; default
   * true). False commits on the event loop's thread, as PostgreSQL and ':memory:' always do.
   */
  writerThread?: boolean;
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
  /** Where commit time went, in ms summed over batches (the benchmark prints them). */
  serialiseMs: number;
  /** Store transaction and log append run side by side; this is their joint wall time. */
  writeMs: number;
  storeMs: number;
  logMs: number;
}

const COLUMNS = [
  'time',
  'eventid',
  'session',
  'protocol',
  'src_ip',
  'src_port',
  'dst_port',
  'username',
  'password',
  'summary',
] as const;
/** Rows per INSERT statement (10 parameters each: well under SQLite's 32,766 and pg's 65,535). */
const ROWS_PER_INSERT = 250;

/**
 * @example
 * const rec = await Recorder.open({ store, logPath: '/var/lib/mamori/honeypot.jsonl' });
 * await rec.record(event); // durable now
 * await rec.close();
 */
export class Recorder implements EventSink {
  readonly #store: Store;
  /** The log's descriptor: appended with write(2) directly, see #commit. */
  readonly #log: number | undefined;
  readonly #maxBatch: number;
  readonly #maxQueue: number;
  readonly #onError: ((err: unknown) => void) | undefined;
  readonly #writer: SqliteWriter | undefined;
  #queue: Pending[] = [];
  #flushing: Promise<void> | undefined;
  #spaceWaiters: (() => void)[] = [];
  #closed = false;
  readonly stats: RecorderStats = {
    accepted: 0,
    committed: 0,
    failed: 0,
    batches: 0,
    queued: 0,
    serialiseMs: 0,
    writeMs: 0,
    storeMs: 0,
    logMs: 0,
  };
  /** INSERT text per row count, compiled once by Kysely for this store's dialect. */
  readonly #insertSql = new Map<number, string>();

  private constructor(
    opts: RecorderOptions,
    log: number | undefined,
    writer: SqliteWriter | undefined,
  ) {
    this.#store = opts.store;
    this.#log = log;
    this.#writer = writer;
    this.#maxBatch = opts.maxBatch ?? 500;
    this.#maxQueue = opts.maxQueue ?? 20_000;
    this.#onError = opts.onError;
  }

  static async open(opts: RecorderOptions): Promise<Recorder> {
    let log: number | undefined;
    if (opts.logPath) {
      try {
        mkdirSync(dirname(opts.logPath), { recursive: true });
        log = openSync(opts.logPath, 'a');
      } catch (err) {
        throw new MamoriError('E_STORAGE', `cannot open the event log ${opts.logPath}`, {
          cause: err,
          hint: 'pass --log with a writable path',
        });
      }
    }
    const file = opts.store.backend === 'sqlite' && opts.store.display !== ':memory:';
    const writer =
      file && (opts.writerThread ?? true) ? SqliteWriter.start(opts.store.display, log) : undefined;
    return new Recorder(opts, log, writer);
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

  /**
   * One batch: each event's summary is serialised once (the store's column and the log line
   * share it); the INSERT text is compiled once per row count and reused, so no query is built
   * per batch; the store transaction and the log append run side by side, and the batch is
   * acknowledged only when both are done.
   */
  async #commit(events: HoneypotEvent[]): Promise<void> {
    const t0 = performance.now();
    const params: (string | number | null)[] = [];
    const lines: string[] = [];
    for (const e of events) {
      const summary = JSON.stringify(e.summary);
      params.push(
        e.time,
        e.eventid,
        e.session,
        e.protocol,
        e.srcIp,
        e.srcPort,
        e.dstPort,
        e.username ?? null,
        e.password ?? null,
        summary,
      );
      if (this.#log !== undefined) {
        const { summary: _, ...head } = e;
        lines.push(`${JSON.stringify(head).slice(0, -1)},"summary":${summary}}`);
      }
    }
    const t1 = performance.now();
    this.stats.serialiseMs += t1 - t0;
    if (this.#writer && !this.#writer.dead) {
      // off the event loop: the writer thread commits, then appends the log, then answers
      const chunks: WriterChunk[] = [];
      for (let i = 0; i < events.length; i += ROWS_PER_INSERT) {
        const n = Math.min(ROWS_PER_INSERT, events.length - i);
        chunks.push({
          sql: this.#insertText(n),
          params: params.slice(i * COLUMNS.length, (i + n) * COLUMNS.length),
        });
      }
      const r = await this.#writer.write(
        chunks,
        this.#log === undefined ? undefined : `${lines.join('\n')}\n`,
      );
      this.stats.storeMs += r.storeMs;
      this.stats.logMs += r.logMs;
      this.stats.writeMs += performance.now() - t1;
      return;
    }
    const store = (async () => {
      await this.#store.db.transaction().execute(async (trx) => {
        for (let i = 0; i < events.length; i += ROWS_PER_INSERT) {
          const n = Math.min(ROWS_PER_INSERT, events.length - i);
          const slice = params.slice(i * COLUMNS.length, (i + n) * COLUMNS.length);
          await trx.executeQuery(CompiledQuery.raw(this.#insertText(n), slice));
        }
      });
      this.stats.storeMs += performance.now() - t1;
    })();
    // The log is appended with one synchronous write(2) into the page cache (as durable as
    // the store's WAL commit at synchronous=NORMAL): measured, the async FileHandle.write's
    // round trip through libuv's thread pool took twice the store's whole transaction.
    const log = (async () => {
      if (this.#log === undefined) return;
      const t = performance.now();
      const text = Buffer.from(`${lines.join('\n')}\n`);
      for (let off = 0; off < text.length; )
        off += writeSync(this.#log, text, off, text.length - off);
      this.stats.logMs += performance.now() - t;
    })();
    // Both must finish (or fail) before the batch is answered either way.
    const [s, l] = await Promise.allSettled([store, log]);
    this.stats.writeMs += performance.now() - t1;
    if (s.status === 'rejected') throw s.reason;
    if (l.status === 'rejected') throw l.reason;
  }

  #insertText(rows: number): string {
    let text = this.#insertSql.get(rows);
    if (text === undefined) {
      const blank = Object.fromEntries(COLUMNS.map((c) => [c, c === 'summary' ? '' : null]));
      text = this.#store.db
        .insertInto('honeypot_event')
        .values(Array.from({ length: rows }, () => ({ ...blank }) as never))
        .compile().sql;
      this.#insertSql.set(rows, text);
    }
    return text;
  }

  /** Whether batches are committed on the writer thread (an embedded SQLite file store). */
  get onWriterThread(): boolean {
    return this.#writer !== undefined && !this.#writer.dead;
  }

  /** Wait until everything queued so far is committed. */
  async flush(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    await this.#writer?.stop();
    if (this.#log !== undefined) closeSync(this.#log);
  }
}
