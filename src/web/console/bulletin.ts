/**
 * The console's Bulletin pages: source health (last fetch, status, failures per source, with a
 * chart of articles per source equal to /api/v1/bulletin/sources), the issues, a reader for one
 * issue, and for operators the commentary editor and Publish. JSON: POST
 * /api/v1/bulletin/issues/:id/commentary `{storyId, commentary}` and /publish. The bulletin
 * area decides what an edit or a publication is (setCommentary, publishIssue); this serves it.
 */
import { join } from 'node:path';
import type { Context } from 'hono';
import { html } from 'hono/html';
import { MamoriError } from '../../shared/errors.js';
import { dataDir } from '../../shared/paths.js';
import type { PageCtx, WebDeps } from '../types.js';
import { barChart } from '../ui/chart.js';
import { t } from '../ui/i18n.js';
import { pageCtx, renderPage } from '../ui/render.js';
import type { ConsoleExtra } from './extras.js';

const bulletin = () => import('../../bulletin/index.js');

function issueIdOf(c: Context): number {
  const id = Number(c.req.param('id'));
  if (!Number.isSafeInteger(id) || id < 1)
    throw new MamoriError('E_USAGE', 'an issue id is a positive integer');
  return id;
}

function storyIdOf(v: unknown): number {
  const id = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(id) || id < 1)
    throw new MamoriError('E_INPUT', 'storyId must be a positive integer');
  return id;
}

function commentaryOf(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new MamoriError('E_INPUT', 'commentary must be text');
  return v;
}

const canEdit = (ctx: PageCtx) => ctx.role === 'operator' || ctx.role === 'admin';
const safeHref = (url: string) => (/^https?:\/\//i.test(url) ? url : '#');
const outDir = (deps: WebDeps) => deps.bulletinDir ?? join(dataDir(), 'bulletin');

/** Articles per source, as /api/v1/bulletin/sources gives them. */
export function sourceBars(sources: { name: string; articleCount: number }[]) {
  return sources.map((s) => ({ label: s.name, value: s.articleCount }));
}

async function publish(deps: WebDeps, id: number) {
  const b = await bulletin();
  const files = await b.publishIssue(deps.store.db, id, outDir(deps), Date.now());
  const issue = await b.getIssue(deps.store.db, id);
  return { id, status: issue.status, publishedAt: issue.publishedAt, files };
}

export const bulletinExtra: ConsoleExtra = {
  async before(deps, ctx) {
    const b = await bulletin();
    const lang = ctx.lang;
    const [sources, issues] = await Promise.all([
      b.listSources(deps.store.db),
      b.listIssues(deps.store.db, 20),
    ]);
    return html`<section aria-labelledby="health-h"><h2 id="health-h">${t(lang, 'Source health')}</h2>
${
  sources.length
    ? html`<div class="table-wrap"><table data-table="bulletin-sources"><thead><tr><th scope="col">source</th><th scope="col">${t(lang, 'Last fetch')}</th><th scope="col">${t(lang, 'Status')}</th><th scope="col">${t(lang, 'Failures')}</th><th scope="col">articles</th><th scope="col">${t(lang, 'Last error')}</th></tr></thead><tbody>
${sources.map((s) => html`<tr data-source="${s.id}"><td>${s.name}<br><code class="muted">${s.url}</code></td><td>${s.lastFetchAt ?? 'never'}</td><td class="${s.lastStatus === 'error' ? 'sev-high' : ''}">${s.lastStatus ?? '—'}</td><td data-fails>${s.failCount}</td><td>${s.articleCount}</td><td>${s.lastError ?? ''}</td></tr>`)}
</tbody></table></div>
${barChart({ id: 'bulletin-sources', title: t(lang, 'Articles per source'), bars: sourceBars(sources) })}`
    : html`<p class="muted">No feeds yet: <code>mamori bulletin source add &lt;feed-url&gt;</code>.</p>`
}</section>
<section aria-labelledby="issues-h"><h2 id="issues-h">${t(lang, 'Issues')}</h2>
${
  issues.length
    ? html`<div class="table-wrap"><table data-table="bulletin-issues"><thead><tr><th scope="col">issue</th><th scope="col">${t(lang, 'Status')}</th><th scope="col">created</th><th scope="col">published</th><th scope="col">stories</th></tr></thead><tbody>
${issues.map((i) => html`<tr><td><a href="/bulletin/issues/${i.id}">#${i.id}</a></td><td>${i.status}</td><td>${i.createdAt}</td><td>${i.publishedAt ?? '—'}</td><td>${i.items.length}</td></tr>`)}
</tbody></table></div>`
    : html`<p class="muted">No issue yet: <code>mamori bulletin draft --since 7d</code>.</p>`
}</section>`;
  },
  routes(app, deps) {
    app.get('/bulletin/issues/:id', async (c) => {
      const b = await bulletin();
      const ctx = pageCtx(c);
      const lang = ctx.lang;
      const issue = await b.getIssue(deps.store.db, issueIdOf(c));
      const editable = canEdit(ctx) && issue.status === 'draft';
      return renderPage(
        c,
        deps.frame,
        `Bulletin #${issue.id}`,
        'bulletin',
        html`<h1>${t(lang, 'Bulletin')} #${issue.id}</h1>
<p data-issue-status="${issue.status}">${t(lang, 'Status')}: <strong>${issue.status}</strong>${issue.publishedAt ? html` (${issue.publishedAt})` : ''} · ${issue.items.length} stor(ies) since ${issue.since}</p>
<p class="lead">${issue.header}</p>
${
  editable
    ? html`<form method="post" action="/bulletin/issues/${issue.id}/publish"><input type="hidden" name="_csrf" value="${ctx.csrf}"><button class="primary" type="submit">${t(lang, 'Publish')}</button> <span class="muted">Markdown, HTML, RSS and Atom to the bulletin directory.</span></form>`
    : ''
}
${issue.items.map(
  (
    item,
  ) => html`<article class="story card" id="story-${item.storyId}" data-story="${item.storyId}"><h2 lang="${item.lang}">${item.title}</h2>
<ul lang="${item.lang}">${item.summary.map((x) => html`<li>${x}</li>`)}</ul>
${item.ids.length ? html`<p>${item.ids.map((id) => html`<a href="/vuln/v/${encodeURIComponent(id)}">${id}</a> ${item.severity?.[id] ? html`<span class="sev-${item.severity[id]}">(${item.severity[id]})</span> ` : ''}`)}</p>` : ''}
${item.inventory?.length ? html`<p class="alert">Affects your inventory: ${item.inventory.map((h) => `${h.ecosystem}/${h.package} ${h.version}`).join(', ')}</p>` : ''}
${item.excerpts.map((e) => html`<blockquote lang="${item.lang}"><p>${e.text}</p><footer>— <a href="${safeHref(e.url)}" rel="noreferrer noopener">${e.outlet}</a></footer></blockquote>`)}
<p class="muted">${item.sources.map((s, i) => html`${i ? ' · ' : ''}<a href="${safeHref(s.url)}" rel="noreferrer noopener">${s.outlet}</a>`)}</p>
${
  editable
    ? html`<form method="post" action="/bulletin/issues/${issue.id}/commentary"><input type="hidden" name="_csrf" value="${ctx.csrf}"><input type="hidden" name="storyId" value="${item.storyId}"><label for="c-${item.storyId}">${t(lang, 'Commentary')}</label><textarea id="c-${item.storyId}" name="commentary" rows="4" cols="60" maxlength="20000">${item.commentary}</textarea><br><button type="submit">${t(lang, 'Save')}<span class="skip"> ${t(lang, 'Commentary')} ${item.storyId}</span></button></form>`
    : item.commentary
      ? html`<section data-commentary><h3>${t(lang, 'Commentary')}</h3>${item.commentary.split(/\n{2,}/).map((p) => html`<p>${p}</p>`)}</section>`
      : ''
}</article>`,
)}`,
      );
    });
    app.post('/bulletin/issues/:id/commentary', async (c) => {
      const id = issueIdOf(c);
      const form = await c.req.parseBody();
      const storyId = storyIdOf(form.storyId);
      await (await bulletin()).setCommentary(
        deps.store.db,
        id,
        storyId,
        commentaryOf(form.commentary),
        Date.now(),
      );
      return c.redirect(`/bulletin/issues/${id}#story-${storyId}`, 303);
    });
    app.post('/bulletin/issues/:id/publish', async (c) => {
      const id = issueIdOf(c);
      await publish(deps, id);
      return c.redirect(`/bulletin/issues/${id}`, 303);
    });
    app.post('/api/v1/bulletin/issues/:id/commentary', async (c) => {
      const id = issueIdOf(c);
      const body = (await c.req.json()) as { storyId?: unknown; commentary?: unknown };
      const issue = await (await bulletin()).setCommentary(
        deps.store.db,
        id,
        storyIdOf(body.storyId),
        commentaryOf(body.commentary),
        Date.now(),
      );
      return c.json({
        id,
        status: issue.status,
        items: issue.items.map((i) => ({ storyId: i.storyId, commentary: i.commentary })),
      });
    });
    app.post('/api/v1/bulletin/issues/:id/publish', async (c) =>
      c.json(await publish(deps, issueIdOf(c))),
    );
  },
};
