/**
 * JVN iPedia's yearly feeds, kept up to date the way go-cve-dictionary and Vuls do it: read
 * `checksum.txt`, download only the feed files whose sha256 changed since their last complete
 * import, check each download against its listed sha256, and upsert its records in batched
 * transactions. A file's checksum is recorded (vuln_sync_state, source 'jvn', key
 * `feed:<filename>`) only after all its records are committed, so a cut run resumes where it
 * stopped. Works the same on the official site, an HTTP mirror, or a local mirror directory.
 * Not a parser (core/jvn.ts) and not MyJVN (jvn-sync.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MamoriError } from '../shared/errors.js';
import type { Progress } from '../shared/progress.js';
import type { Store } from '../storage/index.js';
import {
  type FeedFile,
  FeedIndexError,
  type FeedKind,
  feedFileLocations,
  feedStateKey,
  JVN_FEED_INDEX,
  jstYear,
  parseChecksumTxt,
  planFeedSync,
  splitFeedXml,
} from './core/jvn-feed.js';
import type { VulnRecord } from './core/types.js';
import type { Parsed } from './input.js';
import { parseJvnEntry } from './jvn-sync.js';
import { getSyncState, setSyncState, upsertBatch, withBulkSync } from './store.js';
import { addCounts, emptySummary, SYNC_BATCH, type SyncSummary } from './sync.js';

export { JVN_FEED_INDEX };

export interface JvnFeedOptions {
  /**
   * Where checksum.txt is: its http(s) URL, a feed base URL ending in `/` (checksum.txt is
   * appended), a local mirror directory, or a local checksum.txt. Default: the official index.
   */
  from?: string;
  /** `overview` (jvndb_YYYY.rdf + jvndb.rdf + jvndb_new.rdf, default) or `detail` (jvndb_detail_YYYY.rdf). */
  kind?: FeedKind;
  /** Only these years (no recent feeds then). */
  years?: number[];
  /** Records per transaction (default 500). */
  batchSize?: number;
  /**
   * Skip records last modified before this ISO date. A filtered import is not a complete one,
   * so no file's checksum is recorded.
   */
  since?: string;
  fetchFn?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** Pause between HTTP requests, to be polite to IPA's server (default 1 s; local files: none). */
  delayMs?: number;
  /** Limit for one HTTP request, body included (default 10 minutes: a detail file is ~70 MB). */
  timeoutMs?: number;
  progress?: Progress;
  signal?: AbortSignal;
  /** Clock for "this year in JST". */
  now?: () => number;
}

export interface FeedFileResult {
  file: string;
  /** `fetched`: downloaded and imported; `unchanged`: same sha256 as the last import. */
  status: 'fetched' | 'unchanged';
  records?: number;
}

export interface JvnFeedSummary extends SyncSummary {
  /** Where checksum.txt was read. */
  index: string;
  feeds: FeedFileResult[];
}

/** Where checksum.txt is, whether it is local, and the root a local mirror may not leave. */
interface IndexLocation {
  url: string;
  local: boolean;
  root?: string;
}

const LOCAL_INDEXES = [
  'checksum.txt',
  join('ja', 'feed', 'checksum.txt'),
  join('jvndb.jvn.jp', 'ja', 'feed', 'checksum.txt'),
];

function localIndex(path: string): IndexLocation | undefined {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch {
    return undefined;
  }
  let index: string | undefined;
  if (st.isDirectory()) index = LOCAL_INDEXES.map((p) => join(path, p)).find((p) => existsSync(p));
  else if (/(^|[/\\])checksum\.txt$/.test(path)) index = path;
  if (!index) return undefined;
  const abs = resolve(index);
  const site = /[/\\]ja[/\\]feed[/\\]checksum\.txt$/.exec(abs);
  return {
    url: pathToFileURL(abs).href,
    local: true,
    root: st.isDirectory() ? resolve(path) : site ? abs.slice(0, site.index) : dirname(abs),
  };
}

/**
 * Whether `from` names a JVN feed site or mirror (so `vuln sync --source jvn --from` imports
 * it by checksum.txt): a URL ending in `checksum.txt` or `/`, a local checksum.txt, or a
 * directory holding one (at its top, at `ja/feed/`, or at `jvndb.jvn.jp/ja/feed/`).
 * @example isJvnFeedLocation('https://jvndb.jvn.jp/ja/feed/') === true
 */
export function isJvnFeedLocation(from: string): boolean {
  if (/^https?:\/\//i.test(from)) {
    const path = new URL(from).pathname;
    return path.endsWith('/') || /(^|\/)checksum\.txt$/.test(path);
  }
  return localIndex(from) !== undefined;
}

function locate(from: string): IndexLocation {
  if (/^https?:\/\//i.test(from)) {
    const u = new URL(from);
    if (u.pathname.endsWith('/')) u.pathname += 'checksum.txt';
    return { url: u.href, local: false };
  }
  const loc = localIndex(from);
  if (!loc)
    throw new MamoriError('E_INPUT', `--from ${from}: no checksum.txt there`, {
      hint: 'a JVN feed mirror keeps checksum.txt at its top or at ja/feed/checksum.txt',
    });
  return loc;
}

const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * Sync JVN iPedia's feed files into the store, incrementally by checksum.txt.
 * @example const s = await syncJvnFeeds(store, { from: 'https://jvndb.jvn.jp/ja/feed/' }); s.feeds.filter((f) => f.status === 'fetched')
 */
export async function syncJvnFeeds(store: Store, o: JvnFeedOptions = {}): Promise<JvnFeedSummary> {
  return withBulkSync(store, () => jvnFeeds(store, o), o.progress);
}

async function jvnFeeds(store: Store, o: JvnFeedOptions): Promise<JvnFeedSummary> {
  const index = locate(o.from ?? JVN_FEED_INDEX);
  const fetchFn = o.fetchFn ?? fetch;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const delay = index.local ? 0 : (o.delayMs ?? 1000);
  const timeoutMs = o.timeoutMs ?? 600_000;
  const batchSize = o.batchSize ?? SYNC_BATCH;
  const badData = index.local ? 'E_INPUT' : 'E_NETWORK';
  const interrupted = () =>
    new MamoriError('E_INTERRUPTED', 'JVN feed sync interrupted; re-run to resume');
  let requests = 0;

  /** One file's bytes from the mirror or the network; undefined when it is not there (404). */
  const read = async (location: string): Promise<Uint8Array | undefined> => {
    if (o.signal?.aborted) throw interrupted();
    if (location.startsWith('file:')) {
      const path = fileURLToPath(location);
      if (index.root && !(path === index.root || path.startsWith(index.root + sep)))
        throw new MamoriError('E_INPUT', `${location}: outside the mirror ${index.root}`);
      if (!existsSync(path)) return undefined;
      return readFileSync(path);
    }
    if (requests++ > 0 && delay) await sleep(delay);
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = o.signal ? AbortSignal.any([o.signal, timeout]) : timeout;
    try {
      const res = await fetchFn(location, { signal });
      if (res.status === 404) {
        await res.body?.cancel();
        return undefined;
      }
      if (!res.ok) {
        await res.body?.cancel();
        throw new MamoriError('E_NETWORK', `${location}: HTTP ${res.status}`);
      }
      return new Uint8Array(await res.arrayBuffer());
    } catch (err) {
      if (err instanceof MamoriError) throw err;
      if (o.signal?.aborted) throw interrupted();
      if (timeout.aborted)
        throw new MamoriError('E_NETWORK', `${location}: no answer within ${timeoutMs / 1000} s`);
      throw new MamoriError('E_NETWORK', `cannot fetch ${location}: ${(err as Error).message}`, {
        hint: 'offline? use --from <dir> with a local mirror of the feed site',
      });
    }
  };

  const indexBytes = await read(index.url);
  if (!indexBytes)
    throw new MamoriError(badData, `${index.url}: not found`, {
      hint: 'the JVN feed index is https://jvndb.jvn.jp/ja/feed/checksum.txt',
    });
  let files: FeedFile[];
  try {
    files = parseChecksumTxt(new TextDecoder().decode(indexBytes));
  } catch (err) {
    if (!(err instanceof FeedIndexError)) throw err;
    throw new MamoriError(badData, `${index.url}: ${err.message}`);
  }
  const kind = o.kind ?? 'overview';
  const stored = new Map<string, string>();
  for (const f of files) {
    const sha = await getSyncState(store, 'jvn', feedStateKey(f.filename));
    if (sha) stored.set(f.filename, sha);
  }
  const plan = planFeedSync(files, stored, {
    kind,
    thisYear: jstYear((o.now ?? Date.now)()),
    ...(o.years ? { years: o.years } : {}),
  });

  const summary: JvnFeedSummary = {
    ...emptySummary('jvn', o.from ?? JVN_FEED_INDEX),
    index: index.url,
    feeds: plan.unchanged.map((f) => ({ file: f.filename, status: 'unchanged' as const })),
  };
  o.progress?.setTotal(plan.fetch.length);

  for (const file of plan.fetch) {
    let bytes: Uint8Array | undefined;
    let where = '';
    for (const location of feedFileLocations(file, index.url)) {
      bytes = await read(location);
      where = location;
      if (bytes) break;
    }
    if (!bytes)
      throw new MamoriError(badData, `${file.filename}: listed in checksum.txt but not found`, {
        details: { tried: feedFileLocations(file, index.url) },
      });
    const actual = sha256Hex(bytes);
    if (actual !== file.sha256)
      throw new MamoriError(
        badData,
        `${file.filename}: sha256 ${actual} does not match checksum.txt (${file.sha256}); nothing from this file was stored`,
        {
          hint: index.local
            ? 'the mirror is incomplete or being updated; copy the file and checksum.txt again'
            : 'the file changed or broke in transit; re-run to fetch it again',
          details: { file: where, expected: file.sha256, actual },
        },
      );
    summary.files++;
    const before = summary.records;
    let batch: VulnRecord[] = [];
    let usable = 0;
    let broken = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      const fresh = await withoutStale(store, batch);
      addCounts(summary, await upsertBatch(store, fresh));
      summary.unchanged += batch.length - fresh.length; // older copies of stored records
      batch = [];
      if (o.signal?.aborted) throw interrupted();
    };
    const at = new Map<string, number>();
    for (const p of feedRecords(file.filename, bytes)) {
      if (!p.ok) {
        summary.errors.push(p.error);
        broken++;
        continue;
      }
      usable++;
      const mod = p.record.modified ?? p.record.published;
      if (o.since && mod && mod < o.since) continue;
      summary.records++;
      const i = at.get(p.record.id);
      if (i === undefined) {
        at.set(p.record.id, batch.length);
        batch.push(p.record);
      } else if ((p.record.modified ?? '') >= (batch[i]!.modified ?? '')) batch[i] = p.record;
      if (batch.length >= batchSize) {
        await flush();
        at.clear();
      }
    }
    await flush();
    // A file that yielded errors and no record (malformed XML) is tried again next run.
    if (!o.since && (usable > 0 || broken === 0))
      await setSyncState(store, 'jvn', feedStateKey(file.filename), actual);
    summary.feeds.push({
      file: file.filename,
      status: 'fetched',
      records: summary.records - before,
    });
    o.progress?.tick(1, `${file.filename}: ${summary.added} new, ${summary.updated} updated`);
  }
  return summary;
}

/** Entries per parsed piece of a feed file: bounds the object tree a 35–70 MB file makes. */
const ENTRIES_PER_PIECE = 1000;

/**
 * A feed file's records, parsed a piece at a time (core splitFeedXml) with the JVN parser;
 * positions stay those of the whole file.
 */
function* feedRecords(name: string, bytes: Uint8Array): Generator<Parsed> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    yield* parseJvnEntry({ name, bytes }); // reports the encoding error
    return;
  }
  for (const piece of splitFeedXml(text, ENTRIES_PER_PIECE)) {
    const pieceBytes = piece.text === text ? bytes : Buffer.from(piece.text);
    for (const p of parseJvnEntry({ name, bytes: pieceBytes })) {
      if (!p.ok && p.error.position && piece.firstIndex > 0)
        p.error.position = p.error.position.replace(
          /^(item|Vulinfo)\[(\d+)\]/,
          (_, tag: string, i: string) => `${tag}[${Number(i) + piece.firstIndex}]`,
        );
      yield p;
    }
  }
}

/**
 * Drop records the store already holds in a newer version (a later `modified`): the recent
 * feeds and a yearly file rebuilt at another time may carry an older copy of an entry.
 */
async function withoutStale(store: Store, records: VulnRecord[]): Promise<VulnRecord[]> {
  const stored = new Map<string, string | null>();
  const ids = records.map((r) => r.id);
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await store.db
      .selectFrom('vuln_record')
      .select(['external_id', 'modified'])
      .where('source', '=', 'jvn')
      .where('external_id', 'in', ids.slice(i, i + 500))
      .execute();
    for (const r of rows) stored.set(r.external_id, r.modified);
  }
  return records.filter((r) => {
    const had = stored.get(r.id);
    return !(had && r.modified && had > r.modified);
  });
}
