/** `mamori bulletin …` verbs. Owned by the bulletin area: parse, call src/bulletin, print. */
import { MamoriError } from '../../shared/errors.js';
import { formatTable } from '../../shared/text.js';
import type { AreaSpec, CommandContext } from '../types.js';

const bulletin = () => import('../../bulletin/index.js');

async function db(ctx: CommandContext) {
  return (await ctx.store()).db;
}

function intOpt(v: unknown, name: string, def: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new MamoriError('E_USAGE', `--${name} must be a non-negative integer`);
  return n;
}

function issueId(s: string | undefined): number {
  if (!s || !/^\d+$/.test(s))
    throw new MamoriError('E_USAGE', `expected an issue id, got ${JSON.stringify(s ?? '')}`);
  return Number(s);
}

export const area: AreaSpec = {
  name: 'bulletin',
  summary: 'security news: feeds, cross-outlet stories, three-line summaries, publishing',
  description:
    'Follow security news feeds (RSS, Atom, JSON Feed; UTF-8, Shift_JIS, EUC-JP, ISO-2022-JP),\ngroup articles about one event from different outlets into stories, summarize each in three\nbullets (Japanese or English), and publish a bulletin issue as Markdown, HTML and RSS/Atom.',
  verbs: {
    source: {
      summary: 'manage feed sources: add, list, remove, import, export (OPML)',
      usage:
        'mamori bulletin source add <feed-url> [--name <name>] [--lang ja|en] [--allow-private | --allow-net <cidr>…] | list | remove <id|url> | import <opml> | export <opml>',
      examples: [
        'mamori bulletin source add https://www.jpcert.or.jp/rss/jpcert.rdf --lang ja --name JPCERT',
        'mamori bulletin source add http://intranet.example/feed.xml --allow-net 10.20.0.0/16',
        'mamori bulletin source list --json',
        'mamori bulletin source import feeds.opml',
      ],
      options: {
        name: { type: 'string', value: '<name>', description: 'display name of the outlet (add)' },
        lang: {
          type: 'string',
          value: 'ja|en',
          description: 'language of the feed (add; default: detected)',
        },
        'allow-private': {
          type: 'boolean',
          description:
            'let this source (feed, pages, redirects) reach loopback and private addresses (add; intranet feeds)',
        },
        'allow-net': {
          type: 'string',
          multiple: true,
          value: '<cidr>',
          description: 'let this source reach only this private network (add; repeatable)',
        },
      },
      positionals: { min: 1, max: 2, name: 'add|list|remove|import|export [arg]' },
      async run(ctx, { values, positionals }) {
        const b = await bulletin();
        const [sub, arg] = positionals;
        const now = new Date().toISOString();
        switch (sub) {
          case 'add': {
            if (!arg) throw new MamoriError('E_USAGE', 'source add needs a feed URL');
            const opts: { name?: string; lang?: string; allowPrivate?: boolean | string[] } = {};
            if (typeof values.name === 'string') opts.name = values.name;
            if (typeof values.lang === 'string') opts.lang = values.lang;
            const nets = values['allow-net'] as string[] | undefined;
            if (values['allow-private'] === true) opts.allowPrivate = true;
            else if (nets?.length) opts.allowPrivate = nets;
            const r = await b.addSource(await db(ctx), arg, opts, now);
            ctx.print(
              { created: r.created, source: r.source },
              () =>
                `${r.created ? 'added' : 'updated'} source ${r.source.id}: ${r.source.name} <${r.source.url}>`,
            );
            return 0;
          }
          case 'list': {
            const sources = await b.listSources(await db(ctx));
            ctx.print({ sources }, () =>
              sources.length
                ? formatTable(
                    ['id', 'name', 'lang', 'private', 'articles', 'last fetch', 'status', 'error'],
                    sources.map((s) => [
                      s.id,
                      s.name,
                      s.lang ?? '-',
                      s.allowPrivate === '*' ? 'all' : (s.allowPrivate ?? 'no'),
                      s.articleCount,
                      s.lastFetchAt ?? '-',
                      s.lastStatus ?? '-',
                      s.lastError ?? '',
                    ]),
                  )
                : 'no sources yet: mamori bulletin source add <feed-url>',
            );
            return 0;
          }
          case 'remove': {
            if (!arg) throw new MamoriError('E_USAGE', 'source remove needs an id or URL');
            const s = await b.removeSource(await db(ctx), arg);
            ctx.print({ removed: s }, () => `removed source ${s.id}: ${s.name}`);
            return 0;
          }
          case 'import': {
            if (!arg) throw new MamoriError('E_USAGE', 'source import needs an OPML file');
            const { readFile } = await import('node:fs/promises');
            let text: string;
            try {
              text = await readFile(arg, 'utf8');
            } catch (e) {
              throw new MamoriError(
                'E_INPUT',
                `cannot read ${arg}: ${(e as NodeJS.ErrnoException).code ?? e}`,
              );
            }
            const r = await b.importOpml(await db(ctx), text, now);
            ctx.print(
              { added: r.added, existing: r.existing },
              () => `imported ${r.added} new source(s); ${r.existing} already present`,
            );
            return 0;
          }
          case 'export': {
            const text = await b.exportOpml(await db(ctx));
            if (!arg || arg === '-') {
              ctx.io.stdout(text);
              return 0;
            }
            const { writeFile } = await import('node:fs/promises');
            await writeFile(arg, text, 'utf8');
            ctx.print({ written: arg }, () => `wrote ${arg}`);
            return 0;
          }
          default:
            throw new MamoriError('E_USAGE', `unknown source verb ${JSON.stringify(sub)}`, {
              hint: 'add, list, remove, import or export',
            });
        }
      },
    },
    fetch: {
      summary: 'fetch every source, extract articles, cluster stories, summarize',
      usage:
        'mamori bulletin fetch [--source <id>]… [--no-pages] [--host-delay <ms>] [--timeout <ms>] [--json]',
      examples: ['mamori bulletin fetch', 'mamori bulletin fetch --source 3 --json'],
      description:
        'A failing source is recorded (see `source list`) and shown; the others still run.\nExit 3 only when every source failed. Fetches reach only global unicast addresses (after DNS,\non every redirect) unless the source was added with --allow-private or --allow-net; a link\nthat leads elsewhere is dropped and counted as refused.',
      options: {
        source: {
          type: 'string',
          multiple: true,
          value: '<id>',
          description: 'only this source (repeatable)',
        },
        'no-pages': {
          type: 'boolean',
          description: "use the feed's text; do not fetch article pages",
        },
        'host-delay': {
          type: 'string',
          value: '<ms>',
          description: 'pause between requests to one host (default 1000)',
        },
        timeout: {
          type: 'string',
          value: '<ms>',
          description: 'per-request timeout (default 20000)',
        },
        'max-entries': {
          type: 'string',
          value: '<n>',
          description: 'new entries per source per run (default 200)',
        },
      },
      async run(ctx, { values }) {
        const b = await bulletin();
        const hostDelayMs = intOpt(values['host-delay'], 'host-delay', 1000);
        const timeoutMs = intOpt(values.timeout, 'timeout', 20_000);
        const ids = (values.source as string[] | undefined)?.map((s) => intOpt(s, 'source', 0));
        const progress = ctx.progress('fetching feeds');
        const report = await b.fetchAll(await db(ctx), {
          now: Date.now,
          feedLimits: { hostDelayMs, timeoutMs },
          pageLimits: { hostDelayMs, timeoutMs },
          pages: values['no-pages'] !== true,
          maxEntriesPerSource: intOpt(values['max-entries'], 'max-entries', 200),
          progress,
          signal: ctx.signal,
          ...(ids ? { sourceIds: ids } : {}),
        });
        ctx.print(report, () =>
          [
            formatTable(
              ['id', 'source', 'status', 'new', 'near-dup', 'refused', 'error'],
              report.sources.map((s) => [
                s.id,
                s.name,
                s.status,
                s.newArticles,
                s.duplicates,
                s.refused,
                s.error ?? s.refusals[0] ?? '',
              ]),
            ),
            '',
            `${report.newArticles} new article(s); ${report.storiesTouched} stor(ies) updated, ${report.storiesCreated} new`,
          ].join('\n'),
        );
        const failed = report.sources.filter((s) => s.status === 'error');
        if (!report.sources.length || failed.length < report.sources.length) return 0;
        // Every source failed: refused by the address policy (4) or unavailable (3).
        return failed.every((s) => s.code === 'E_SCOPE') ? 4 : 3;
      },
    },
    draft: {
      summary: 'draft a bulletin issue from recent stories',
      usage: 'mamori bulletin draft [--since 7d] [--max <n>] [--json]',
      examples: ['mamori bulletin draft --since 7d', 'mamori bulletin draft --json'],
      options: {
        since: {
          type: 'string',
          value: '<7d|24h|date>',
          description: 'stories seen since (default 7d)',
        },
        max: { type: 'string', value: '<n>', description: 'at most n stories (default 30)' },
        'header-lang': {
          type: 'string',
          value: 'ja|en',
          description: 'language of the standing header (default: the stories’ majority)',
        },
      },
      async run(ctx, { values }) {
        const b = await bulletin();
        const now = Date.now();
        const since = b.parseSince((values.since as string | undefined) ?? '7d', now);
        const hl = values['header-lang'];
        if (hl !== undefined && hl !== 'ja' && hl !== 'en')
          throw new MamoriError('E_USAGE', '--header-lang must be ja or en');
        const store = await ctx.store();
        const issue = await b.draftIssue(store.db, since, now, {
          links: b.storeLinks(store),
          maxItems: intOpt(values.max, 'max', 30),
          ...(hl ? { headerLang: hl as 'ja' | 'en' } : {}),
        });
        ctx.print(
          b.issueJson(issue),
          () =>
            `${b.renderMarkdown(issue)}\n(draft ${issue.id}: mamori bulletin edit ${issue.id}, then publish ${issue.id})`,
        );
        return 0;
      },
    },
    edit: {
      summary: 'edit a draft as Markdown in $EDITOR',
      usage: 'mamori bulletin edit <id>',
      examples: ['EDITOR=vim mamori bulletin edit 3'],
      positionals: { min: 1, max: 1, name: 'id' },
      async run(ctx, { positionals }) {
        const b = await bulletin();
        const id = issueId(positionals[0]);
        const store = await db(ctx);
        const issue = await b.getIssue(store, id);
        const editor = ctx.io.env.VISUAL || ctx.io.env.EDITOR;
        if (!editor) throw new MamoriError('E_DEPENDENCY', 'no editor: set $EDITOR (or $VISUAL)');
        const { mkdtemp, readFile, rm, writeFile } = await import('node:fs/promises');
        const { tmpdir } = await import('node:os');
        const { join } = await import('node:path');
        const { spawnSync } = await import('node:child_process');
        const dir = await mkdtemp(join(tmpdir(), 'mamori-bulletin-'));
        const file = join(dir, `issue-${id}.md`);
        try {
          await writeFile(file, b.renderMarkdown(issue), 'utf8');
          const r = spawnSync('/bin/sh', ['-c', `${editor} "$1"`, 'editor', file], {
            stdio: 'inherit',
            env: { ...process.env, ...ctx.io.env },
          });
          if (r.status !== 0)
            throw new MamoriError(
              'E_INPUT',
              `the editor exited with ${r.status ?? r.signal}; nothing saved`,
            );
          const edited = await b.saveEditedMarkdown(
            store,
            id,
            await readFile(file, 'utf8'),
            Date.now(),
          );
          ctx.print(
            b.issueJson(edited),
            () => `saved issue ${id}: ${edited.items.length} stor(ies)`,
          );
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
        return 0;
      },
    },
    publish: {
      summary: 'publish an issue: Markdown, one HTML file, RSS and Atom',
      usage: 'mamori bulletin publish <id> [--out <dir>] [--base-url <url>]',
      examples: ['mamori bulletin publish 3 --out ./public --base-url https://news.example.org/'],
      options: {
        out: {
          type: 'string',
          value: '<dir>',
          description: 'output directory (default $XDG_DATA_HOME/mamori/bulletin)',
        },
        'base-url': {
          type: 'string',
          value: '<url>',
          description: 'where the files will be served (for feed links)',
        },
      },
      positionals: { min: 1, max: 1, name: 'id' },
      async run(ctx, { values, positionals }) {
        const b = await bulletin();
        const id = issueId(positionals[0]);
        const { dataDir } = await import('../../shared/paths.js');
        const { join } = await import('node:path');
        const out = (values.out as string | undefined) ?? join(dataDir(ctx.io.env), 'bulletin');
        const r = await b.publishIssue(await db(ctx), id, out, Date.now(), {
          ...(typeof values['base-url'] === 'string' ? { baseUrl: values['base-url'] } : {}),
        });
        ctx.print(
          r,
          () => `published issue ${id}:\n  ${r.markdown}\n  ${r.html}\n  ${r.rss}\n  ${r.atom}`,
        );
        return 0;
      },
    },
  },
};
