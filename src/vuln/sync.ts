/**
 * `vuln sync` from files, directories, zips and URLs: entries are read and parsed (input.ts)
 * on a worker thread for large inputs, records prepared for the store (content hash, row
 * values), and upserted on this thread in batched transactions. Malformed records are
 * reported with file and position while good ones land. Idempotent: a re-run (or a resumed,
 * interrupted run) only rewrites records whose content changed.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { MamoriError } from '../shared/errors.js';
import type { Progress } from '../shared/progress.js';
import type { Store } from '../storage/index.js';
import type { Source } from './core/types.js';
import {
  type InputEntry,
  inputEntries,
  inputSize,
  type Parsed,
  parserFor,
  type SyncError,
  type WireItem,
  type WorkerMessage,
} from './input.js';
import { type PreparedRecord, prepareRecord } from './prepare.js';
import { type UpsertSummary, upsertBatch } from './store.js';

export {
  decodeUtf8,
  type InputEntry,
  inputEntries,
  type Parsed,
  parseOsvEntry,
  parserFor,
  recordsOf,
  type SyncError,
} from './input.js';

export interface SyncSummary extends UpsertSummary {
  source: Source;
  from: string;
  files: number;
  records: number;
  errors: SyncError[];
}

export interface SyncOptions {
  source: Source;
  from: string;
  batchSize?: number;
  progress?: Progress;
  fetchFn?: typeof fetch;
  signal?: AbortSignal;
  /** Skip records last modified before this ISO date (incremental imports from full mirrors). */
  since?: string;
  /** Parses one entry into records; defaults by source. */
  parse?: (entry: InputEntry) => Iterable<Parsed>;
  /**
   * Read and parse on a worker thread while this thread writes. Default: for URLs and for
   * local input of at least `PARSE_THREAD_MIN_BYTES` (a thread costs tens of milliseconds to
   * start). Never with a custom `parse` or `fetchFn`: functions cannot cross threads.
   */
  parseThread?: boolean;
}

/** Local input below this size is parsed on the writing thread. */
export const PARSE_THREAD_MIN_BYTES = 4 << 20;

interface Chunk {
  /** Input entries finished with this chunk. */
  files: number;
  items: WireItem[];
}

/** Read, parse and prepare on this thread. */
async function* chunksHere(
  options: SyncOptions,
  parse: (entry: InputEntry) => Iterable<Parsed>,
): AsyncGenerator<Chunk> {
  for await (const entry of inputEntries(options.from, options)) {
    const items: WireItem[] = [];
    for (const p of parse(entry)) {
      if (!p.ok) items.push(p);
      else {
        const mod = p.record.modified ?? p.record.published;
        if (options.since && mod && mod < options.since) continue;
        items.push({ ok: true, rec: prepareRecord(p.record) });
      }
    }
    yield { files: 1, items };
  }
}

/**
 * The parse thread: `sync-worker.js` when built; from source (tests, benchmarks under tsx) the
 * `.ts` file, loaded through tsx's API since Node 20 workers do not inherit `--import` hooks.
 */
function startWorker(workerData: Record<string, unknown>): Worker {
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL('./sync-worker.js', import.meta.url), { workerData });
  // tsx's ESM build of its API sits beside the CommonJS one that require.resolve finds.
  const api = createRequire(import.meta.url)
    .resolve('tsx/esm/api')
    .replace(/\.cjs$/, '.mjs');
  const tsx = pathToFileURL(api).href;
  const entry = new URL('./sync-worker.ts', import.meta.url).href;
  return new Worker(
    `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`,
    { eval: true, workerData },
  );
}

/** Read, parse and prepare on a worker thread; chunks arrive in input order. */
async function* chunksFromWorker(options: SyncOptions): AsyncGenerator<Chunk> {
  const worker = startWorker({
    source: options.source,
    from: options.from,
    ...(options.since ? { since: options.since } : {}),
  });
  const queue: (WorkerMessage | { t: 'crash'; error: Error })[] = [];
  let wake: (() => void) | undefined;
  const push = (m: (typeof queue)[number]) => {
    queue.push(m);
    wake?.();
  };
  worker.on('message', (m: WorkerMessage) => push(m));
  worker.on('error', (error: Error) => push({ t: 'crash', error }));
  worker.on('exit', (code) => {
    if (code !== 0) push({ t: 'crash', error: new Error(`parse thread exited with code ${code}`) });
  });
  try {
    for (;;) {
      while (queue.length === 0) await new Promise<void>((r) => (wake = r));
      wake = undefined;
      const m = queue.shift()!;
      if (m.t === 'end') return;
      if (m.t === 'crash') throw m.error;
      if (m.t === 'fail') {
        if (m.code) throw new MamoriError(m.code, m.message, m.hint ? { hint: m.hint } : {});
        throw Object.assign(new Error(m.message), m.stack ? { stack: m.stack } : {});
      }
      yield { files: m.files, items: m.items };
      worker.postMessage({ t: 'more' });
    }
  } finally {
    worker.removeAllListeners();
    await worker.terminate();
  }
}

/**
 * @example const s = await syncFrom(store, { source: 'osv', from: '/mirror/pypa' }); s.added
 */
export async function syncFrom(store: Store, options: SyncOptions): Promise<SyncSummary> {
  const batchSize = options.batchSize ?? 500;
  const summary: SyncSummary = {
    source: options.source,
    from: options.from,
    files: 0,
    records: 0,
    added: 0,
    updated: 0,
    unchanged: 0,
    withdrawn: 0,
    errors: [],
  };
  const threaded =
    !options.parse &&
    !options.fetchFn &&
    (options.parseThread ??
      (inputSize(options.from) ?? Number.POSITIVE_INFINITY) >= PARSE_THREAD_MIN_BYTES);
  const chunks = threaded
    ? chunksFromWorker(options)
    : chunksHere(options, options.parse ?? (await parserFor(options.source)));
  let batch: PreparedRecord[] = [];
  const seen = new Map<string, number>();
  const flush = async () => {
    const r = await upsertBatch(store, batch);
    summary.added += r.added;
    summary.updated += r.updated;
    summary.unchanged += r.unchanged;
    summary.withdrawn += r.withdrawn;
    options.progress?.tick(batch.length, `${summary.added} new, ${summary.errors.length} errors`);
    batch = [];
    seen.clear();
  };
  for await (const chunk of chunks) {
    if (options.signal?.aborted)
      throw new MamoriError('E_INTERRUPTED', 'sync interrupted; re-run to resume');
    summary.files += chunk.files;
    for (const p of chunk.items) {
      if (!p.ok) {
        summary.errors.push(p.error);
        continue;
      }
      summary.records++;
      // the same id twice in one batch: keep the later one
      const at = seen.get(p.rec.id);
      if (at !== undefined) batch[at] = p.rec;
      else {
        seen.set(p.rec.id, batch.length);
        batch.push(p.rec);
      }
      if (batch.length >= batchSize) await flush();
    }
  }
  await flush();
  return summary;
}
