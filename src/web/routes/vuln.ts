/**
 * The vuln area's dashboard page and JSON API. Owned by the vuln area. Calls only
 * src/vuln/index.ts: /api/v1/vuln/stats, /api/v1/vuln/:id, POST /api/v1/vuln/check.
 */
import { html } from 'hono/html';
import { MamoriError } from '../../shared/errors.js';
import {
  type Component,
  checkComponents,
  InventoryError,
  lookup,
  parseInventory,
  recordCheckRun,
  registrationStats,
  vulnOverview,
} from '../../vuln/index.js';
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
      let components: Component[];
      let unsupported: string[] = [];
      try {
        const maybe = text.trimStart().startsWith('{')
          ? (JSON.parse(text) as Record<string, unknown>)
          : undefined;
        if (maybe && Array.isArray(maybe.components) && maybe.bomFormat === undefined) {
          components = (maybe.components as Record<string, unknown>[]).filter(
            (x) =>
              typeof x.name === 'string' &&
              typeof x.version === 'string' &&
              typeof x.ecosystem === 'string',
          ) as unknown as Component[];
        } else {
          const { parse } = await import('smol-toml');
          const inv = parseInventory(c.req.query('name') ?? 'inventory', text, parse);
          components = inv.components;
          unsupported = inv.unsupported;
        }
      } catch (err) {
        if (err instanceof InventoryError || err instanceof SyntaxError)
          throw new MamoriError('E_INPUT', `inventory: ${(err as Error).message}`);
        throw err;
      }
      const result = await checkComponents(deps.store, components);
      // Recorded as the newest "last check" unless ?record=false (the CLI's --no-record).
      const record = c.req.query('record');
      if (record !== 'false' && record !== '0')
        await recordCheckRun(deps.store, {
          origin: 'api',
          inventories: [c.req.query('name') ?? 'inventory'],
          components: components.length,
          result,
          unsupported: unsupported.length,
        });
      return c.json({
        findings: result.findings,
        unsupported: [...unsupported, ...result.unsupported],
        covered: result.notCovered + unsupported.length === 0,
        notCovered: result.notCovered,
        coverage: result.coverage,
      });
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
