/** The bulletin area's dashboard page and JSON API. Owned by the bulletin area. */
import { html } from 'hono/html';
import type { AreaWeb } from '../types.js';
import { emptyState } from '../ui/layout.js';

const bulletin = () => import('../../bulletin/index.js');

export const bulletinWeb: AreaWeb = {
  name: 'bulletin',
  title: 'Bulletin',
  summary: 'Security news from many outlets, one story each, with a three-line summary.',
  api(app, deps) {
    app.get('/issues', async (c) => {
      const b = await bulletin();
      const issues = await b.listIssues(deps.store.db, 50);
      return c.json({
        issues: issues.map((i) => ({
          ...b.issueJson(i),
          status: i.status,
          createdAt: i.createdAt,
          publishedAt: i.publishedAt,
        })),
      });
    });
    app.get('/issues/:id', async (c) => {
      const b = await bulletin();
      const id = Number(c.req.param('id'));
      if (!Number.isInteger(id) || id < 1)
        return c.json(
          { error: { code: 'E_INPUT', message: 'issue id must be a positive integer' } },
          400,
        );
      try {
        const i = await b.getIssue(deps.store.db, id);
        return c.json({
          ...b.issueJson(i),
          status: i.status,
          createdAt: i.createdAt,
          publishedAt: i.publishedAt,
          header: i.header,
        });
      } catch (e) {
        if ((e as { code?: string }).code === 'E_NOT_FOUND')
          return c.json({ error: { code: 'E_NOT_FOUND', message: (e as Error).message } }, 404);
        throw e;
      }
    });
    app.get('/stories', async (c) => {
      const b = await bulletin();
      return c.json({ stories: await b.listStories(deps.store.db, 100) });
    });
    app.get('/sources', async (c) => {
      const b = await bulletin();
      return c.json({ sources: await b.listSources(deps.store.db) });
    });
  },
  async page(deps) {
    const b = await bulletin();
    const [sources, stories, issues] = await Promise.all([
      b.listSources(deps.store.db),
      b.listStories(deps.store.db, 30),
      b.listIssues(deps.store.db, 10),
    ]);
    if (!sources.length && !stories.length && !issues.length)
      return emptyState(
        'No feeds and no bulletin issues yet.',
        'mamori bulletin source add <feed-url>',
      );
    const failing = sources.filter((s) => s.lastStatus === 'error');
    return html`<h1>Bulletin</h1>
<p>${sources.length} source(s), ${stories.length} recent stor(ies), ${issues.length} issue(s).</p>
${failing.length ? html`<section class="failing"><h2>Failing sources</h2><ul>${failing.map((s) => html`<li><strong>${s.name}</strong>: ${s.lastError ?? ''}</li>`)}</ul></section>` : ''}
<section><h2>Issues</h2><ul>${issues.map((i) => html`<li>#${i.id} · ${i.status} · ${i.createdAt.slice(0, 10)} · ${i.items.length} stor(ies)</li>`)}</ul></section>
<section><h2>Recent stories</h2>
${stories.map(
  (s) => html`<article class="story" lang="${s.lang}"><h3>${s.title}</h3>
<p class="muted">${s.outlets} outlet(s) · ${s.articles} article(s) · ${s.tags.join(', ')} ${s.ids.join(' ')}</p>
<ul>${s.summary.map((x) => html`<li>${x}</li>`)}</ul></article>`,
)}
</section>`;
  },
};
