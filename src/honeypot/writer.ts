/**
 * The recorder's writer thread for an embedded SQLite store: its own better-sqlite3 connection
 * to the same file commits each batch (and appends the JSON-lines log) off the event loop, so the
 * services keep reading requests while a batch commits, and the next batch is the bigger for it.
 * The answer to each event still waits for this thread's reply, which comes only after the
 * transaction is committed (WAL, synchronous=NORMAL, as the main connection: survives a killed
 * process, like every store write Mamori makes) and the log line written.
 * Not for PostgreSQL (its driver is asynchronous already) nor ':memory:' (one connection only).
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** CommonJS, run with `eval`, so it works from the built code and under tsx alike. */
const WRITER = `
const { workerData, parentPort } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
const statements = new Map();
const statement = (text) => {
  let s = statements.get(text);
  if (!s) { s = db.prepare(text); statements.set(text, s); }
  return s;
};
const insert = db.transaction((chunks) => {
  for (const c of chunks) statement(c.sql).run(c.params);
});
parentPort.on('message', (m) => {
  try {
    const t0 = performance.now();
    insert(m.chunks);
    const t1 = performance.now();
    if (m.log !== undefined) {
      const text = Buffer.from(m.log);
      for (let off = 0; off < text.length; ) off += writeSync(workerData.logFd, text, off, text.length - off);
    }
    parentPort.postMessage({ id: m.id, storeMs: t1 - t0, logMs: performance.now() - t1 });
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: String((err && err.message) || err) });
  }
});
`;

export interface WriterChunk {
  sql: string;
  params: (string | number | null)[];
}

export interface WriterResult {
  storeMs: number;
  logMs: number;
}

/**
 * @example
 * const w = SqliteWriter.start('/var/lib/mamori/mamori.db', logFd);
 * await w?.write([{ sql, params }], 'line\n'); // committed and logged now
 */
export class SqliteWriter {
  readonly #worker: Worker;
  #nextId = 0;
  readonly #waiting = new Map<
    number,
    { resolve: (r: WriterResult) => void; reject: (e: Error) => void }
  >();
  #dead: Error | undefined;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (m: { id: number; error?: string } & WriterResult) => {
      const w = this.#waiting.get(m.id);
      this.#waiting.delete(m.id);
      if (m.error !== undefined) w?.reject(new Error(m.error));
      else w?.resolve(m);
    });
    const die = (err: Error) => {
      this.#dead ??= err;
      for (const w of this.#waiting.values()) w.reject(this.#dead);
      this.#waiting.clear();
    };
    worker.on('error', die);
    worker.on('exit', (code) => die(new Error(`the store writer thread exited (${code})`)));
    worker.unref();
  }

  /** A writer on `path`, or undefined when no thread can be started (the caller writes itself). */
  static start(path: string, logFd: number | undefined): SqliteWriter | undefined {
    try {
      return new SqliteWriter(
        new Worker(WRITER, {
          eval: true,
          workerData: {
            path,
            logFd,
            driver: createRequire(import.meta.url).resolve('better-sqlite3'),
          },
        }),
      );
    } catch {
      return undefined;
    }
  }

  /** Whether the thread has failed (then the caller writes in its own thread). */
  get dead(): boolean {
    return this.#dead !== undefined;
  }

  /** Commit `chunks` in one transaction, then append `log`; resolves after both. */
  write(chunks: WriterChunk[], log: string | undefined): Promise<WriterResult> {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#worker.postMessage({ id, chunks, log });
    });
  }

  async stop(): Promise<void> {
    await this.#worker.terminate();
  }
}
