/**
 * The bulletin's store access: sources (add, list, remove, OPML), articles, stories and issues,
 * on SQLite or PostgreSQL through Kysely. Multi-row changes run in transactions.
 * Not the fetching (pipeline.ts) nor the rendering (core/render.ts).
 */
import type { Kysely } from 'kysely';
import { MamoriError } from '../shared/errors.js';
import type { Database } from '../storage/index.js';
import { formatAllowPrivate, parseAllowPrivate } from './core/addresses.js';
import { type OpmlFeed, parseOpml, writeOpml } from './core/opml.js';

export type Db = Kysely<Database>;

export interface Source {
  id: number;
  url: string;
  name: string;
  lang: string | null;
  lastFetchAt: string | null;
  lastStatus: string | null;
  lastError: string | null;
  failCount: number;
  articleCount: number;
  /** Private addresses this source may reach: null none, `*` all, or comma-separated CIDRs. */
  allowPrivate: string | null;
}

function toSource(r: {
  id: number;
  url: string;
  name: string;
  lang: string | null;
  last_fetch_at: string | null;
  last_status: string | null;
  last_error: string | null;
  fail_count: number;
  article_count: number;
  allow_private: string | null;
}): Source {
  return {
    id: Number(r.id),
    url: r.url,
    name: r.name,
    lang: r.lang,
    lastFetchAt: r.last_fetch_at,
    lastStatus: r.last_status,
    lastError: r.last_error,
    failCount: Number(r.fail_count),
    articleCount: Number(r.article_count),
    allowPrivate: r.allow_private ?? null,
  };
}

export function validateFeedUrl(url: string): string {
  const u = url.trim();
  if (u.startsWith('/') || u.startsWith('./') || u.startsWith('../')) return u;
  let parsed: URL;
  try {
    parsed = new URL(u);
  } catch {
    throw new MamoriError('E_INPUT', `not a URL: ${JSON.stringify(url)}`, {
      hint: 'give an http(s):// or file: URL, or a path',
    });
  }
  if (!['http:', 'https:', 'file:'].includes(parsed.protocol))
    throw new MamoriError('E_INPUT', `unsupported URL scheme ${parsed.protocol}`, {
      hint: 'feeds are http(s):// or file:',
    });
  return parsed.toString();
}

function validateLang(lang: string | undefined): string | null {
  if (lang === undefined) return null;
  if (lang !== 'ja' && lang !== 'en')
    throw new MamoriError('E_INPUT', `--lang must be ja or en, not ${JSON.stringify(lang)}`);
  return lang;
}

/** The stored form of an allowance: true (all), false (none), `*`, or CIDRs. */
function allowanceOf(
  allow: boolean | string | readonly string[] | undefined,
): string | null | undefined {
  if (allow === undefined) return undefined;
  if (allow === true) return '*';
  if (allow === false) return null;
  try {
    return formatAllowPrivate(
      parseAllowPrivate(typeof allow === 'string' ? allow : allow.join(',')),
    );
  } catch (e) {
    throw new MamoriError('E_INPUT', `--allow-private: ${(e as Error).message}`, {
      hint: 'give no value (all private addresses) or CIDRs such as 10.1.0.0/16',
    });
  }
}

/**
 * Add a feed source (upsert on the URL). `allowPrivate` lets this source's fetches (feed, pages,
 * redirects) reach private addresses: `true` all, or a list of CIDRs; by default only global
 * unicast addresses are reached.
 * @example await addSource(db, 'https://example.com/feed.xml', { name: 'Example', lang: 'en' }, now)
 */
export async function addSource(
  db: Db,
  url: string,
  opts: { name?: string; lang?: string; allowPrivate?: boolean | string | readonly string[] },
  nowIso: string,
): Promise<{ source: Source; created: boolean }> {
  const u = validateFeedUrl(url);
  const lang = validateLang(opts.lang);
  const allow = allowanceOf(opts.allowPrivate);
  return db.transaction().execute(async (trx) => {
    const existing = await trx
      .selectFrom('bulletin_source')
      .selectAll()
      .where('url', '=', u)
      .executeTakeFirst();
    if (existing) {
      if (opts.name !== undefined || lang !== null || allow !== undefined) {
        await trx
          .updateTable('bulletin_source')
          .set({
            ...(opts.name !== undefined ? { name: opts.name } : {}),
            ...(lang !== null ? { lang } : {}),
            ...(allow !== undefined ? { allow_private: allow } : {}),
          })
          .where('id', '=', existing.id)
          .execute();
      }
      const row = await trx
        .selectFrom('bulletin_source')
        .selectAll()
        .where('id', '=', existing.id)
        .executeTakeFirstOrThrow();
      return { source: toSource(row), created: false };
    }
    const name =
      opts.name ??
      (() => {
        try {
          return new URL(u).host || u;
        } catch {
          return u;
        }
      })();
    const row = await trx
      .insertInto('bulletin_source')
      .values({
        url: u,
        name,
        lang,
        created_at: nowIso,
        site_url: null,
        etag: null,
        last_modified: null,
        last_fetch_at: null,
        last_ok_at: null,
        last_status: null,
        last_error: null,
        allow_private: allow ?? null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return { source: toSource(row), created: true };
  });
}

export async function listSources(db: Db): Promise<Source[]> {
  const rows = await db.selectFrom('bulletin_source').selectAll().orderBy('id').execute();
  return rows.map(toSource);
}

/** Remove a source by id or URL (its articles go with it). */
export async function removeSource(db: Db, idOrUrl: string): Promise<Source> {
  return db.transaction().execute(async (trx) => {
    const q = trx.selectFrom('bulletin_source').selectAll();
    const row = /^\d+$/.test(idOrUrl)
      ? await q.where('id', '=', Number(idOrUrl)).executeTakeFirst()
      : await q.where('url', '=', idOrUrl.trim()).executeTakeFirst();
    if (!row)
      throw new MamoriError('E_NOT_FOUND', `no source ${idOrUrl}`, {
        hint: 'see mamori bulletin source list',
      });
    await trx.deleteFrom('bulletin_article').where('source_id', '=', row.id).execute();
    await trx.deleteFrom('bulletin_source').where('id', '=', row.id).execute();
    return toSource(row);
  });
}

/** Import an OPML file's feeds; returns how many were new. All or nothing. */
export async function importOpml(
  db: Db,
  text: string,
  nowIso: string,
): Promise<{ added: number; existing: number; feeds: OpmlFeed[] }> {
  let feeds: OpmlFeed[];
  try {
    feeds = parseOpml(text);
  } catch (e) {
    throw new MamoriError('E_INPUT', `not an OPML file: ${(e as Error).message}`);
  }
  for (const f of feeds) validateFeedUrl(f.url);
  let added = 0;
  await db.transaction().execute(async (trx) => {
    for (const f of feeds) {
      const url = validateFeedUrl(f.url);
      const exists = await trx
        .selectFrom('bulletin_source')
        .select('id')
        .where('url', '=', url)
        .executeTakeFirst();
      if (exists) continue;
      const lang = f.lang === 'ja' || f.lang === 'en' ? f.lang : null;
      await trx
        .insertInto('bulletin_source')
        .values({
          url,
          name: f.name,
          lang,
          created_at: nowIso,
          site_url: f.siteUrl ?? null,
          etag: null,
          last_modified: null,
          last_fetch_at: null,
          last_ok_at: null,
          last_status: null,
          last_error: null,
        })
        .execute();
      added++;
    }
  });
  return { added, existing: feeds.length - added, feeds };
}

export async function exportOpml(db: Db): Promise<string> {
  const rows = await db.selectFrom('bulletin_source').selectAll().orderBy('id').execute();
  return writeOpml(
    rows.map((r) => ({
      url: r.url,
      name: r.name,
      ...(r.lang ? { lang: r.lang } : {}),
      ...(r.site_url ? { siteUrl: r.site_url } : {}),
    })),
  );
}
