/**
 * The vuln area's dashboard page and JSON API. Owned by the vuln area. Calls only
 * src/vuln/index.ts: /api/v1/vuln/stats, /api/v1/vuln/:id, POST /api/v1/vuln/check.
 */
import { html } from 'hono/html';
import { MamoriError } from '../../shared/errors.js';
import { checkInventory, lookup, registrationStats, vulnOverview } from '../../vuln/index.js';
import type { AreaWeb } from '../types.js';
import { emptyState } from '../ui/layout.js';

const MAX_BODY = 10 * 1024 * 1024;

export const vulnWeb: AreaWeb = {
  name: 'vuln',
  title: 'Vulnerabilities',
  summary: 'Local vulnerability database (JVN iPedia, NVD, OSV) and inventory checks.',
  api(app, deps) {
    app.get('/stats', async (c) => {
      const by = c.req.query('by') ?? 'year';
      if (!['year', 'quarter', 'cwe'].includes(by))
        throw new MamoriError('E_USAGE', 'by must be year, quarter or cwe');
      const top = c.req.query('top');
      const topN = top === undefined ? undefined : Number(top);
      if (topN !== undefined && (!Number.isInteger(topN) || topN < 1))
        throw new MamoriError('E_USAGE', 'top must be a positive integer');
      const from = c.req.query('from');
      const to = c.req.query('to');
      return c.json(
        await registrationStats(deps.store, {
          by: by as 'year' | 'quarter' | 'cwe',
          source: c.req.query('source') ?? 'jvn',
          ...(from ? { from } : {}),
          ...(to ? { to } : {}),
          ...(topN ? { top: topN } : {}),
        }),
      );
    });
    app.post('/check', async (c) => {
      const len = Number(c.req.header('content-length') ?? 0);
      if (len > MAX_BODY) throw new MamoriError('E_INPUT', 'inventory larger than 10 MB');
      const text = await c.req.text();
      if (text.length > MAX_BODY) throw new MamoriError('E_INPUT', 'inventory larger than 10 MB');
      // Parsed, checked and recorded by the vuln area; a large body on a worker thread.
      const record = c.req.query('record');
      const json = await checkInventory(deps.store, {
        text,
        name: c.req.query('name') ?? 'inventory',
        record: record !== 'false' && record !== '0',
      });
      return c.body(json, 200, { 'content-type': 'application/json; charset=UTF-8' });
    });
    app.get('/:id', async (c) => {
      const d = await lookup(deps.store, c.req.param('id'));
      if (!d) throw new MamoriError('E_NOT_FOUND', `${c.req.param('id')}: not in the store`);
      return c.json(d);
    });
  },
  async page(deps) {
    const o = await vulnOverview(deps.store);
    if (o.records === 0)
      return emptyState(
        'No vulnerability data yet.',
        'mamori vuln sync --source osv --from <dir|zip>',
      );
    return html`<section class="card"><h2>Store</h2>
<p>${o.advisories} vulnerabilities from ${o.records} records: ${o.bySource.map((s) => `${s.source} ${s.count}`).join(', ')}.</p></section>
${
  o.topCwes.length
    ? html`<section class="card"><h2>JVN iPedia registrations by CWE (JST)</h2><table><thead><tr><th>CWE</th><th>count</th><th>name</th></tr></thead><tbody>${o.topCwes.map(
        (r) => html`<tr><td>${r.key}</td><td>${r.count}</td><td>${r.name ?? ''}</td></tr>`,
      )}</tbody></table></section>`
    : ''
}
<section class="card"><h2>Most severe, most recent</h2><table><thead><tr><th>id</th><th>severity</th><th>published</th><th>title</th></tr></thead><tbody>${o.recent.map(
      (r) =>
        html`<tr><td><a href="/api/v1/vuln/${encodeURIComponent(r.id)}">${r.id}</a></td><td>${r.severity ?? 'unknown'}</td><td>${r.published ?? ''}</td><td>${r.title ?? ''}</td></tr>`,
    )}</tbody></table></section>`;
  },
};
