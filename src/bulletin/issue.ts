/**
 * Bulletin issues in the store: `draft` gathers the stories seen since a time, ordered by
 * importance, into a new draft; `edit` saves the editor's Markdown back; `publish` writes the
 * Markdown, the self-contained HTML and the bulletin's RSS/Atom feeds to a directory.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isoUtc } from '../shared/clock.js';
import { MamoriError } from '../shared/errors.js';
import {
  type Issue,
  type IssueItem,
  parseMarkdown,
  renderAtom,
  renderHtml,
  renderMarkdown,
  renderRss,
  STANDING_HEADER,
} from './core/render.js';
import { splitSentences } from './core/text.js';
import type { CrossLinks } from './links.js';
import type { Db } from './store.js';

/** Parse `7d`, `24h`, `90m` or an ISO date into epoch ms before `now`. */
export function parseSince(since: string, now: number): number {
  const m = /^(\d+)\s*([dhm])$/.exec(since.trim());
  if (m)
    return now - Number(m[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[m[2] as 'd' | 'h' | 'm'];
  const t = Date.parse(since);
  if (Number.isNaN(t))
    throw new MamoriError(
      'E_INPUT',
      `--since must be like 7d, 24h or an ISO date, not ${JSON.stringify(since)}`,
    );
  return t;
}

function rowToIssue(r: {
  id: number;
  created_at: string;
  since: string;
  status: string;
  header: string;
  items: string;
  published_at: string | null;
}): Issue {
  return {
    id: Number(r.id),
    createdAt: r.created_at,
    since: r.since,
    status: r.status === 'published' ? 'published' : 'draft',
    header: r.header,
    items: JSON.parse(r.items) as IssueItem[],
    publishedAt: r.published_at,
  };
}

/** Create a draft issue from the stories seen since `sinceMs`. */
export async function draftIssue(
  db: Db,
  sinceMs: number,
  now: number,
  opts: { maxItems?: number; headerLang?: 'ja' | 'en'; links?: CrossLinks } = {},
): Promise<Issue> {
  const sinceIso = isoUtc(sinceMs);
  const stories = await db
    .selectFrom('bulletin_story')
    .selectAll()
    .where('last_seen', '>=', sinceIso)
    .where('article_count', '>', 0)
    .orderBy('importance', 'desc')
    .orderBy('last_seen', 'desc')
    .orderBy('id')
    .limit(opts.maxItems ?? 30)
    .execute();
  const items: IssueItem[] = [];
  for (const s of stories) {
    const arts = await db
      .selectFrom('bulletin_article')
      .innerJoin('bulletin_source', 'bulletin_source.id', 'bulletin_article.source_id')
      .select([
        'bulletin_article.url',
        'bulletin_article.content_text',
        'bulletin_article.feed_summary',
        'bulletin_source.name as outlet',
        'bulletin_source.id as sid',
      ])
      .where('bulletin_article.story_id', '=', s.id)
      .orderBy('bulletin_article.published_at')
      .execute();
    const seenOutlet = new Set<number>();
    const sources = [];
    const excerpts = [];
    for (const a of arts) {
      sources.push({ url: a.url, outlet: a.outlet });
      if (seenOutlet.has(Number(a.sid))) continue;
      seenOutlet.add(Number(a.sid));
      const first = splitSentences(a.content_text || a.feed_summary)
        .slice(0, 2)
        .join(' ');
      const text = [...first].length > 220 ? `${[...first].slice(0, 220).join('')}…` : first;
      if (text) excerpts.push({ outlet: a.outlet, url: a.url, text });
    }
    const ids = JSON.parse(s.ids) as string[];
    const tags = JSON.parse(s.tags) as string[];
    const severity: Record<string, string> = {};
    if (opts.links) {
      for (const id of ids) {
        const sev = await opts.links.severityOf(id);
        if (sev) severity[id] = sev;
      }
    }
    const inventory = opts.links && ids.length ? await opts.links.inventoryOf(ids) : [];
    const context = opts.links && tags.includes('IoT') ? await opts.links.iotContext() : undefined;
    items.push({
      ...(Object.keys(severity).length ? { severity } : {}),
      ...(inventory.length ? { inventory } : {}),
      ...(context ? { context } : {}),
      storyId: Number(s.id),
      title: s.title,
      sources,
      summary: JSON.parse(s.summary) as string[],
      tags,
      ids,
      commentary: '',
      excerpts,
      importance: Number(s.importance),
      lang: s.lang,
    });
  }
  const jaShare = items.filter((i) => i.lang === 'ja').length / Math.max(1, items.length);
  const header = STANDING_HEADER[opts.headerLang ?? (jaShare > 0.5 ? 'ja' : 'en')];
  const nowIso = isoUtc(now);
  const row = await db
    .insertInto('bulletin_issue')
    .values({
      created_at: nowIso,
      since: sinceIso,
      status: 'draft',
      header,
      items: JSON.stringify(items),
      published_at: null,
      updated_at: nowIso,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return rowToIssue(row);
}

export async function getIssue(db: Db, id: number): Promise<Issue> {
  const row = await db
    .selectFrom('bulletin_issue')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row)
    throw new MamoriError('E_NOT_FOUND', `no bulletin issue ${id}`, {
      hint: 'mamori bulletin draft creates one',
    });
  return rowToIssue(row);
}

export async function listIssues(db: Db, limit = 50): Promise<Issue[]> {
  const rows = await db
    .selectFrom('bulletin_issue')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map(rowToIssue);
}

/** Apply edited Markdown to an issue and save it. */
export async function saveEditedMarkdown(
  db: Db,
  id: number,
  markdown: string,
  now: number,
): Promise<Issue> {
  const issue = await getIssue(db, id);
  let edited: Issue;
  try {
    edited = parseMarkdown(markdown, issue);
  } catch (e) {
    throw new MamoriError('E_INPUT', `cannot read the edited bulletin: ${(e as Error).message}`, {
      hint: 'keep the <!-- story:N --> lines',
    });
  }
  await db
    .updateTable('bulletin_issue')
    .set({ header: edited.header, items: JSON.stringify(edited.items), updated_at: isoUtc(now) })
    .where('id', '=', id)
    .execute();
  return edited;
}

export interface PublishResult {
  id: number;
  markdown: string;
  html: string;
  rss: string;
  atom: string;
}

async function writeAtomically(path: string, text: string) {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text, 'utf8');
  await rename(tmp, path);
}

/** Publish: Markdown, HTML and the feeds (RSS 2.0 and Atom over all published issues). */
export async function publishIssue(
  db: Db,
  id: number,
  outDir: string,
  now: number,
  opts: { baseUrl?: string; title?: string } = {},
): Promise<PublishResult> {
  const issue = await getIssue(db, id);
  const nowIso = isoUtc(now);
  const published: Issue = {
    ...issue,
    status: 'published',
    publishedAt: issue.publishedAt ?? nowIso,
  };
  const dir = resolve(outDir);
  await mkdir(dir, { recursive: true });
  const html = renderHtml(published); // throws before anything is written if unsafe
  const others = (await listIssues(db, 50)).filter((i) => i.status === 'published' && i.id !== id);
  const all = [published, ...others].sort((a, b) => b.id - a.id);
  const meta = {
    title: opts.title ?? 'Mamori security bulletin',
    baseUrl: opts.baseUrl ?? pathToFileURL(dir).toString(),
    updated: nowIso,
  };
  const paths: PublishResult = {
    id,
    markdown: join(dir, `issue-${id}.md`),
    html: join(dir, `issue-${id}.html`),
    rss: join(dir, 'feed.xml'),
    atom: join(dir, 'atom.xml'),
  };
  await writeAtomically(paths.markdown, renderMarkdown(published));
  await writeAtomically(paths.html, html);
  await writeAtomically(paths.rss, renderRss(all, meta));
  await writeAtomically(paths.atom, renderAtom(all, meta));
  await db
    .updateTable('bulletin_issue')
    .set({ status: 'published', published_at: published.publishedAt, updated_at: nowIso })
    .where('id', '=', id)
    .execute();
  return paths;
}

/** The longest commentary one story takes (characters), so one form post cannot bloat an issue. */
export const MAX_COMMENTARY = 20_000;

/**
 * Set the editor's commentary on one story of a draft issue (the console's editor; the CLI's
 * `edit` goes through the whole Markdown). A published issue is not changed: draft a new one.
 * @example await setCommentary(db, 3, 41, 'Patch before Friday.', Date.now())
 */
export async function setCommentary(
  db: Db,
  id: number,
  storyId: number,
  commentary: string,
  now: number,
): Promise<Issue> {
  if ([...commentary].length > MAX_COMMENTARY)
    throw new MamoriError('E_INPUT', `commentary longer than ${MAX_COMMENTARY} characters`);
  const issue = await getIssue(db, id);
  if (issue.status === 'published')
    throw new MamoriError('E_INPUT', `issue ${id} is already published`, {
      hint: 'draft a new issue (mamori bulletin draft) to comment again',
    });
  const at = issue.items.findIndex((i) => i.storyId === storyId);
  if (at < 0) throw new MamoriError('E_NOT_FOUND', `issue ${id} has no story ${storyId}`);
  const items = issue.items.map((item, i) =>
    i === at ? { ...item, commentary: commentary.replace(/\r\n?/g, '\n').trim() } : item,
  );
  await db
    .updateTable('bulletin_issue')
    .set({ items: JSON.stringify(items), updated_at: isoUtc(now) })
    .where('id', '=', id)
    .where('status', '=', 'draft')
    .execute();
  return { ...issue, items };
}
