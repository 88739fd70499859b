/**
 * JVN iPedia's feed index and the decisions around it: read `checksum.txt` (a JSON list of
 * every feed file with its sha256), pick the feed files a sync wants, tell which of them
 * changed since the last run, and say where a mirror keeps each file. Pure: text and stored
 * checksums come in, decisions go out. Not the download (../jvn-feed.ts) and not the feed
 * parser (core/jvn.ts).
 */

/** One entry of checksum.txt, as IPA publishes it. */
export interface FeedFile {
  /** Absolute on the official site, e.g. https://jvndb.jvn.jp/ja/rss/years/jvndb_2023.rdf */
  url: string;
  /** e.g. jvndb_2023.rdf */
  filename: string;
  /** Lower-case hex. */
  sha256: string;
  size?: number;
  /** As written by IPA, "2023/10/29 09:00:11" (no zone given). */
  lastModified?: string;
}

/** The overviews (JVNRSS `jvndb_YYYY.rdf` plus the recent `jvndb.rdf`, `jvndb_new.rdf`) or the VULDEF details (`jvndb_detail_YYYY.rdf`). */
export type FeedKind = 'overview' | 'detail';

/** checksum.txt is not what IPA publishes. */
export class FeedIndexError extends Error {}

/** The official index of JVN iPedia's feed files. */
export const JVN_FEED_INDEX = 'https://jvndb.jvn.jp/ja/feed/checksum.txt';

/** JVN iPedia's first year: the oldest yearly file is jvndb_1998.rdf. */
export const JVN_FIRST_YEAR = 1998;

const YEARLY = /^jvndb_(\d{4})\.rdf$/;
const DETAIL = /^jvndb_detail_(\d{4})\.rdf$/;
const RECENT = ['jvndb.rdf', 'jvndb_new.rdf'];
/** A plain file name: no directory parts, so a mirror lookup cannot leave the mirror. */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const HEX64 = /^[0-9a-fA-F]{64}$/;

const isFeedName = (name: string) =>
  YEARLY.test(name) || DETAIL.test(name) || RECENT.includes(name);

/**
 * Parse checksum.txt. Entries for JVNDB feed files must be complete (url, a plain filename,
 * a 64-digit sha256); other entries (vendor and product lists) are kept only when well formed,
 * since a sync never reads them.
 * @example parseChecksumTxt('[{"url":"https://jvndb.jvn.jp/ja/rss/years/jvndb_2023.rdf","filename":"jvndb_2023.rdf","sha256":"c1c9…","size":6269747,"lastModified":"2023/10/29 09:00:11"}]')
 */
export function parseChecksumTxt(text: string): FeedFile[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new FeedIndexError(
      `checksum.txt is not JSON: ${(err as Error).message.split('\n')[0] ?? ''}`,
    );
  }
  if (!Array.isArray(doc))
    throw new FeedIndexError('checksum.txt is not a JSON list of {url, filename, sha256}');
  const out: FeedFile[] = [];
  const seen = new Set<string>();
  doc.forEach((e: unknown, i) => {
    if (typeof e !== 'object' || e === null) return;
    const o = e as Record<string, unknown>;
    const filename = typeof o.filename === 'string' ? o.filename.trim() : undefined;
    const url = typeof o.url === 'string' ? o.url.trim() : undefined;
    const sha256 = typeof o.sha256 === 'string' ? o.sha256.trim() : undefined;
    const problem = !filename
      ? 'no filename'
      : !SAFE_NAME.test(filename)
        ? `filename ${JSON.stringify(filename)} is not a plain file name`
        : !url
          ? 'no url'
          : !sha256 || !HEX64.test(sha256)
            ? 'sha256 is not 64 hex digits'
            : undefined;
    if (problem) {
      if (filename && isFeedName(filename))
        throw new FeedIndexError(`checksum.txt entry ${i} (${filename}): ${problem}`);
      return;
    }
    if (seen.has(filename!)) throw new FeedIndexError(`checksum.txt lists ${filename} twice`);
    seen.add(filename!);
    const f: FeedFile = { url: url!, filename: filename!, sha256: sha256!.toLowerCase() };
    if (typeof o.size === 'number' && Number.isSafeInteger(o.size) && o.size >= 0) f.size = o.size;
    if (typeof o.lastModified === 'string') f.lastModified = o.lastModified;
    out.push(f);
  });
  return out;
}

/** The calendar year in Japan (JST, UTC+9, no daylight saving) at `ms`. */
export function jstYear(ms: number): number {
  return new Date(ms + 9 * 3600_000).getUTCFullYear();
}

/** The vuln_sync_state key (source 'jvn') that holds a feed file's last imported sha256. */
export function feedStateKey(filename: string): string {
  return `feed:${filename}`;
}

export interface FeedPlanOptions {
  kind: FeedKind;
  /** This year in JST; yearly files after it are ignored. */
  thisYear: number;
  /** Only these years (default: every year from 1998 to `thisYear`). */
  years?: readonly number[];
}

export interface FeedPlan {
  /** New or changed since the last import, in import order: years ascending, then the recent feeds. */
  fetch: FeedFile[];
  /** Same sha256 as the last import. */
  unchanged: FeedFile[];
  /** Listed in checksum.txt but not part of this sync (other kinds, other years). */
  ignored: string[];
}

/**
 * Which feed files a sync must download: those of `kind` whose sha256 differs from the one
 * recorded after their last complete import (`stored`: filename → sha256).
 * @example planFeedSync(parseChecksumTxt(txt), new Map([['jvndb_2022.rdf', '298b…']]), { kind: 'overview', thisYear: 2026 }).fetch
 */
export function planFeedSync(
  files: readonly FeedFile[],
  stored: ReadonlyMap<string, string>,
  o: FeedPlanOptions,
): FeedPlan {
  const wanted: { file: FeedFile; order: number }[] = [];
  const ignored: string[] = [];
  for (const f of files) {
    const m = (o.kind === 'detail' ? DETAIL : YEARLY).exec(f.filename);
    if (m) {
      const year = Number(m[1]);
      const inRange = o.years
        ? o.years.includes(year)
        : year >= JVN_FIRST_YEAR && year <= o.thisYear;
      if (inRange) wanted.push({ file: f, order: year });
      else ignored.push(f.filename);
    } else if (o.kind === 'overview' && RECENT.includes(f.filename) && !o.years) {
      // The recent feeds carry what changed since the yearly files were last rebuilt.
      wanted.push({ file: f, order: 10_000 + RECENT.indexOf(f.filename) });
    } else ignored.push(f.filename);
  }
  wanted.sort((a, b) => a.order - b.order);
  const plan: FeedPlan = { fetch: [], unchanged: [], ignored };
  for (const { file } of wanted) {
    if (stored.get(file.filename)?.toLowerCase() === file.sha256) plan.unchanged.push(file);
    else plan.fetch.push(file);
  }
  return plan;
}

/**
 * Where to read a feed file, best first, given where checksum.txt itself was read
 * (`indexUrl`, http(s) or file). The official index names files on the official site; a
 * mirror either keeps the site's layout (its index at `…/ja/feed/checksum.txt`, the files at
 * the same paths below the mirror's root), rewrites the urls to itself, or keeps every file
 * beside checksum.txt.
 * @example feedFileLocations({ url: 'https://jvndb.jvn.jp/ja/rss/years/jvndb_2023.rdf', filename: 'jvndb_2023.rdf', sha256 }, 'http://mirror/ja/feed/checksum.txt') // ['http://mirror/ja/rss/years/jvndb_2023.rdf', 'http://mirror/ja/feed/jvndb_2023.rdf']
 */
export function feedFileLocations(file: FeedFile, indexUrl: string): string[] {
  const index = new URL(indexUrl);
  const flat = new URL(file.filename, index).href;
  let listed: URL;
  try {
    listed = new URL(file.url, index);
  } catch {
    return [flat];
  }
  if (listed.protocol === 'file:' && index.protocol === 'file:')
    return listed.href === flat ? [flat] : [listed.href, flat];
  if (index.protocol !== 'file:' && listed.origin === index.origin) return [listed.href];
  const out: string[] = [];
  const siteLayout = /\/ja\/feed\/checksum\.txt$/.exec(index.pathname);
  if (siteLayout) {
    const root = new URL(index.pathname.slice(0, siteLayout.index + 1), index);
    out.push(new URL(listed.pathname.replace(/^\/+/, ''), root).href);
  }
  if (!out.includes(flat)) out.push(flat);
  return out;
}

/** One piece of a feed file: a whole document holding some of its entries. */
export interface FeedChunk {
  text: string;
  /** Index in the whole file of the chunk's first entry (for `item[i]` positions). */
  firstIndex: number;
}

/**
 * Cut a JVNRSS (`<item>`) or VULDEF (`<Vulinfo>`) feed file into whole documents of at most
 * `perChunk` entries, so a 35–70 MB yearly file is never parsed into one object tree. Each
 * chunk keeps the file's head and tail and is padded with blank lines, so an XML error in it
 * is reported at the file's own line and column. The channel's `<items>` list (one `rdf:li`
 * per entry, unused) is blanked out of the head. Anything unexpected (CDATA, comments, text
 * between entries, no entries, no closing root) yields the file whole, as it is.
 * @example [...splitFeedXml(jvndb2023, 500)].length // ceil(entries / 500)
 */
export function* splitFeedXml(text: string, perChunk: number): Generator<FeedChunk> {
  const whole = { text, firstIndex: 0 };
  const tag = /<(?:[A-Za-z_][\w.-]*:)?VULDEF-Document[\s>]/.test(text) ? 'Vulinfo' : 'item';
  if (/<!\[CDATA\[|<!--/.test(text)) {
    yield whole;
    return;
  }
  const name = `(?:[A-Za-z_][\\w.-]*:)?${tag}`;
  const open = new RegExp(`<${name}[\\s>]`, 'g');
  const close = new RegExp(`</${name}\\s*>`, 'g');
  const spans: [number, number][] = [];
  let pos = -1;
  for (;;) {
    open.lastIndex = Math.max(pos, 0);
    const o = open.exec(text);
    if (!o) break;
    if (pos >= 0 && text.slice(pos, o.index).trim() !== '') {
      yield whole;
      return;
    }
    close.lastIndex = o.index;
    const c = close.exec(text);
    if (!c) {
      yield whole;
      return;
    }
    pos = c.index + c[0].length;
    spans.push([o.index, pos]);
  }
  const tail = text.slice(pos);
  if (
    spans.length === 0 ||
    !/<\/(?:[A-Za-z_][\w.-]*:)?(?:RDF|VULDEF-Document)\s*>\s*$/.test(tail)
  ) {
    yield whole;
    return;
  }
  const lineStart = (i: number) => {
    const nl = text.lastIndexOf('\n', i - 1) + 1;
    return text.slice(nl, i).trim() === '' ? nl : i;
  };
  const newlines = (from: number, to: number) => {
    let n = 0;
    for (let i = text.indexOf('\n', from); i !== -1 && i < to; i = text.indexOf('\n', i + 1)) n++;
    return n;
  };
  const headEnd = lineStart(spans[0]![0]);
  const head = text
    .slice(0, headEnd)
    .replace(/<items\s*>[\s\S]*?<\/items\s*>/, (m) => '\n'.repeat(m.match(/\n/g)?.length ?? 0));
  let padded = 0;
  let counted = headEnd;
  for (let i = 0; i < spans.length; i += perChunk) {
    const start = lineStart(spans[i]![0]);
    const end = spans[Math.min(i + perChunk, spans.length) - 1]![1];
    padded += newlines(counted, start);
    counted = start;
    yield { text: `${head}${'\n'.repeat(padded)}${text.slice(start, end)}${tail}`, firstIndex: i };
  }
}
