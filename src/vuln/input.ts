/**
 * The reading half of `vuln sync`, free of the database: input entries one at a time from a
 * directory, a zip (read through its central directory, zip.ts), a (gzipped) file or a URL,
 * and the per-source parsers that turn an entry into positioned records or errors (OSV
 * JSON/YAML and NVD CVE API 2.0 pages here; JVN in jvn-parse.ts, loaded on first use).
 * Truncated input is reported with line and column.
 */
import {
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parseAllDocuments } from 'yaml';
import { MamoriError } from '../shared/errors.js';
import { nvdRecords } from './core/nvd.js';
import { normalizeOsv, RecordError } from './core/osv.js';
import type { Source, VulnRecord } from './core/types.js';
import { zipFileEntries } from './zip.js';

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

/** A zip file's record entries, named `<zip>!<path inside>` (see zip.ts). */
function* zipEntries(path: string, shownAs = path): Generator<InputEntry> {
  for (const e of zipFileEntries(path, (name) => RECORD_EXT.test(name), shownAs))
    yield { name: `${shownAs}!${e.name}`, bytes: e.bytes };
}

/**
 * A zip at a URL: downloaded to a temporary file (under TMPDIR), since a zip is read from its
 * end, then read as a local one and deleted.
 */
async function* remoteZip(
  url: string,
  fetchFn: typeof fetch,
  signal?: AbortSignal,
): AsyncGenerator<InputEntry> {
  const dir = mkdtempSync(join(tmpdir(), 'mamori-zip-'));
  try {
    const file = join(dir, 'download.zip');
    const fd = openSync(file, 'w');
    try {
      for await (const chunk of fetchChunks(url, fetchFn, signal)) writeSync(fd, chunk);
    } finally {
      closeSync(fd);
    }
    yield* zipEntries(file, url);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
      yield* remoteZip(from, fetchFn, opts.signal);
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
    if (/\.zip$/i.test(f)) yield* zipEntries(f);
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
