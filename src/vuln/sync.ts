/**
 * `vuln sync`: read advisories one at a time from a directory, a zip (streamed through
 * fflate), a (gzipped) file or a URL, normalise them with the pure parsers in core/, and upsert
 * them in batched transactions. Malformed records are reported with file and position while
 * good ones land. Idempotent: a re-run (or a resumed, interrupted run) only rewrites records
 * whose content changed.
 */
import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Unzip, UnzipInflate } from 'fflate';
import { parseAllDocuments } from 'yaml';
import { MamoriError } from '../shared/errors.js';
import type { Progress } from '../shared/progress.js';
import type { Store } from '../storage/index.js';
import { normalizeOsv, RecordError } from './core/osv.js';
import type { Source, VulnRecord } from './core/types.js';
import { type UpsertSummary, upsertBatch } from './store.js';

export interface SyncError {
  file: string;
  /** "line 3, column 5", "offset 120", or a record path such as "affected[0].package". */
  position?: string;
  message: string;
}

export interface SyncSummary extends UpsertSummary {
  source: Source;
  from: string;
  files: number;
  records: number;
  errors: SyncError[];
}

/** One input file's bytes, from wherever it came. */
export interface InputEntry {
  name: string;
  bytes: Uint8Array;
}

/** A parsed record with where it came from, or an error at a position. */
export type Parsed =
  | { ok: true; file: string; record: VulnRecord }
  | { ok: false; error: SyncError };

/**
 * Turn a parsed document's per-record results into `Parsed` items for `file`: a document-level
 * `RecordError` becomes one error, each record its own success or positioned error.
 */
export function* recordsOf(
  file: string,
  extract: () => ({ ok: true; record: VulnRecord } | { ok: false; at: string; message: string })[],
): Generator<Parsed> {
  let results: ReturnType<typeof extract>;
  try {
    results = extract();
  } catch (err) {
    if (!(err instanceof RecordError)) throw err;
    yield { ok: false, error: { file, message: err.message } };
    return;
  }
  for (const r of results) {
    if (r.ok) yield { ok: true, file, record: r.record };
    else yield { ok: false, error: { file, position: r.at, message: r.message } };
  }
}

const RECORD_EXT = /\.(json|ya?ml|xml|rdf)$/i;

function lineCol(text: string, offset: number): string {
  let line = 1;
  let col = 1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      col = 1;
    } else col++;
  }
  return `line ${line}, column ${col}`;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

export function decodeUtf8(_name: string, bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw Object.assign(new Error('not valid UTF-8 (wrong encoding?)'), { position: 'bytes' });
  }
}

/** Parse one OSV input file (JSON object, JSON array, or YAML documents) into records. */
export function* parseOsvEntry(entry: InputEntry): Generator<Parsed> {
  let text: string;
  try {
    text = decodeUtf8(entry.name, entry.bytes);
  } catch (err) {
    yield { ok: false, error: { file: entry.name, message: (err as Error).message } };
    return;
  }
  let docs: unknown[];
  if (/\.ya?ml$/i.test(entry.name)) {
    const parsed = parseAllDocuments(text);
    const list = Array.isArray(parsed) ? parsed : [parsed];
    docs = [];
    for (const doc of list) {
      if (doc.errors.length) {
        const e = doc.errors[0]!;
        yield {
          ok: false,
          error: {
            file: entry.name,
            position: e.linePos?.[0]
              ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}`
              : `offset ${e.pos[0]}`,
            message: e.message.split('\n')[0] ?? 'YAML error',
          },
        };
        continue;
      }
      docs.push(doc.toJS());
    }
  } else {
    try {
      const v = JSON.parse(text) as unknown;
      docs = Array.isArray(v) ? v : [v];
    } catch (err) {
      const msg = (err as Error).message;
      const m = /position (\d+)/.exec(msg);
      yield {
        ok: false,
        error: {
          file: entry.name,
          position: m ? lineCol(text, Number(m[1])) : `end of input (${text.length} bytes)`,
          message: `malformed JSON: ${msg.split('\n')[0]}`,
        },
      };
      return;
    }
  }
  for (let i = 0; i < docs.length; i++) {
    try {
      yield { ok: true, file: entry.name, record: normalizeOsv(docs[i]) };
    } catch (err) {
      if (!(err instanceof RecordError)) throw err;
      yield {
        ok: false,
        error: {
          file: entry.name,
          position: docs.length > 1 ? `record ${i + 1}` : 'record',
          message: err.message,
        },
      };
    }
  }
}

function walk(dir: string): string[] {
  const out: string[] = [];
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop()!;
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? 1 : -1,
    )) {
      if (e.name.startsWith('.')) continue;
      const p = join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.isFile() && (RECORD_EXT.test(e.name) || /\.(zip|gz)$/i.test(e.name))) out.push(p);
    }
  }
  return out.sort();
}

/** Stream the entries of a zip, given its bytes as an async chunk source. */
async function* unzipStream(
  name: string,
  chunks: AsyncIterable<Uint8Array>,
): AsyncGenerator<InputEntry> {
  const ready: InputEntry[] = [];
  let failure: Error | undefined;
  const unzip = new Unzip((file) => {
    if (!RECORD_EXT.test(file.name) || file.name.endsWith('/')) return;
    const parts: Uint8Array[] = [];
    file.ondata = (err, data, final) => {
      if (err) {
        failure = err;
        return;
      }
      parts.push(data);
      if (final) {
        const total = parts.reduce((n, p) => n + p.length, 0);
        const bytes = new Uint8Array(total);
        let off = 0;
        for (const p of parts) {
          bytes.set(p, off);
          off += p.length;
        }
        ready.push({ name: `${name}!${file.name}`, bytes });
      }
    };
    file.start();
  });
  unzip.register(UnzipInflate);
  for await (const chunk of chunks) {
    unzip.push(chunk, false);
    if (failure) throw new MamoriError('E_INPUT', `${name}: corrupt zip: ${failure.message}`);
    while (ready.length) yield ready.shift()!;
  }
  unzip.push(new Uint8Array(0), true);
  if (failure) throw new MamoriError('E_INPUT', `${name}: corrupt zip: ${failure.message}`);
  while (ready.length) yield ready.shift()!;
}

async function* fileChunks(path: string): AsyncGenerator<Uint8Array> {
  for await (const c of createReadStream(path, { highWaterMark: 1 << 20 })) yield c as Uint8Array;
}

async function* fetchChunks(
  url: string,
  fetchFn: typeof fetch,
  signal?: AbortSignal,
): AsyncGenerator<Uint8Array> {
  let res: Response;
  try {
    res = await fetchFn(url, signal ? { signal } : {});
  } catch (err) {
    throw new MamoriError('E_NETWORK', `cannot fetch ${url}: ${(err as Error).message}`, {
      hint: 'offline? use --from <dir|zip> with a local mirror',
    });
  }
  if (!res.ok || !res.body) throw new MamoriError('E_NETWORK', `${url}: HTTP ${res.status}`);
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    yield value;
  }
}

/** Every input entry under `from` (dir, zip, file, .gz, http(s) URL), one at a time. */
export async function* inputEntries(
  from: string,
  opts: { fetchFn?: typeof fetch; signal?: AbortSignal } = {},
): AsyncGenerator<InputEntry> {
  if (/^https?:\/\//i.test(from)) {
    const fetchFn = opts.fetchFn ?? fetch;
    const path = new URL(from).pathname;
    if (/\.zip$/i.test(path)) {
      yield* unzipStream(from, fetchChunks(from, fetchFn, opts.signal));
      return;
    }
    const parts: Uint8Array[] = [];
    for await (const c of fetchChunks(from, fetchFn, opts.signal)) parts.push(c);
    const buf = Buffer.concat(parts);
    yield { name: basename(path) || from, bytes: /\.gz$/i.test(path) ? gunzipSync(buf) : buf };
    return;
  }
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(from);
  } catch {
    throw new MamoriError('E_INPUT', `--from ${from}: no such file or directory`);
  }
  const files = st.isDirectory() ? walk(from) : [from];
  for (const f of files) {
    if (/\.zip$/i.test(f)) yield* unzipStream(f, fileChunks(f));
    else if (/\.gz$/i.test(f)) {
      let bytes: Uint8Array;
      try {
        bytes = gunzipSync(readFileSync(f));
      } catch (err) {
        throw new MamoriError('E_INPUT', `${f}: not a valid gzip file: ${(err as Error).message}`);
      }
      yield { name: f.replace(/\.gz$/i, ''), bytes };
    } else yield { name: f, bytes: readFileSync(f) };
  }
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
}

/** Parser per source, loaded lazily. */
async function parserFor(source: Source): Promise<(entry: InputEntry) => Iterable<Parsed>> {
  if (source === 'osv') return parseOsvEntry;
  if (source === 'jvn') return (await import('./jvn-sync.js')).parseJvnEntry;
  return (await import('./nvd-sync.js')).parseNvdEntry;
}

/**
 * @example const s = await syncFrom(store, { source: 'osv', from: '/mirror/pypa' }); s.added
 */
export async function syncFrom(store: Store, options: SyncOptions): Promise<SyncSummary> {
  const batchSize = options.batchSize ?? 500;
  const parse = options.parse ?? (await parserFor(options.source));
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
  let batch: VulnRecord[] = [];
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
  for await (const entry of inputEntries(options.from, options)) {
    if (options.signal?.aborted)
      throw new MamoriError('E_INTERRUPTED', 'sync interrupted; re-run to resume');
    summary.files++;
    for (const p of parse(entry)) {
      if (!p.ok) {
        summary.errors.push(p.error);
        continue;
      }
      const mod = p.record.modified ?? p.record.published;
      if (options.since && mod && mod < options.since) continue;
      summary.records++;
      // the same id twice in one batch: keep the later one
      const at = seen.get(p.record.id);
      if (at !== undefined) batch[at] = p.record;
      else {
        seen.set(p.record.id, batch.length);
        batch.push(p.record);
      }
      if (batch.length >= batchSize) await flush();
    }
  }
  await flush();
  void extname;
  return summary;
}
