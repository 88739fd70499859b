/**
 * `fetch`: every source's feed (conditionally), every new entry's page (politely), the article
 * text extracted, canonical-URL and near-duplicate dedup, then incremental clustering into
 * stories and fresh three-line summaries for the stories that changed. A failing source is
 * recorded on its row and reported; the others still run.
 */
import { isoUtc } from '../shared/clock.js';
import { isMamoriError } from '../shared/errors.js';
import type { Progress } from '../shared/progress.js';
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
import { FEED_LIMITS, type FetchLimits, HostGate, httpGet, PAGE_LIMITS } from './feeds.js';
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
}

export interface SourceOutcome {
  id: number;
  name: string;
  url: string;
  status: 'ok' | 'not-modified' | 'error';
  newArticles: number;
  duplicates: number;
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

/**
 * Fetch all sources, store new articles, cluster and summarize.
 * @example const report = await fetchAll(db, { now: Date.now })
 */
export async function fetchAll(db: Db, opts: FetchOptions): Promise<FetchReport> {
  const feedLimits = { ...FEED_LIMITS, ...opts.feedLimits };
  const pageLimits = { ...PAGE_LIMITS, ...opts.pageLimits };
  const gate = new HostGate(feedLimits.hostDelayMs);
  const ja = await japaneseTokenizer();
  const windowMs = opts.windowMs ?? 7 * DAY;
  const state = await loadClusterer(db, isoUtc(opts.now() - 2 * windowMs), ja, windowMs);
  let sources = await db.selectFrom('bulletin_source').selectAll().orderBy('id').execute();
  if (opts.sourceIds) sources = sources.filter((s) => opts.sourceIds!.includes(Number(s.id)));
  opts.progress?.setTotal(sources.length);
  const touched = new Set<number>();
  let created = 0;
  // Clustering and writes are serialized (one writer); network work overlaps across hosts.
  let writeChain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = writeChain.then(fn);
    writeChain = p.catch(() => undefined);
    return p;
  };

  const runSource = async (src: (typeof sources)[number]): Promise<SourceOutcome> => {
    const outcome: SourceOutcome = {
      id: Number(src.id),
      name: src.name,
      url: src.url,
      status: 'ok',
      newArticles: 0,
      duplicates: 0,
    };
    const nowIso = isoUtc(opts.now());
    try {
      const res = await gate.run(hostOf(src.url) || src.url, () =>
        httpGet(
          src.url,
          feedLimits,
          { etag: src.etag, lastModified: src.last_modified },
          opts.signal,
        ),
      );
      if (res.notModified) {
        outcome.status = 'not-modified';
        await db
          .updateTable('bulletin_source')
          .set({
            last_fetch_at: nowIso,
            last_ok_at: nowIso,
            last_status: 'not-modified',
            last_error: null,
            fail_count: 0,
          })
          .where('id', '=', src.id)
          .execute();
        return outcome;
      }
      const sourceIsLocal = !/^https?:/i.test(src.url);
      const decoded = decodeBytes(res.body, res.contentType);
      const parsed = parseFeed(decoded.text, { baseUrl: res.url });
      if (!parsed.version)
        throw Object.assign(
          new Error(`not a feed (${parsed.bozo_exception ?? 'unknown format'})`),
          { code: 'E_INPUT' },
        );
      const entries = parsed.entries.slice(0, opts.maxEntriesPerSource ?? 200);
      for (const e of entries) {
        const link = str(e.link) || (str(e.id).startsWith('http') ? str(e.id) : '');
        if (!link) continue;
        // A feed from the network may only point at the network: a file: or path link in a
        // remote feed would make us read (and store) local files. Local feeds may use both.
        if (!/^https?:/i.test(link) && !sourceIsLocal) continue;
        const canon = canonicalUrl(link);
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
              httpGet(link, pageLimits, {}, opts.signal),
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
            // The page failing is not the source failing: keep the feed's own text.
            method = `feed (page: ${isMamoriError(err) ? err.message : String(err)})`.slice(0, 200);
          }
        }
        const title = htmlToText(str(e.title)) || link;
        const lang = ((src.lang as Lang | null) ??
          (pageLang === 'ja' || pageLang === 'en'
            ? pageLang
            : detectLang(`${title} ${text}`))) as Lang;
        const time = Math.min(entryTime(e, opts.now()), opts.now());
        const f = features({ key: canon, title, text, lang, time, outlet: src.name }, ja);
        const result = await serial(async () => {
          const canonKey = pageCanon ?? canon;
          // Checked again here, in the one writer: another source may have stored it meanwhile.
          const dup = await db
            .selectFrom('bulletin_article')
            .select('id')
            .where('canonical_url', '=', canonKey)
            .executeTakeFirst();
          if (dup) return 'dup';
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
                  title,
                  lang,
                  first_seen: isoUtc(time),
                  last_seen: isoUtc(time),
                  summarized_at: null,
                })
                .returning('id')
                .executeTakeFirstOrThrow();
              storyId = Number(row.id);
            }
            const ins = await trx
              .insertInto('bulletin_article')
              .values({
                source_id: src.id,
                story_id: storyId,
                url: link,
                canonical_url: canonKey,
                guid: str(e.id) || null,
                title,
                lang,
                published_at: isoUtc(time),
                fetched_at: nowIso,
                feed_summary: htmlToText(str(e.summary)).slice(0, 2000),
                content_html: html,
                content_text: text,
                extract_method: method,
                minhash: toHex(f.sig),
                duplicate_of: duplicateOf,
              })
              .returning('id')
              .executeTakeFirstOrThrow();
            return { storyId, articleId: Number(ins.id) };
          });
          // Only once the rows are committed does the in-memory index learn of them.
          if (!matched) created++;
          state.clusterer.assign(stored.storyId, f);
          state.recent.push({ id: stored.articleId, sig: f.sig, storyId: stored.storyId, time });
          touched.add(stored.storyId);
          return duplicateOf !== null ? 'near-dup' : 'new';
        });
        if (result === 'dup') continue;
        outcome.newArticles++;
        if (result === 'near-dup') outcome.duplicates++;
      }
      await db
        .updateTable('bulletin_source')
        .set({
          last_fetch_at: nowIso,
          last_ok_at: nowIso,
          last_status: 'ok',
          last_error: null,
          fail_count: 0,
          etag: res.etag,
          last_modified: res.lastModified,
          article_count: await db
            .selectFrom('bulletin_article')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('source_id', '=', src.id)
            .executeTakeFirstOrThrow()
            .then((r) => Number(r.n)),
        })
        .where('id', '=', src.id)
        .execute();
    } catch (err) {
      outcome.status = 'error';
      outcome.error = err instanceof Error ? err.message : String(err);
      outcome.code = isMamoriError(err) ? err.code : ((err as { code?: string }).code ?? 'E_INPUT');
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
    return outcome;
  };

  const outcomes: SourceOutcome[] = new Array(sources.length);
  let next = 0;
  const workers = Array.from(
    { length: Math.max(1, Math.min(opts.concurrency ?? 4, sources.length)) },
    async () => {
      while (next < sources.length) {
        const i = next++;
        outcomes[i] = await runSource(sources[i]!);
      }
    },
  );
  await Promise.all(workers);
  await writeChain;
  await refreshStories(db, [...touched], ja, opts.now);
  opts.progress?.done();
  return {
    sources: outcomes,
    newArticles: outcomes.reduce((a, o) => a + o.newArticles, 0),
    storiesTouched: touched.size,
    storiesCreated: created,
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
