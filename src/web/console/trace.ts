/**
 * The console's Trace pages: the taint flow of a recorded result as a graph drawn on the server
 * (SVG, no script; each transaction is a link the keyboard reaches, and a table carries the same
 * edges for screen readers), the screening log with a chart of verdicts, and for operators a
 * form to screen a deposit (logged). JSON: GET /api/v1/trace/flow/:id, GET
 * /api/v1/trace/screenings, POST /api/v1/trace/screenings `{target, model?}`. The figures are the
 * trace area's (taintFlow, screenDeposit); this only draws them.
 */
import type { Context } from 'hono';
import { html } from 'hono/html';
import { MamoriError } from '../../shared/errors.js';
import type { TaintFlow } from '../../trace/index.js';
import { principalOf } from '../guard.js';
import type { PageCtx, WebDeps } from '../types.js';
import { barChart } from '../ui/chart.js';
import { t } from '../ui/i18n.js';
import { pageCtx, renderPage } from '../ui/render.js';
import type { ConsoleExtra } from './extras.js';

const trace = () => import('../../trace/index.js');

/** Fixed texts only: a link cannot put words of its own on the page. */
const PROBLEMS: Record<string, string> = {
  not_found: 'That deposit is not in the store: ingest the blocks that hold it first.',
  input: 'Give a txid, txid:vout or an address, and the model poison or haircut.',
};

const VERDICTS = ['accept', 'review', 'refuse'] as const;
const canScreen = (ctx: PageCtx) => ctx.role === 'operator' || ctx.role === 'admin';
const short = (txid: string) => `${txid.slice(0, 8)}…`;

function resultIdOf(c: Context): number {
  const id = Number(c.req.param('id'));
  if (!Number.isSafeInteger(id) || id < 1)
    throw new MamoriError('E_USAGE', 'a taint result id is a positive integer');
  return id;
}

function modelOf(v: unknown): 'poison' | 'haircut' | undefined {
  if (v === undefined || v === '' || v === null) return undefined;
  if (v !== 'poison' && v !== 'haircut')
    throw new MamoriError('E_USAGE', 'model must be poison or haircut');
  return v;
}

function targetOf(v: unknown): string {
  if (typeof v !== 'string' || !v.trim() || v.length > 200)
    throw new MamoriError('E_INPUT', 'target must be a txid, txid:vout or an address');
  return v.trim();
}

/** Screenings per verdict, as /api/v1/trace/screenings gives them. */
export function verdictBars(log: { verdict: string }[]) {
  return VERDICTS.map((v) => ({ label: v, value: log.filter((e) => e.verdict === v).length }));
}

async function screenAndLog(deps: WebDeps, c: Context, target: string, model?: string) {
  const tr = await trace();
  const m = modelOf(model);
  const r = await tr.screenDeposit(deps.store, target, m ? { model: m } : {});
  const id = await tr.recordScreening(deps.store, r, principalOf(c).name, new Date().toISOString());
  return { id, ...r };
}

/** The flow graph: columns by hops from the start, one row per transaction in a column. */
export function flowGraph(flow: TaintFlow, lang: PageCtx['lang']) {
  const colW = 170;
  const rowH = 46;
  const columns = new Map<number, string[]>();
  for (const n of flow.nodes) columns.set(n.depth, [...(columns.get(n.depth) ?? []), n.txid]);
  const pos = new Map<string, { x: number; y: number }>();
  for (const [d, ids] of columns)
    for (const [i, id] of ids.entries()) pos.set(id, { x: 20 + d * colW, y: 30 + i * rowH });
  const maxRows = Math.max(1, ...[...columns.values()].map((c) => c.length));
  const width = Math.max(400, (Math.max(0, ...columns.keys()) + 1) * colW + 80);
  const height = maxRows * rowH + 40;
  const title = `${t(lang, 'Taint flow')} #${flow.resultId}`;
  return html`<figure class="chart-figure"><svg class="chart flow" data-chart="trace-flow" role="group" aria-labelledby="flow-t" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">
<title id="flow-t">${title}</title>
${flow.edges.map((e) => {
  const a = pos.get(e.from)!;
  const b = e.to ? pos.get(e.to) : undefined;
  const x2 = b ? b.x : a.x + colW - 40;
  const y2 = b ? b.y : a.y + 14;
  return html`<g class="edge" data-from="${e.from}" data-vout="${e.vout}" data-to="${e.to ?? ''}" data-value="${e.tainted}"><line x1="${a.x + 110}" y1="${a.y}" x2="${x2}" y2="${y2}" stroke="currentColor"><title>${short(e.from)}:${e.vout} → ${e.to ? short(e.to) : 'unspent'}: ${e.tainted} sat tainted of ${e.value}</title></line>${b ? '' : html`<circle cx="${x2}" cy="${y2}" r="3"/>`}</g>`;
})}
${flow.nodes.map((n) => {
  const p = pos.get(n.txid)!;
  return html`<a href="#tx-${n.txid}" class="node" data-txid="${n.txid}" aria-label="${short(n.txid)} @${n.height}: transaction ${n.txid}, ${n.depth} hop(s)${n.start ? ', start' : ''}"><rect x="${p.x}" y="${p.y - 14}" width="110" height="28" rx="4" class="${n.start ? 'start' : ''}"/><text x="${p.x + 6}" y="${p.y + 4}">${short(n.txid)} @${n.height}</text></a>`;
})}
</svg><figcaption>${title}: ${flow.nodes.length} transaction(s), ${flow.edges.length} of ${flow.totalEdges} tainted output(s)${flow.truncated ? ' (the nearest shown; the table and the API hold the same)' : ''}.</figcaption></figure>
<div class="table-wrap"><table data-table="flow"><caption>${title} (satoshi)</caption><thead><tr><th scope="col">from</th><th scope="col">output</th><th scope="col">to</th><th scope="col">value</th><th scope="col">tainted</th></tr></thead><tbody>
${flow.edges.map((e) => html`<tr><td><code>${short(e.from)}</code></td><td>${e.vout}</td><td>${e.to ? html`<code>${short(e.to)}</code>` : 'unspent'}</td><td>${e.value}</td><td>${e.tainted}</td></tr>`)}
</tbody></table></div>
<h2>${t(lang, 'Transactions')}</h2><ul class="txs">${flow.nodes.map((n) => html`<li id="tx-${n.txid}" tabindex="-1"><code>${n.txid}</code> · height ${n.height} · ${n.depth} hop(s)${n.start ? ' · start' : ''}</li>`)}</ul>`;
}

export const traceExtra: ConsoleExtra = {
  async before(deps, ctx) {
    const tr = await trace();
    const lang = ctx.lang;
    const [log, results] = await Promise.all([
      tr.screeningLog(deps.store, 50),
      tr.recentResults(deps.store, 10),
    ]);
    const problem = PROBLEMS[ctx.query.problem ?? ''];
    return html`${
      canScreen(ctx)
        ? html`<form method="post" action="/trace/screen" class="search"><input type="hidden" name="_csrf" value="${ctx.csrf}"><label for="screen-target">${t(lang, 'Screen a deposit')} (txid, txid:vout, address)</label><input id="screen-target" name="target" required maxlength="200"> <label for="screen-model" class="skip">model</label><select id="screen-model" name="model"><option value="haircut">haircut</option><option value="poison">poison</option></select> <button class="primary" type="submit">${t(lang, 'Screen')}</button></form>`
        : ''
    }
${problem ? html`<p class="alert" role="alert">${problem}</p>` : ''}
<section aria-labelledby="screening-h" id="screening-log"><h2 id="screening-h">${t(lang, 'Screening log')}</h2>
${
  log.length
    ? html`${barChart({ id: 'trace-verdicts', title: t(lang, 'Screenings per verdict'), bars: verdictBars(log) })}
<div class="table-wrap"><table data-table="screenings"><thead><tr><th scope="col">time</th><th scope="col">by</th><th scope="col">deposit</th><th scope="col">model</th><th scope="col">satoshi</th><th scope="col">tainted</th><th scope="col">verdict</th><th scope="col">labels</th></tr></thead><tbody>
${log.map((e) => html`<tr data-screening="${e.id}"><td>${e.createdAt}</td><td>${e.actor}</td><td><code>${e.target}</code></td><td>${e.model}</td><td>${e.depositValue}</td><td>${e.taintedValue}</td><td class="${e.verdict === 'refuse' ? 'sev-high' : ''}">${e.verdict}</td><td>${e.labels.map((l) => `${l.label} (${l.taintedValue})`).join(', ')}</td></tr>`)}
</tbody></table></div>`
    : html`<p class="muted">No deposit screened from the console yet.</p>`
}</section>
${results.length ? html`<section aria-labelledby="flows-h"><h2 id="flows-h">${t(lang, 'Taint flow')}</h2><ul>${results.map((r) => html`<li><a href="/trace/flow/${r.id}">#${r.id} ${r.model} ${r.label ?? r.start.join(', ')}</a> · ${r.createdAt}</li>`)}</ul></section>` : ''}`;
  },
  routes(app, deps) {
    app.get('/api/v1/trace/flow/:id', async (c) =>
      c.json(await (await trace()).taintFlow(deps.store, resultIdOf(c))),
    );
    app.get('/api/v1/trace/screenings', async (c) =>
      c.json({ screenings: await (await trace()).screeningLog(deps.store, 50) }),
    );
    app.post('/api/v1/trace/screenings', async (c) => {
      const body = (await c.req.json()) as { target?: unknown; model?: unknown };
      const model = body.model === undefined ? undefined : String(body.model);
      return c.json(await screenAndLog(deps, c, targetOf(body.target), model));
    });
    app.post('/trace/screen', async (c) => {
      const form = await c.req.parseBody();
      try {
        const model = typeof form.model === 'string' ? form.model : undefined;
        await screenAndLog(deps, c, targetOf(form.target), model);
      } catch (err) {
        if (!(err instanceof MamoriError)) throw err;
        const kind = err.code === 'E_NOT_FOUND' ? 'not_found' : 'input';
        return c.redirect(`/trace?problem=${kind}#screening-log`, 303);
      }
      return c.redirect('/trace#screening-log', 303);
    });
    app.get('/trace/flow/:id', async (c) => {
      const ctx = pageCtx(c);
      const flow = await (await trace()).taintFlow(deps.store, resultIdOf(c));
      return renderPage(
        c,
        deps.frame,
        `${t(ctx.lang, 'Taint flow')} #${flow.resultId}`,
        'trace',
        html`<h1>${t(ctx.lang, 'Taint flow')} #${flow.resultId}</h1>
<p>${flow.model}${flow.feeTaint ? ', fee taint' : ''} · ${flow.label ?? ''} · from <code>${flow.start.join(', ')}</code> · max height ${flow.maxHeight ?? 'none'}</p>
${flow.edges.length ? flowGraph(flow, ctx.lang) : html`<p>No tainted output within the limits.</p>`}`,
      );
    });
  },
};
