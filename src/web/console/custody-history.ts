/**
 * The Custody page's withdrawal pipeline (requested → approved → built → signed → broadcast →
 * confirmations) and balance history per tier against the hot cap, as tables and a line chart
 * drawn on the server (SVG, no script, no inline style). Every point carries its number in
 * `data-value`, from the same call as `/api/v1/custody/balance-history`, so they are equal.
 */
import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { Store } from '../../storage/index.js';
import type { GateEnv } from '../guard.js';
import type { PageCtx } from '../types.js';
import { t } from '../ui/i18n.js';

const custody = () => import('../../custody/index.js');
type Custody = Awaited<ReturnType<typeof custody>>;
type History = Awaited<ReturnType<Custody['balanceHistory']>>;
type Pipeline = Awaited<ReturnType<Custody['withdrawalPipeline']>>;

const btc = (sats: number) =>
  `${sats < 0 ? '-' : ''}${Math.floor(Math.abs(sats) / 1e8)}.${String(Math.abs(sats) % 1e8).padStart(8, '0')}`;
const COLOURS: Record<string, string> = { hot: '#a61b29', warm: '#9a6700', cold: '#1f5f99' };
const STAGES = ['requested', 'approved', 'built', 'signed', 'broadcast'] as const;

export function custodyHistoryRoutes(app: Hono<GateEnv>, deps: { store: Store }) {
  app.get('/api/v1/custody/pipeline', async (c) =>
    c.json(await (await custody()).withdrawalPipeline({ store: deps.store })),
  );
  app.get('/api/v1/custody/balance-history', async (c) =>
    c.json(await (await custody()).balanceHistory({ store: deps.store })),
  );
}

/** A line per tier over snapshot order, and the hot cap as a dashed line. */
export function balanceChart(h: History, title: string) {
  const id = 'custody-balance';
  const width = 640;
  const left = 70;
  const height = 200;
  const bottom = 40;
  const n = Math.max(...h.tiers.map((s) => s.points.length), h.hotCap.length, 1);
  const caps = h.hotCap.map((x) => x.cap).filter((x): x is number => x !== null);
  const max = Math.max(1, ...h.tiers.flatMap((s) => s.points.map((p) => p.total)), ...caps);
  const x = (i: number) => left + (n === 1 ? 0 : (i * (width - left - 10)) / (n - 1));
  const y = (v: number) => height - Math.round((v / max) * (height - 10));
  const desc = h.tiers
    .map((s) => `${s.tier}: ${s.points.map((p) => btc(p.total)).join(', ')}`)
    .join('; ');
  const capLine = h.hotCap
    .map((p, i) => (p.cap === null ? null : `${x(i).toFixed(1)},${y(p.cap)}`))
    .filter(Boolean)
    .join(' ');
  return html`<figure class="chart-figure"><svg class="chart" data-chart="${id}" role="img" aria-labelledby="${id}-t ${id}-d" viewBox="0 0 ${width} ${height + bottom}" width="${width}" height="${height + bottom}" xmlns="http://www.w3.org/2000/svg">
<title id="${id}-t">${title}</title><desc id="${id}-d">${desc || 'no data'}</desc>
<line x1="${left}" y1="${height}" x2="${width}" y2="${height}" stroke="currentColor"/>
<text x="${left - 4}" y="12" text-anchor="end">${btc(max)}</text><text x="${left - 4}" y="${height}" text-anchor="end">0</text>
${capLine ? html`<polyline data-cap points="${capLine}" fill="none" stroke="currentColor" stroke-dasharray="6 4"><title>hot cap</title></polyline>${h.hotCap.map((p) => (p.cap === null ? '' : html`<g data-cap-value="${p.cap}" data-label="${p.at}"></g>`))}` : ''}
${h.tiers.map(
  (
    s,
  ) => html`<g data-series="${s.tier}"><polyline points="${s.points.map((p, i) => `${x(i).toFixed(1)},${y(p.total)}`).join(' ')}" fill="none" stroke="${COLOURS[s.tier] ?? 'currentColor'}" stroke-width="2"></polyline>
${s.points.map((p, i) => html`<g data-label="${p.at}" data-value="${p.total}"><circle cx="${x(i).toFixed(1)}" cy="${y(p.total)}" r="3" fill="${COLOURS[s.tier] ?? 'currentColor'}"><title>${s.tier} ${p.at} (height ${p.height}): ${btc(p.total)} BTC</title></circle></g>`)}</g>`,
)}
${h.tiers.map((s, i) => html`<text x="${left + i * 90}" y="${height + 30}" fill="${COLOURS[s.tier] ?? 'currentColor'}">■ ${s.tier}</text>`)}${capLine ? html`<text x="${left + h.tiers.length * 90}" y="${height + 30}">- - hot cap</text>` : ''}
</svg><figcaption>${title}</figcaption></figure>`;
}

function stageCell(at: string | null) {
  return at
    ? html`<td data-stage-done><span aria-hidden="true">✓</span> <time datetime="${at}">${at.slice(0, 19).replace('T', ' ')}</time></td>`
    : html`<td class="muted">—</td>`;
}

/** The pipeline table and the balance history, for the Custody page. */
export function pipelineAndBalances(p: Pipeline, h: History, ctx: PageCtx) {
  const lang = ctx.lang;
  const latest = h.wallets.map((w) => ({ ...w, last: w.points.at(-1)! }));
  return html`<section aria-labelledby="pipeline-h"><h2 id="pipeline-h">${t(lang, 'Withdrawal pipeline')}</h2>
${
  p.rows.length
    ? html`<div class="table-wrap"><table data-table="pipeline"><thead><tr><th scope="col">id</th><th scope="col">${t(lang, 'Wallet')}</th><th scope="col">BTC</th><th scope="col">${t(lang, 'Status')}</th>${STAGES.map((s) => html`<th scope="col">${t(lang, s)}</th>`)}<th scope="col">${t(lang, 'confirmations')}</th></tr></thead><tbody>
${p.rows.map((r) => html`<tr data-pipeline="${r.id}"><td>${r.id}</td><td>${r.wallet}</td><td>${btc(r.amount)}</td><td>${r.status}</td>${STAGES.map((s) => stageCell(r.stages[s]))}<td data-confirmations="${r.confirmations ?? ''}">${r.confirmations === null ? '—' : r.confirmations}</td></tr>`)}
</tbody></table></div>
<p class="muted">${t(lang, '"signed" is the hot key\'s signature; the offline cosigner signs off-line. Confirmations are as of the last chain sync')}${p.syncHeight === null ? '' : html` (${t(lang, 'height')} ${p.syncHeight})`}.</p>`
    : html`<p>${t(lang, 'No withdrawals yet.')}</p>`
}
</section>
<section aria-labelledby="balances-h"><h2 id="balances-h">${t(lang, 'Balances over time')}</h2>
${
  h.tiers.length
    ? html`${balanceChart(h, t(lang, 'Balance per tier against the hot cap (BTC)'))}
<div class="table-wrap"><table data-table="wallet-balances"><thead><tr><th scope="col">${t(lang, 'Wallet')}</th><th scope="col">tier</th><th scope="col">${t(lang, 'Last snapshot')}</th><th scope="col">BTC</th></tr></thead><tbody>
${latest.map((w) => html`<tr><td>${w.wallet}</td><td>${w.tier}</td><td>${w.last.at} (${t(lang, 'height')} ${w.last.height})</td><td data-value="${w.last.total}">${btc(w.last.total)}</td></tr>`)}
</tbody></table></div>`
    : html`<p class="muted">${t(lang, 'No balance snapshots yet: they are recorded when the chain is synced (mamori custody balance --node …, or the watcher).')}</p>`
}
</section>`;
}
