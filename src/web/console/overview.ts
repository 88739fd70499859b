/**
 * The Overview: what needs you now. An alerts inbox from the shared alert sink (acknowledge,
 * assign), the custody freeze banner, the watcher's heartbeat when it reports one, the last
 * fetch per bulletin source and the size of each area's data. JSON: /api/v1/alerts,
 * POST /api/v1/alerts/:id/ack and /assign (operators and admins).
 */
import type { Context, Hono } from 'hono';
import { html } from 'hono/html';
import { alertStates, listUsers, triageAlert } from '../../access/index.js';
import { recentAlerts } from '../../alerts/index.js';
import { MamoriError } from '../../shared/errors.js';
import type { Store } from '../../storage/index.js';
import { type GateEnv, principalOf } from '../guard.js';
import type { PageCtx } from '../types.js';
import { t } from '../ui/i18n.js';
import type { Frame } from '../ui/render.js';
import { pageCtx, renderPage } from '../ui/render.js';
import { overviewChartRoutes, overviewChartsSection } from './overview-charts.js';

const SEVERITY_ORDER = ['critical', 'high', 'medium', 'low', 'info'];

export async function alertInbox(store: Store, limit = 50) {
  const alerts = await recentAlerts(store, limit);
  const states = await alertStates(
    store,
    alerts.map((a) => Number(a.id)),
  );
  return alerts
    .map((a) => {
      const s = states.get(Number(a.id));
      return {
        id: Number(a.id),
        time: a.time,
        area: a.area,
        kind: a.kind,
        severity: a.severity,
        message: a.message,
        next: a.next_step,
        acknowledgedBy: s?.ackBy ?? null,
        acknowledgedAt: s?.ackAt ?? null,
        assignee: s?.assignee ?? null,
      };
    })
    .sort(
      (x, y) =>
        Number(x.acknowledgedAt !== null) - Number(y.acknowledgedAt !== null) ||
        SEVERITY_ORDER.indexOf(x.severity) - SEVERITY_ORDER.indexOf(y.severity) ||
        y.id - x.id,
    );
}

function alertId(c: Context): number {
  const id = Number(c.req.param('id'));
  if (!Number.isSafeInteger(id) || id < 1)
    throw new MamoriError('E_USAGE', 'an alert id is a positive integer');
  return id;
}

async function assigneeOf(c: Context): Promise<string | null> {
  const type = c.req.header('content-type') ?? '';
  let v: unknown;
  if (type.startsWith('application/json'))
    v = ((await c.req.json()) as { assignee?: unknown }).assignee;
  else v = (await c.req.parseBody()).assignee;
  if (v === '' || v === null || v === undefined) return null;
  if (typeof v !== 'string') throw new MamoriError('E_INPUT', 'assignee must be a user name');
  return v;
}

export function overviewRoutes(app: Hono<GateEnv>, deps: { store: Store; frame: Frame }) {
  const { store, frame } = deps;
  app.get('/api/v1/alerts', async (c) => c.json({ alerts: await alertInbox(store) }));
  overviewChartRoutes(app, store);
  app.post('/api/v1/alerts/:id/ack', async (c) => {
    await triageAlert(store, alertId(c), { acknowledgedBy: principalOf(c).name });
    return c.json({ ok: true });
  });
  app.post('/api/v1/alerts/:id/assign', async (c) => {
    await triageAlert(store, alertId(c), { assignee: await assigneeOf(c) });
    return c.json({ ok: true });
  });
  // The same actions from the page's forms (a redirect back instead of JSON).
  app.post('/alerts/:id/ack', async (c) => {
    await triageAlert(store, alertId(c), { acknowledgedBy: principalOf(c).name });
    return c.redirect('/#alerts', 303);
  });
  app.post('/alerts/:id/assign', async (c) => {
    await triageAlert(store, alertId(c), { assignee: await assigneeOf(c) });
    return c.redirect('/#alerts', 303);
  });
  app.get('/', async (c) => {
    const ctx = pageCtx(c);
    return renderPage(c, frame, 'Overview', 'overview', await overviewBody(store, frame, ctx));
  });
}

async function overviewBody(store: Store, frame: Frame, ctx: PageCtx) {
  const lang = ctx.lang;
  const canTriage = ctx.role === 'operator' || ctx.role === 'admin';
  const [inbox, users, freeze, sources] = await Promise.all([
    alertInbox(store),
    listUsers(store),
    import('../../custody/index.js').then((m) => m.freezeState({ store })),
    import('../../bulletin/index.js').then((m) => m.listSources(store.db)),
  ]);
  const open = inbox.filter((a) => a.acknowledgedAt === null);
  return html`<h1>${t(lang, 'Overview')}</h1>
${freeze.frozen ? html`<p class="banner-frozen" role="alert" data-freeze="true"><strong>${t(lang, 'Freeze')}: FROZEN</strong> — all withdrawals are halted until the approvers' quorum lifts it.</p>` : ''}
<section id="alerts" aria-labelledby="alerts-h"><h2 id="alerts-h">${t(lang, 'What needs you now')} — ${t(lang, 'Alerts')} (<span data-open-alerts>${open.length}</span> open)</h2>
${
  inbox.length === 0
    ? html`<p>${t(lang, 'No alerts.')}</p>`
    : html`<div class="table-wrap"><table data-table="alerts"><thead><tr><th scope="col">${t(lang, 'Severity')}</th><th scope="col">time</th><th scope="col">area</th><th scope="col">alert</th><th scope="col">${t(lang, 'Status')}</th><th scope="col">${t(lang, 'Assigned to')}</th></tr></thead><tbody>
${inbox.map(
  (
    a,
  ) => html`<tr data-alert="${a.id}"><td class="sev-${a.severity}">${a.severity}</td><td>${a.time}</td><td>${a.area}</td><td><strong>${a.kind}</strong>: ${a.message}${a.next ? html`<br><span class="muted">Next: ${a.next}</span>` : ''}</td>
<td>${
    a.acknowledgedAt
      ? html`${t(lang, 'Acknowledged')} (${a.acknowledgedBy})`
      : canTriage
        ? html`<form method="post" action="/alerts/${a.id}/ack" class="inline"><input type="hidden" name="_csrf" value="${ctx.csrf}"><button type="submit">${t(lang, 'Acknowledge')}<span class="skip"> alert ${a.id}</span></button></form>`
        : 'open'
  }</td>
<td>${
    canTriage
      ? html`<form method="post" action="/alerts/${a.id}/assign" class="inline"><input type="hidden" name="_csrf" value="${ctx.csrf}"><label class="skip" for="assign-${a.id}">${t(lang, 'Assign')} alert ${a.id}</label><select id="assign-${a.id}" name="assignee"><option value="">—</option>${users.filter((u) => !u.disabledAt).map((u) => html`<option value="${u.name}" ${u.name === a.assignee ? 'selected' : ''}>${u.name}</option>`)}</select> <button type="submit">${t(lang, 'Assign')}</button></form>`
      : (a.assignee ?? '—')
  }</td></tr>`,
)}</tbody></table></div>`
}
</section>
<section aria-labelledby="hb-h"><h2 id="hb-h">${t(lang, 'Watcher heartbeat')}</h2><p data-heartbeat="unknown">Not reported: the custody watcher does not publish a heartbeat yet, so Mamori cannot say whether it is running.</p></section>
<section aria-labelledby="sync-h"><h2 id="sync-h">${t(lang, 'Last sync per source')}</h2>
${
  sources.length
    ? html`<div class="table-wrap"><table><thead><tr><th scope="col">source</th><th scope="col">last fetch</th><th scope="col">status</th></tr></thead><tbody>${sources.map((s) => html`<tr><td>${s.name}</td><td>${s.lastFetchAt ?? 'never'}</td><td>${s.lastStatus ?? '—'}${s.lastError ? html` — ${s.lastError}` : ''}</td></tr>`)}</tbody></table></div>`
    : html`<p class="muted">No bulletin feeds yet. Vulnerability syncs record no time the console can read yet.</p>`
}</section>
${await overviewChartsSection(store, ctx)}
<div class="cards">${frame.nav.map(
    (a) =>
      html`<section class="card" data-area="${a.name}"><h2><a href="/${a.name}">${t(lang, a.title)}</a></h2></section>`,
  )}</div>`;
}
