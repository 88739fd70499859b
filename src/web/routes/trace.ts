/**
 * The trace area's dashboard page (what is ingested, tagged, recently traced) and JSON API:
 * GET /api/v1/trace/status, /tags, /screen/:id (a txid, txid:vout or address;
 * ?model=&reviewAt=&refuseAt=). Decisions are the area's (screenDeposit); this only serves them.
 */
import { html } from 'hono/html';
import { MamoriError } from '../../shared/errors.js';
import { listTags, recentResults, screenDeposit, traceStats } from '../../trace/index.js';
import type { AreaWeb } from '../types.js';
import { emptyState } from '../ui/layout.js';

function share(v: string | undefined, name: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  const x = Number(v);
  if (!Number.isFinite(x) || x < 0 || x > 1) {
    throw new MamoriError('E_USAGE', `${name} must be a fraction between 0 and 1`);
  }
  return x;
}

const btc = (sat: number) => (sat / 1e8).toFixed(8);

export const traceWeb: AreaWeb = {
  name: 'trace',
  title: 'Tracing',
  summary: 'Taint tracing of stolen funds and deposit screening.',
  api(app, deps) {
    app.get('/status', async (c) => c.json(await traceStats(deps.store)));
    app.get('/tags', async (c) => c.json({ tags: await listTags(deps.store) }));
    app.get('/screen/:id', async (c) => {
      const model = c.req.query('model');
      if (model !== undefined && model !== 'poison' && model !== 'haircut') {
        throw new MamoriError('E_USAGE', 'model must be poison or haircut');
      }
      const reviewAt = share(c.req.query('reviewAt'), 'reviewAt');
      const refuseAt = share(c.req.query('refuseAt'), 'refuseAt');
      const r = await screenDeposit(deps.store, c.req.param('id'), {
        ...(model ? { model } : {}),
        ...(reviewAt !== undefined ? { reviewAt } : {}),
        ...(refuseAt !== undefined ? { refuseAt } : {}),
      });
      return c.json(r);
    });
  },
  async page(deps) {
    const stats = await traceStats(deps.store);
    if (stats.blocks === 0) {
      return emptyState('No chain data has been traced yet.', 'mamori trace ingest <blk*.dat>');
    }
    const tags = await listTags(deps.store);
    const results = await recentResults(deps.store, 10);
    return html`<section class="cards">
<div class="card"><h2>Chain</h2><p data-stat="blocks">${stats.blocks} blocks, tip height ${stats.tipHeight ?? '—'}</p><p>${stats.txs} transactions, ${stats.outputs} outputs</p></div>
<div class="card"><h2>Tagged funds</h2><p data-stat="tags">${stats.tags} tag(s) under ${stats.labels.length} label(s)</p></div>
<div class="card"><h2>Screening</h2><p>Screen a deposit: <code>mamori trace screen &lt;txid|address&gt;</code> or <code>GET /api/v1/trace/screen/&lt;id&gt;</code>.</p></div>
</section>
<h2>Tags</h2>
${
  tags.length === 0
    ? emptyState(
        'No stolen funds are tagged.',
        'mamori trace tag <txid:vout|address> --label <text>',
      )
    : html`<table><thead><tr><th>label</th><th>kind</th><th>target</th><th>source</th><th>tagged</th></tr></thead><tbody>
${tags.map((t) => html`<tr><td>${t.label}</td><td>${t.kind}</td><td><code>${t.target}</code></td><td>${t.source}</td><td>${t.createdAt}</td></tr>`)}
</tbody></table>`
}
<h2>Recent taint results</h2>
${
  results.length === 0
    ? html`<p class="empty">None recorded. Add <code>--record</code> to <code>mamori trace taint</code>.</p>`
    : html`<table><thead><tr><th>when</th><th>model</th><th>from</th><th>fee taint</th><th>max height</th><th>outputs</th><th>total BTC</th><th>tainted BTC</th></tr></thead><tbody>
${results.map((r) => html`<tr><td>${r.createdAt}</td><td>${r.model}</td><td>${r.label ?? r.start.join(', ')}</td><td>${r.feeTaint ? 'on' : 'off'}</td><td>${r.maxHeight ?? 'none'}</td><td>${r.outputCount}</td><td>${btc(r.totalValue)}</td><td>${btc(r.taintedValue)}</td></tr>`)}
</tbody></table>`
}`;
  },
};
