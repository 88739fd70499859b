/**
 * `fetch`: every source's feed (conditionally), every new entry's page (politely), the article
 * text extracted, canonical-URL and near-duplicate dedup, then incremental clustering into
 * stories and fresh three-line summaries for the stories that changed. A failing source is
 * recorded on its row and reported; the others still run.
 */
import { isoUtc } from '../shared/clock.js';
import { isMamoriError } from '../shared/errors.js';
import type { Progress } from '../shared/progress.js';
import { parseAllowPrivate } from './core/addresses.js';
import {
  type ArticleFeatures,
  features,
  minhashSimilarity,
  StoryClusterer,
} from './core/cluster.js';
import { decodeBytes } from './core/encoding.js';
import { type FeedDict, parseFeed } from './core/feed.js';
import { summarize, tagsOf } from './core/summarize.js';
import { detectLang, extractIds, type JaTokenizer, type Lang } from './core/text.js';
import { canonicalUrl, hostOf } from './core/urls.js';
import { extractArticle, htmlToText } from './extract.js';
import {
  FEED_LIMITS,
  type FetchLimits,
  HostGate,
  httpGet,
  type NetPolicy,
  PAGE_LIMITS,
  type Resolver,
} from './feeds.js';
import { japaneseTokenizer } from './nlp.js';
import type { Db } from './store.js';

export interface FetchOptions {
  now: () => number;
  feedLimits?: Partial<FetchLimits>;
  pageLimits?: Partial<FetchLimits>;
  /** Fetch each entry's page for the full text (default true). */
  pages?: boolean;
  /** At most this many new entries per source per run. */
  maxEntriesPerSource?: number;
  /** Sources fetched at once (different hosts in parallel). */
  concurrency?: number;
  /** Only these source ids. */
  sourceIds?: number[];
  progress?: Progress;
  signal?: AbortSignal;
  /** Clustering window (ms). */
  windowMs?: number;
  /** DNS resolver for every fetch (default: the system's); tests give their own names. */
  resolve?: Resolver;
}

export interface SourceOutcome {
  id: number;
  name: string;
  url: string;
  status: 'ok' | 'not-modified' | 'error';
  newArticles: number;
  duplicates: number;
  /** Entries skipped because their link (or a redirect) led to an address the source may not reach. */
  refused: number;
  /** Why, for the first few of them. */
  refusals: string[];
  error?: string;
  code?: string;
}

export interface FetchReport {
  sources: SourceOutcome[];
  newArticles: number;
  storiesTouched: number;
  storiesCreated: number;
}

const DAY = 86_400_000;

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function entryTime(e: FeedDict, fallback: number): number {
  for (const k of ['published_parsed', 'updated_parsed', 'created_parsed']) {
    const t = e[k] as number[] | null | undefined;
    if (Array.isArray(t)) return Date.UTC(t[0]!, t[1]! - 1, t[2]!, t[3]!, t[4]!, t[5]!);
  }
  return fallback;
}

function toHex(sig: Uint32Array): string {
  return Array.from(sig, (x) => x.toString(16).padStart(8, '0')).join('');
}

function fromHex(hex: string): Uint32Array {
  const out = new Uint32Array(hex.length / 8);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 8, i * 8 + 8), 16);
  return out;
}

interface ClusterState {
  clusterer: StoryClusterer;
  /** Recent articles' signatures for near-duplicate checks. */
  recent: { id: number; sig: Uint32Array; storyId: number; time: number }[];
}

async function loadClusterer(
  db: Db,
  sinceIso: string,
  ja: JaTokenizer,
  windowMs: number,
): Promise<ClusterState> {
  const clusterer = new StoryClusterer({ windowMs });
  const rows = await db
    .selectFrom('bulletin_article')
    .innerJoin('bulletin_source', 'bulletin_source.id', 'bulletin_article.source_id')
    .select([
      'bulletin_article.id',
      'bulletin_article.story_id',
      'bulletin_article.title',
      'bulletin_article.content_text',
      'bulletin_article.lang',
      'bulletin_article.published_at',
      'bulletin_article.minhash',
      'bulletin_source.name as outlet',
    ])
    .where('bulletin_article.published_at', '>=', sinceIso)
    .where('bulletin_article.story_id', 'is not', null)
    .orderBy('bulletin_article.published_at')
    .execute();
  const byStory = new Map<number, ArticleFeatures[]>();
  const recent: ClusterState['recent'] = [];
  for (const r of rows) {
    const f = features(
      {
        key: String(r.id),
        title: r.title,
        text: r.content_text,
        lang: r.lang as Lang,
        time: Date.parse(r.published_at),
        outlet: r.outlet,
      },
      ja,
    );
    f.sig = fromHex(r.minhash);
    const sid = Number(r.story_id);
    byStory.set(sid, [...(byStory.get(sid) ?? []), f]);
    recent.push({ id: Number(r.id), sig: f.sig, storyId: sid, time: f.time });
  }
  for (const [sid, members] of byStory) clusterer.restore(sid, members);
  return { clusterer, recent };
}

type SourceRow = Awaited<ReturnType<typeof sourceRows>>[number];

function sourceRows(db: Db) {
  return db.selectFrom('bulletin_source').selectAll().orderBy('id').execute();
}

/** A new entry, fetched and extracted, waiting to be stored and clustered. */
interface Candidate {
  sourceId: number;
  outlet: string;
  link: string;
  /** Canonical key: the page's own canonical URL when it gives one, else the link's. */
  canonKey: string;
  guid: string | null;
  title: string;
  lang: Lang;
  time: number;
  feedSummary: string;
  html: string;
  text: string;
  method: string;
}

interface Fetched {
  outcome: SourceOutcome;
  candidates: Candidate[];
  /** Source-row fields to write once its entries are stored (undefined: error written). */
  ok?: { etag: string | null; lastModified: string | null; notModified: boolean };
}

interface FetchContext {
  db: Db;
  opts: FetchOptions;
  gate: HostGate;
  feedLimits: FetchLimits;
  pageLimits: FetchLimits;
}

/** One source: its feed, then each new entry's page. Reads the store, writes nothing. */
async function fetchSource(cx: FetchContext, src: SourceRow): Promise<Fetched> {
  const { db, opts, gate } = cx;
  const outcome: SourceOutcome = {
    id: Number(src.id),
    name: src.name,
    url: src.url,
    status: 'ok',
    newArticles: 0,
    duplicates: 0,
    refused: 0,
    refusals: [],
  };
  const candidates: Candidate[] = [];
  const policy: NetPolicy = {
    allowPrivate: parseAllowPrivate(src.allow_private),
    ...(opts.resolve ? { resolve: opts.resolve } : {}),
  };
  const res = await gate.run(hostOf(src.url) || src.url, () =>
    httpGet(
      src.url,
      cx.feedLimits,
      { etag: src.etag, lastModified: src.last_modified },
      opts.signal,
      policy,
    ),
  );
  const ok = { etag: res.etag, lastModified: res.lastModified, notModified: res.notModified };
  if (res.notModified) {
    outcome.status = 'not-modified';
    return { outcome, candidates, ok };
  }
  const sourceIsLocal = !/^https?:/i.test(src.url);
  const decoded = decodeBytes(res.body, res.contentType);
  const parsed = parseFeed(decoded.text, { baseUrl: res.url });
  if (!parsed.version)
    throw Object.assign(new Error(`not a feed (${parsed.bozo_exception ?? 'unknown format'})`), {
      code: 'E_INPUT',
    });
  const seen = new Set<string>();
  for (const e of parsed.entries.slice(0, opts.maxEntriesPerSource ?? 200)) {
    const link = str(e.link) || (str(e.id).startsWith('http') ? str(e.id) : '');
    if (!link) continue;
    // A feed from the network may only point at the network: a file: or path link in a
    // remote feed would make us read (and store) local files. Local feeds may use both.
    if (!/^https?:/i.test(link) && !sourceIsLocal) continue;
    const canon = canonicalUrl(link);
    if (seen.has(canon)) continue;
    seen.add(canon);
    const known = await db
      .selectFrom('bulletin_article')
      .select('id')
      .where('canonical_url', '=', canon)
      .executeTakeFirst();
    if (known) continue;
    const contents = (e.content as FeedDict[] | undefined) ?? [];
    const feedHtml = str(contents[0]?.value) || str(e.summary);
    let text = htmlToText(feedHtml);
    let html = feedHtml;
    let method = 'feed';
    let pageCanon: string | undefined;
    let pageLang: string | undefined;
    if (opts.pages !== false) {
      try {
        const page = await gate.run(hostOf(link) || link, () =>
          httpGet(link, cx.pageLimits, {}, opts.signal, policy),
        );
        const pdec = decodeBytes(page.body, page.contentType);
        const art = extractArticle(pdec.text, page.url);
        if (art.text.length > text.length * 0.8 && art.text.length > 50) {
          text = art.text;
          html = art.html;
          method = art.method;
        }
        if (art.canonicalUrl) pageCanon = canonicalUrl(art.canonicalUrl);
        pageLang = art.lang?.slice(0, 2);
      } catch (err) {
        // A link that leads (directly or by a redirect) where this source may not reach is
        // dropped whole: nothing about it is stored or published.
        if (isMamoriError(err) && err.code === 'E_SCOPE') {
          outcome.refused++;
          if (outcome.refusals.length < 3) outcome.refusals.push(err.message);
          continue;
        }
        // The page failing is not the source failing: keep the feed's own text.
        method = `feed (page: ${isMamoriError(err) ? err.message : String(err)})`.slice(0, 200);
      }
    }
    const title = htmlToText(str(e.title)) || link;
    const lang = ((src.lang as Lang | null) ??
      (pageLang === 'ja' || pageLang === 'en' ? pageLang : detectLang(`${title} ${text}`))) as Lang;
    candidates.push({
      sourceId: Number(src.id),
      outlet: src.name,
      link,
      canonKey: pageCanon ?? canon,
      guid: str(e.id) || null,
      title,
      lang,
      time: Math.min(entryTime(e, opts.now()), opts.now()),
      feedSummary: htmlToText(str(e.summary)).slice(0, 2000),
      html,
      text,
      method,
    });
  }
  return { outcome, candidates, ok };
}

/**
 * The order articles are stored and clustered in: by publication time, then canonical URL,
 * then source, so the same articles make the same stories whatever order the fetches finished.
 */
export function candidateOrder(
  a: { time: number; canonKey: string; sourceId: number },
  b: { time: number; canonKey: string; sourceId: number },
): number {
  return (
    a.time - b.time ||
    (a.canonKey < b.canonKey ? -1 : a.canonKey > b.canonKey ? 1 : 0) ||
    a.sourceId - b.sourceId
  );
}

/**
 * Fetch all sources, store new articles, cluster and summarize. Network work overlaps across
 * hosts; storing and clustering wait for every fetch and then run in `candidateOrder`.
 * @example const report = await fetchAll(db, { now: Date.now })
 */
export async function fetchAll(db: Db, opts: FetchOptions): Promise<FetchReport> {
  const feedLimits = { ...FEED_LIMITS, ...opts.feedLimits };
  const pageLimits = { ...PAGE_LIMITS, ...opts.pageLimits };
  const cx: FetchContext = {
    db,
    opts,
    gate: new HostGate(feedLimits.hostDelayMs),
    feedLimits,
    pageLimits,
  };
  const ja = await japaneseTokenizer();
  const windowMs = opts.windowMs ?? 7 * DAY;
  let sources = await sourceRows(db);
  if (opts.sourceIds) sources = sources.filter((s) => opts.sourceIds!.includes(Number(s.id)));
  opts.progress?.setTotal(sources.length);
  const nowIso = isoUtc(opts.now());

  const fetched: Fetched[] = new Array(sources.length);
  let next = 0;
  const workers = Array.from(
    { length: Math.max(1, Math.min(opts.concurrency ?? 4, sources.length)) },
    async () => {
      while (next < sources.length) {
        const i = next++;
        const src = sources[i]!;
        try {
          fetched[i] = await fetchSource(cx, src);
        } catch (err) {
          const outcome: SourceOutcome = {
            id: Number(src.id),
            name: src.name,
            url: src.url,
            status: 'error',
            newArticles: 0,
            duplicates: 0,
            refused: 0,
            refusals: [],
            error: err instanceof Error ? err.message : String(err),
            code: isMamoriError(err) ? err.code : ((err as { code?: string }).code ?? 'E_INPUT'),
          };
          fetched[i] = { outcome, candidates: [] };
          await db
            .updateTable('bulletin_source')
            .set((eb) => ({
              last_fetch_at: nowIso,
              last_status: 'error',
              last_error: outcome.error!.slice(0, 500),
              fail_count: eb('fail_count', '+', 1),
            }))
            .where('id', '=', src.id)
            .execute();
        } finally {
          opts.progress?.tick(1, src.name);
        }
      }
    },
  );
  await Promise.all(workers);

  const state = await loadClusterer(db, isoUtc(opts.now() - 2 * windowMs), ja, windowMs);
  const all = fetched.flatMap((f) => f.candidates).sort(candidateOrder);
  const outcomeOf = new Map(fetched.map((f) => [f.outcome.id, f.outcome]));
  const touched = new Set<number>();
  let created = 0;
  for (const c of all) {
    const r = await storeCandidate(db, state, c, ja, windowMs, nowIso);
    if (r.result === 'dup') continue;
    if (r.created) created++;
    touched.add(r.storyId);
    const o = outcomeOf.get(c.sourceId)!;
    o.newArticles++;
    if (r.result === 'near-dup') o.duplicates++;
  }
  for (let i = 0; i < sources.length; i++) {
    const f = fetched[i]!;
    if (!f.ok) continue;
    const src = sources[i]!;
    await db
      .updateTable('bulletin_source')
      .set({
        last_fetch_at: nowIso,
        last_ok_at: nowIso,
        last_status: f.ok.notModified ? 'not-modified' : 'ok',
        last_error: null,
        fail_count: 0,
        ...(f.ok.notModified ? {} : { etag: f.ok.etag, last_modified: f.ok.lastModified }),
        article_count: await db
          .selectFrom('bulletin_article')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('source_id', '=', src.id)
          .executeTakeFirstOrThrow()
          .then((r) => Number(r.n)),
      })
      .where('id', '=', src.id)
      .execute();
  }
  await refreshStories(
    db,
    [...touched].sort((a, b) => a - b),
    ja,
    opts.now,
  );
  opts.progress?.done();
  const outcomes = fetched.map((f) => f.outcome);
  return {
    sources: outcomes,
    newArticles: outcomes.reduce((a, o) => a + o.newArticles, 0),
    storiesTouched: touched.size,
    storiesCreated: created,
  };
}

/** Store one article in its story (a near-duplicate's, the best match, or a new one). */
async function storeCandidate(
  db: Db,
  state: ClusterState,
  c: Candidate,
  ja: JaTokenizer,
  windowMs: number,
  nowIso: string,
): Promise<{ result: 'dup' | 'near-dup' | 'new'; storyId: number; created: boolean }> {
  const dup = await db
    .selectFrom('bulletin_article')
    .select('id')
    .where('canonical_url', '=', c.canonKey)
    .executeTakeFirst();
  if (dup) return { result: 'dup', storyId: 0, created: false };
  const f = features(
    { key: c.canonKey, title: c.title, text: c.text, lang: c.lang, time: c.time, outlet: c.outlet },
    ja,
  );
  let duplicateOf: number | null = null;
  let dupStory: number | undefined;
  for (const r of state.recent) {
    if (Math.abs(r.time - f.time) <= windowMs && minhashSimilarity(r.sig, f.sig) >= 0.9) {
      duplicateOf = r.id;
      dupStory = r.storyId;
      break;
    }
  }
  const matched = dupStory !== undefined ? { storyId: dupStory } : state.clusterer.match(f);
  const stored = await db.transaction().execute(async (trx) => {
    let storyId: number;
    if (matched) storyId = matched.storyId;
    else {
      const row = await trx
        .insertInto('bulletin_story')
        .values({
          title: c.title,
          lang: c.lang,
          first_seen: isoUtc(c.time),
          last_seen: isoUtc(c.time),
          summarized_at: null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      storyId = Number(row.id);
    }
    const ins = await trx
      .insertInto('bulletin_article')
      .values({
        source_id: c.sourceId,
        story_id: storyId,
        url: c.link,
        canonical_url: c.canonKey,
        guid: c.guid,
        title: c.title,
        lang: c.lang,
        published_at: isoUtc(c.time),
        fetched_at: nowIso,
        feed_summary: c.feedSummary,
        content_html: c.html,
        content_text: c.text,
        extract_method: c.method,
        minhash: toHex(f.sig),
        duplicate_of: duplicateOf,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { storyId, articleId: Number(ins.id) };
  });
  // Only once the rows are committed does the in-memory index learn of them.
  state.clusterer.assign(stored.storyId, f);
  state.recent.push({ id: stored.articleId, sig: f.sig, storyId: stored.storyId, time: c.time });
  return {
    result: duplicateOf !== null ? 'near-dup' : 'new',
    storyId: stored.storyId,
    created: !matched,
  };
}

/** Importance: outlets matter most, then identifiers, then money/volume and topic. */
export function importanceOf(
  outlets: number,
  ids: number,
  tags: string[],
  articles: number,
): number {
  let s = outlets * 100 + Math.min(articles, 10) * 10 + Math.min(ids, 5) * 15;
  if (tags.includes('breach') || tags.includes('theft')) s += 30;
  if (tags.includes('vulnerability')) s += 20;
  if (tags.includes('malware')) s += 15;
  return s;
}

/** Recompute title, summary, tags, ids, counts and importance of stories. */
export async function refreshStories(
  db: Db,
  storyIds: number[],
  ja: JaTokenizer,
  now: () => number,
): Promise<void> {
  for (const sid of storyIds) {
    const arts = await db
      .selectFrom('bulletin_article')
      .innerJoin('bulletin_source', 'bulletin_source.id', 'bulletin_article.source_id')
      .select([
        'bulletin_article.title',
        'bulletin_article.content_text',
        'bulletin_article.lang',
        'bulletin_article.published_at',
        'bulletin_article.duplicate_of',
        'bulletin_source.id as source_id',
      ])
      .where('bulletin_article.story_id', '=', sid)
      .orderBy('bulletin_article.published_at')
      .execute();
    if (!arts.length) continue;
    const langCount = { ja: 0, en: 0 };
    for (const a of arts) langCount[a.lang as Lang]++;
    const lang: Lang = langCount.ja >= langCount.en ? 'ja' : 'en';
    const originals = arts.filter((a) => a.duplicate_of === null);
    const docs = (originals.length ? originals : arts).map((a) => ({
      text: `${a.content_text}`,
      lang: a.lang as Lang,
      time: Date.parse(a.published_at),
    }));
    const bullets = summarize(docs, lang, ja);
    const all = arts.map((a) => `${a.title}\n${a.content_text}`).join('\n');
    const tags = tagsOf(all);
    const ids = extractIds(all);
    const outlets = new Set(arts.map((a) => Number(a.source_id))).size;
    const title = (arts.find((a) => a.lang === lang) ?? arts[0]!).title;
    await db
      .updateTable('bulletin_story')
      .set({
        title,
        lang,
        first_seen: arts[0]!.published_at,
        last_seen: arts[arts.length - 1]!.published_at,
        article_count: arts.length,
        outlet_count: outlets,
        importance: importanceOf(outlets, ids.length, tags, arts.length),
        summary: JSON.stringify(bullets),
        tags: JSON.stringify(tags),
        ids: JSON.stringify(ids),
        summarized_at: isoUtc(now()),
      })
      .where('id', '=', sid)
      .execute();
  }
}
