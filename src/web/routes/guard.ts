/**
 * The guard area's console page and JSON API: matches over time, top rules, top clients,
 * blocked against logged requests, recent matches and one match in detail. Owned by the guard
 * area; it calls only guard's index.ts. Matched data is attacker text: hono's html escapes it.
 */
import type { Hono } from 'hono';
import { html } from 'hono/html';
import { listMatches, matchDetail, matchSummary, type StoredMatch } from '../../guard/index.js';
import { parseSince } from '../../honeypot/index.js';
import { MamoriError } from '../../shared/errors.js';
import type { Store } from '../../storage/index.js';
import type { AreaWeb, PageCtx } from '../types.js';
import { barChart } from '../ui/chart.js';
import { t } from '../ui/i18n.js';
import { emptyState } from '../ui/layout.js';

/** `since` from a query: a span (7d) or a date; default 7d; `all` for no bound. */
function sinceOf(q: string | undefined, now: number): string | undefined {
  if (q === 'all') return undefined;
  try {
    return parseSince(q ?? '7d', now);
  } catch (e) {
    if (e instanceof MamoriError) throw new MamoriError('E_INPUT', e.message);
    throw e;
  }
}

function intOf(q: string | undefined, name: string, max: number): number | undefined {
  if (q === undefined || q === '') return undefined;
  if (!/^\d{1,9}$/.test(q) || Number(q) > max)
    throw new MamoriError('E_INPUT', `${name} must be a number up to ${max}`);
  return Number(q);
}

function matchQuery(q: Record<string, string | undefined>, now: number) {
  const action = q.action;
  if (action !== undefined && action !== 'blocked' && action !== 'logged')
    throw new MamoriError('E_INPUT', 'action must be blocked or logged');
  return {
    since: sinceOf(q.since, now),
    ruleId: intOf(q.rule, 'rule', 999_999_999),
    client: q.client === '' ? undefined : q.client,
    action: action as 'blocked' | 'logged' | undefined,
    limit: intOf(q.limit, 'limit', 10_000) ?? 100,
  };
}

function api(app: Hono, deps: { store: Store }) {
  app.get('/summary', async (c) => {
    const top = intOf(c.req.query('top'), 'top', 100) ?? 10;
    return c.json(await matchSummary(deps.store, matchQuery(c.req.query(), Date.now()), top));
  });
  app.get('/matches', async (c) => {
    return c.json({ rows: await listMatches(deps.store, matchQuery(c.req.query(), Date.now())) });
  });
  app.get('/matches/:id', async (c) => {
    const id = intOf(c.req.param('id'), 'id', Number.MAX_SAFE_INTEGER);
    const d = id === undefined ? undefined : await matchDetail(deps.store, id);
    if (!d) throw new MamoriError('E_NOT_FOUND', `no guard match ${c.req.param('id')}`);
    return c.json(d);
  });
}

function matchRows(lang: PageCtx['lang'], rows: StoredMatch[], table: string) {
  return html`<div class="table-wrap"><table data-table="${table}"><thead><tr><th>${t(lang, 'Time')}</th><th>${t(lang, 'Action')}</th><th>${t(lang, 'Rule')}</th><th>${t(lang, 'Client')}</th><th>${t(lang, 'Request')}</th><th>${t(lang, 'Matched data')}</th></tr></thead><tbody>
${rows.map(
  (r) =>
    html`<tr data-id="${r.id}"><td><a href="/guard?match=${r.id}">${r.time}</a></td><td>${t(lang, r.action === 'blocked' ? 'Blocked' : 'Logged')}</td><td title="${r.msg}">${r.rule_id}</td><td><code>${r.client}</code></td><td><code>${r.method} ${r.path}</code></td><td><code>${r.matched_var}</code> <code>${r.matched_data.slice(0, 80)}</code></td></tr>`,
)}</tbody></table></div>`;
}

async function detail(store: Store, lang: PageCtx['lang'], idText: string) {
  const id = intOf(idText, 'match', Number.MAX_SAFE_INTEGER);
  const d = id === undefined ? undefined : await matchDetail(store, id);
  if (!d)
    return html`<section data-guard="detail"><h2>${t(lang, 'Match detail')}</h2><p>No match ${idText}.</p></section>`;
  const m = d.match;
  return html`<section data-guard="detail"><h2>${t(lang, 'Match detail')}</h2><dl>
<dt>${t(lang, 'Rule')}</dt><dd>${m.rule_id}: ${m.msg}</dd>
<dt>${t(lang, 'Time')}</dt><dd>${m.time}</dd>
<dt>${t(lang, 'Action')}</dt><dd>${t(lang, m.action === 'blocked' ? 'Blocked' : 'Logged')} (${t(lang, 'anomaly score')} ${m.anomaly_score}, ${t(lang, 'phase')} ${m.phase})</dd>
<dt>${t(lang, 'Client')}</dt><dd><code>${m.client}</code></dd>
<dt>${t(lang, 'Request')}</dt><dd><code>${m.method} ${m.path}</code> (${m.request_id})</dd>
<dt>${t(lang, 'Matched variable')}</dt><dd><code>${m.matched_var}</code></dd>
<dt>${t(lang, 'Matched data')}</dt><dd><div class="table-wrap"><pre>${m.matched_data}</pre></div>${m.data_length > m.matched_data.length ? html`<p>(${m.data_length} characters, cut)</p>` : ''}</dd>
</dl><h3>${t(lang, 'Matches of this request')}</h3>${matchRows(lang, d.request, 'request')}</section>`;
}

export const guardWeb: AreaWeb = {
  name: 'guard',
  title: 'Guard',
  summary: 'What the web application firewall (mamori guard proxy) matched and blocked.',
  api,
  async page(deps, ctx) {
    const lang = ctx?.lang ?? 'en';
    const query = ctx?.query ?? {};
    const now = Date.now();
    if (query.match !== undefined) return detail(deps.store, lang, query.match);
    const q = matchQuery(query, now);
    const s = await matchSummary(deps.store, q, 10);
    if (s.matches === 0 && q.since === sinceOf(undefined, now) && Object.keys(query).length === 0) {
      const any = await listMatches(deps.store, { limit: 1 });
      if (any.length === 0)
        return emptyState(
          'The guard has stored no matches yet.',
          'mamori guard proxy --upstream http://127.0.0.1:3000 --rules <crs dir> --mode block',
        );
    }
    const recent = await listMatches(deps.store, { ...q, limit: 50 });
    const span = query.since ?? '7d';
    return html`<p data-guard="totals">${t(lang, 'Since')} ${s.since ?? '—'} (${span}): <strong data-n="matches">${s.matches}</strong> ${t(lang, 'matches')} ${t(lang, 'in')} <strong data-n="requests">${s.requests}</strong> ${t(lang, 'requests')}; <strong data-n="blocked">${s.blockedRequests}</strong> ${t(lang, 'blocked')}, <strong data-n="logged">${s.loggedRequests}</strong> ${t(lang, 'logged only')}.</p>
<section data-guard="charts">${barChart({
      id: 'guard-hour',
      title: t(lang, 'Matches per hour (UTC)'),
      bars: s.perHour.map((h) => ({ label: h.hour, value: h.blocked + h.logged })),
    })}${barChart({
      id: 'guard-action',
      title: t(lang, 'Blocked vs logged requests'),
      bars: [
        { label: 'blocked', value: s.blockedRequests },
        { label: 'logged', value: s.loggedRequests },
      ],
    })}</section>
<section data-guard="rules"><h2>${t(lang, 'Top rules')}</h2><div class="table-wrap"><table data-table="rules"><thead><tr><th>${t(lang, 'Rule')}</th><th>${t(lang, 'Message')}</th><th>${t(lang, 'Matches')}</th></tr></thead><tbody>
${s.topRules.map((r) => html`<tr><td><a href="/guard?rule=${r.ruleId}&amp;since=${span}">${r.ruleId}</a></td><td>${r.msg}</td><td>${r.matches}</td></tr>`)}</tbody></table></div></section>
<section data-guard="clients"><h2>${t(lang, 'Top clients')}</h2><div class="table-wrap"><table data-table="clients"><thead><tr><th>${t(lang, 'Client')}</th><th>${t(lang, 'Matches')}</th><th>${t(lang, 'Blocked')}</th></tr></thead><tbody>
${s.topClients.map((c) => html`<tr><td><a href="/guard?client=${encodeURIComponent(c.client)}&amp;since=${span}"><code>${c.client}</code></a></td><td>${c.matches}</td><td>${c.blocked}</td></tr>`)}</tbody></table></div></section>
<section data-guard="recent"><h2>${t(lang, 'Recent matches')}</h2>${matchRows(lang, recent, 'matches')}</section>`;
  },
};
