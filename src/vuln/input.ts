/**
 * The reading half of `vuln sync`, free of the database: input entries one at a time from a
 * directory, a zip (streamed through fflate), a (gzipped) file or a URL, and the per-source
 * parsers that turn an entry into positioned records or errors (OSV JSON/YAML and NVD CVE API
 * 2.0 pages here; JVN in jvn-parse.ts, loaded on first use). Truncated input is reported with
 * line and column.
 */
import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { inflateSync, Unzip, type UnzipDecoder } from 'fflate';
import { parseAllDocuments } from 'yaml';
import { MamoriError } from '../shared/errors.js';
import { nvdRecords } from './core/nvd.js';
import { normalizeOsv, RecordError } from './core/osv.js';
import type { Source, VulnRecord } from './core/types.js';

export interface SyncError {
  file: string;
  /** "line 3, column 5", "offset 120", or a record path such as "affected[0].package". */
  position?: string;
  message: string;
}

/**
 * One input file's bytes, from wherever it came. A zip entry's bytes are a view of a reused
 * buffer, valid until the next entry is asked for: copy them to keep them longer.
 */
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

/**
 * Zip methods 0 (stored) and 8 (DEFLATE) both pass their bytes through as they are: a deflated
 * entry is inflated only when it is yielded (`EntryInflater`), not when fflate meets it.
 */
class RawBytes implements UnzipDecoder {
  static compression = 8;
  ondata: UnzipDecoder['ondata'] = () => {};
  push(chunk: Uint8Array, final: boolean): void {
    this.ondata(null, chunk as Parameters<UnzipDecoder['ondata']>[1], final);
  }
}

/** Entries up to this size are inflated into one reused buffer; larger ones get their own. */
const SCRATCH_MAX = 1 << 20;

/**
 * Inflates zip entries one at a time into one reused buffer. A large OSV zip holds hundreds of
 * thousands of small records: a fresh buffer per entry (fflate's streaming inflater also takes a
 * 32 KiB window each) left the sync's peak memory to when V8 got round to collecting them.
 * So an entry's bytes are valid only until the next entry is inflated.
 */
class EntryInflater {
  private scratch = new Uint8Array(64 << 10);
  constructor(private readonly corrupt: (why: string) => MamoriError) {}

  inflate(data: Uint8Array, size: number | undefined): Uint8Array {
    if (data.length === 0) return data;
    // A size from the local header: one byte of room more shows a stream that runs past it.
    // Without one (streamed zips put it after the data), guess, and retry bigger while the
    // output fills the buffer, since a full buffer may hold a cut-off entry.
    const known = size !== undefined && size > 0;
    let cap = known ? size + 1 : Math.max(this.scratch.length, data.length * 4);
    for (;;) {
      const into = cap <= SCRATCH_MAX ? this.buffer(cap).subarray(0, cap) : new Uint8Array(cap);
      let out: Uint8Array;
      try {
        out = inflateSync(data, { out: into });
      } catch (err) {
        throw this.corrupt((err as Error).message);
      }
      if (known) {
        if (out.length !== size)
          throw this.corrupt(
            `entry inflates to ${out.length === cap ? 'more than' : out.length} bytes, its header says ${size}`,
          );
        return out;
      }
      if (out.length < cap) return out;
      cap *= 2;
    }
  }

  private buffer(n: number): Uint8Array {
    if (this.scratch.length < n) this.scratch = new Uint8Array(Math.min(SCRATCH_MAX, n * 2));
    return this.scratch;
  }
}

/**
 * fflate 0.8's `Unzip` puts a chunk list at the front of its private `k` for every entry and
 * only ever reads the first two: the rest kept about 40 bytes per entry for the whole sync and
 * made each new entry's `unshift` cost grow with the entries before it (a 600,000-entry zip
 * synced at half the rate of a 170,000-entry one). Cutting the list back after each push
 * changes nothing else; if a later fflate has no such list, this does nothing.
 */
function forgetFinishedEntries(unzip: Unzip): void {
  const lists = (unzip as unknown as { k?: unknown }).k;
  if (Array.isArray(lists) && lists.length > 2) lists.length = 2;
}

interface ZipEntry {
  name: string;
  deflated: boolean;
  size?: number;
  parts: Uint8Array[];
}

function joined(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    bytes.set(p, off);
    off += p.length;
  }
  return bytes;
}

/**
 * Stream the entries of a zip, given its bytes as an async chunk source. Each entry's bytes
 * are valid until the next entry is asked for (see `EntryInflater`).
 */
async function* unzipStream(
  name: string,
  chunks: AsyncIterable<Uint8Array>,
): AsyncGenerator<InputEntry> {
  const ready: ZipEntry[] = [];
  let failure: Error | undefined;
  let entries = 0;
  const unzip = new Unzip((file) => {
    entries++;
    if (!RECORD_EXT.test(file.name) || file.name.endsWith('/')) return;
    const entry: ZipEntry = {
      name: `${name}!${file.name}`,
      deflated: file.compression === 8,
      ...(file.originalSize !== undefined ? { size: file.originalSize } : {}),
      parts: [],
    };
    file.ondata = (err, data, final) => {
      if (err) {
        failure = err;
        return;
      }
      // Parts are views of fflate's (never reused) buffers; the last one completes the entry.
      if (data.length || final) entry.parts.push(data);
      if (final) ready.push(entry);
    };
    file.start();
  });
  unzip.register(RawBytes);
  const corrupt = (why: string) => new MamoriError('E_INPUT', `${name}: corrupt zip: ${why}`);
  const inflater = new EntryInflater(corrupt);
  const take = (e: ZipEntry): InputEntry => {
    const bytes = joined(e.parts);
    return { name: e.name, bytes: e.deflated ? inflater.inflate(bytes, e.size) : bytes };
  };
  // fflate reports an unknown method through ondata, and a cut or garbled archive by throwing.
  const push = (chunk: Uint8Array, final: boolean) => {
    try {
      unzip.push(chunk, final);
    } catch (err) {
      throw corrupt((err as Error).message);
    }
    forgetFinishedEntries(unzip);
    if (failure) throw corrupt(failure.message);
  };
  for await (const chunk of chunks) {
    push(chunk, false);
    while (ready.length) yield take(ready.shift()!);
  }
  push(new Uint8Array(0), true);
  while (ready.length) yield take(ready.shift()!);
  if (entries === 0) throw corrupt('no file entries found (not a zip?)');
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

/**
 * A gzipped record file as the entry inside it, named without `.gz` so that the record's own
 * extension picks its parser. `where` names the input in the error.
 */
function gunzipped(name: string, gz: Uint8Array, where: string): InputEntry {
  try {
    return { name: name.replace(/\.gz$/i, ''), bytes: gunzipSync(gz) };
  } catch (err) {
    throw new MamoriError('E_INPUT', `${where}: not a valid gzip file: ${(err as Error).message}`);
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
    yield /\.gz$/i.test(path)
      ? gunzipped(basename(path), buf, from)
      : { name: basename(path) || from, bytes: buf };
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
    else if (/\.gz$/i.test(f)) yield gunzipped(f, readFileSync(f), f);
    else yield { name: f, bytes: readFileSync(f) };
  }
}

export function* parseNvdEntry(entry: InputEntry): Generator<Parsed> {
  let doc: unknown;
  let text: string;
  try {
    text = decodeUtf8(entry.name, entry.bytes);
    doc = JSON.parse(text);
  } catch (err) {
    yield {
      ok: false,
      error: {
        file: entry.name,
        message: `malformed JSON: ${(err as Error).message.split('\n')[0]}`,
      },
    };
    return;
  }
  yield* recordsOf(entry.name, () => nvdRecords(doc));
}

/** The parser for a source's input entries (the XML parser for JVN loads on first use). */
export async function parserFor(source: Source): Promise<(entry: InputEntry) => Iterable<Parsed>> {
  if (source === 'osv') return parseOsvEntry;
  if (source === 'jvn') return (await import('./jvn-parse.js')).parseJvnEntry;
  return parseNvdEntry;
}
