/**
 * More on the Honeypot and Exposure pages: events per hour by attacker class (each source in its
 * furthest class, as the report classifies it) and a per-source table with the class; the top
 * products and the diff between the last two scans. JSON: GET /api/v1/honeypot/hourly-by-class,
 * GET /api/v1/exposure/products, GET /api/v1/exposure/diff?since=&until=. Charts equal these.
 */
import { html } from 'hono/html';
import { MamoriError } from '../../shared/errors.js';
import type { Store } from '../../storage/index.js';
import type { PageCtx } from '../types.js';
import { barChart } from '../ui/chart.js';
import { t } from '../ui/i18n.js';
import type { ConsoleExtra } from './extras.js';

const honeypot = () => import('../../honeypot/index.js');
const exposure = () => import('../../exposure/index.js');

/** Both extras' sections on one page, and both sets of routes. */
export function combine(a: ConsoleExtra, b: ConsoleExtra): ConsoleExtra {
  return {
    async before(deps, ctx) {
      return html`${await a.before(deps, ctx)}${await b.before(deps, ctx)}`;
    },
    routes(app, deps) {
      a.routes?.(app, deps);
      b.routes?.(app, deps);
    },
  };
}

/** Events per hour (the last 48, as /api/v1/honeypot/hourly) split by the source's class. */
export async function hourlyByClass(store: Store) {
  const h = await honeypot();
  const [{ extras }, perSource, sources] = await Promise.all([
    h.honeypotReport(store, { topN: 1 }),
    h.eventsPerHourBySource(store, 48),
    h.sourceTable(store, 20),
  ]);
  const classOf = new Map(extras.classes);
  const names = [...h.SOURCE_CLASSES, 'unclassified'];
  const at = new Map(perSource.hours.map((hour, i) => [hour, i]));
  const series = new Map(names.map((c) => [c, perSource.hours.map(() => 0)]));
  for (const r of perSource.rows) {
    const i = at.get(r.hour);
    if (i === undefined) continue;
    series.get(classOf.get(r.srcIp) ?? 'unclassified')![i]! += r.events;
  }
  return {
    hours: perSource.hours,
    classes: names
      .map((c) => ({ class: c, events: series.get(c)! }))
      .filter((c) => c.events.some((n) => n > 0)),
    sources: sources.map((s) => ({ ...s, class: classOf.get(s.ip) ?? null })),
  };
}

export const honeypotClassExtra: ConsoleExtra = {
  async before(deps, ctx) {
    const lang = ctx.lang;
    const data = await hourlyByClass(deps.store);
    if (!data.hours.length) return html``;
    return html`<section aria-labelledby="byclass-h"><h2 id="byclass-h">${t(lang, 'Events per hour by class')}</h2>
<div class="cards charts">${data.classes.map(
      (c) =>
        html`<div class="card">${barChart({
          id: `honeypot-class-${c.class}`,
          title: `${t(lang, 'Events per hour')}: ${c.class}`,
          bars: c.events.map((value, i) => ({ label: data.hours[i]!.slice(11, 13), value })),
        })}</div>`,
    )}</div>
<div class="table-wrap"><table data-table="source-classes"><caption>${t(lang, 'Sources by class')}</caption><thead><tr><th scope="col">address</th><th scope="col">class</th><th scope="col">events</th><th scope="col">first seen</th><th scope="col">last seen</th></tr></thead><tbody>
${data.sources.map((s) => html`<tr><td>${s.ip}</td><td>${s.class ?? '—'}</td><td>${s.events}</td><td>${s.firstSeen}</td><td>${s.lastSeen}</td></tr>`)}
</tbody></table></div></section>`;
  },
  routes(app, deps) {
    app.get('/api/v1/honeypot/hourly-by-class', async (c) =>
      c.json(await hourlyByClass(deps.store)),
    );
  },
};

async function topProducts(store: Store) {
  const e = await exposure();
  const r = await e.search(store, '', { facets: ['product'], limit: 0 });
  return (r.facets.product ?? [])
    .slice(0, 10)
    .map((f) => ({ product: String(f.value), count: f.count }));
}

function scanIdOf(v: string | undefined, name: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  const id = Number(v);
  if (!Number.isSafeInteger(id) || id < 1)
    throw new MamoriError('E_USAGE', `${name} must be a scan id`);
  return id;
}

async function lastDiff(store: Store) {
  const e = await exposure();
  try {
    return { diff: await e.diffScans(store), problem: null };
  } catch (err) {
    if (err instanceof MamoriError && err.code === 'E_NOT_FOUND')
      return { diff: null, problem: err.message };
    throw err;
  }
}

export const exposureMoreExtra: ConsoleExtra = {
  async before(deps, ctx) {
    const lang = ctx.lang;
    const [products, { diff, problem }] = await Promise.all([
      topProducts(deps.store),
      lastDiff(deps.store),
    ]);
    const rows = (
      list: { ip: string; port: number; transport: string; protocol: string | null }[],
    ) =>
      list.map(
        (s) =>
          html`<tr><td><a href="/exposure/host/${encodeURIComponent(s.ip)}">${s.ip}</a></td><td>${s.port}/${s.transport}</td><td>${s.protocol ?? ''}</td></tr>`,
      );
    return html`${
      products.length
        ? barChart({
            id: 'exposure-products',
            title: t(lang, 'Top products'),
            bars: products.map((p) => ({ label: p.product, value: p.count })),
          })
        : ''
    }
<section aria-labelledby="diff-h"><h2 id="diff-h">${t(lang, 'Changes between scans')}</h2>
${
  diff
    ? html`<p data-diff="${diff.from}-${diff.to}">Scan #${diff.from} → #${diff.to}: <strong data-appeared>${diff.appeared.length}</strong> appeared, <strong data-disappeared>${diff.disappeared.length}</strong> disappeared.</p>
${diff.appeared.length ? html`<div class="table-wrap"><table data-table="appeared"><caption>Appeared</caption><thead><tr><th scope="col">${t(lang, 'Host')}</th><th scope="col">port</th><th scope="col">protocol</th></tr></thead><tbody>${rows(diff.appeared)}</tbody></table></div>` : ''}
${diff.disappeared.length ? html`<div class="table-wrap"><table data-table="disappeared"><caption>Disappeared</caption><thead><tr><th scope="col">${t(lang, 'Host')}</th><th scope="col">port</th><th scope="col">protocol</th></tr></thead><tbody>${rows(diff.disappeared)}</tbody></table></div>` : ''}`
    : html`<p class="muted">${problem}</p>`
}</section>`;
  },
  routes(app, deps) {
    app.get('/api/v1/exposure/products', async (c) =>
      c.json({ products: await topProducts(deps.store) }),
    );
    app.get('/api/v1/exposure/diff', async (c) => {
      const e = await exposure();
      return c.json(
        await e.diffScans(
          deps.store,
          scanIdOf(c.req.query('since'), 'since'),
          scanIdOf(c.req.query('until'), 'until'),
        ),
      );
    });
  },
};

/** The host page's banners, certificate names, history and findings (GET /api/v1/exposure/host/:ip). */
export async function hostSections(store: Store, ip: string, lang: PageCtx['lang']) {
  const h = await (await exposure()).hostDetail(store, ip);
  if (!h.services.length && !h.history.length) return html``;
  return html`<section aria-labelledby="banners-h"><h2 id="banners-h">${t(lang, 'Banners')}</h2>
${h.services.map((s) => html`<details data-banner="${s.port}"><summary>${s.port}/${s.transport} ${s.protocol ?? ''} ${s.certCn ? html`· ${t(lang, 'Certificate')} CN <code>${s.certCn}</code>` : ''} ${s.cpe ? html`· <code>${s.cpe}</code>` : ''} · ${s.firstSeen} – ${s.lastSeen}</summary><pre class="banner">${s.banner}</pre></details>`)}
</section>
<section aria-labelledby="findings-host-h"><h2 id="findings-host-h">${t(lang, 'Findings')}</h2>
${h.findings.length ? html`<div class="table-wrap"><table data-table="host-findings"><thead><tr><th scope="col">port</th><th scope="col">finding</th><th scope="col">detail</th><th scope="col">time</th></tr></thead><tbody>${h.findings.map((f) => html`<tr><td>${f.port}</td><td>${f.kind}</td><td>${f.detail}</td><td>${f.time}</td></tr>`)}</tbody></table></div>` : html`<p class="muted">None recorded.</p>`}
</section>
<section aria-labelledby="history-h"><h2 id="history-h">${t(lang, 'History')}</h2>
<div class="table-wrap"><table data-table="host-history"><thead><tr><th scope="col">scan</th><th scope="col">port</th><th scope="col">protocol</th><th scope="col">seen</th><th scope="col">banner</th></tr></thead><tbody>${h.history.map((r) => html`<tr><td>#${r.scanId}</td><td>${r.port}/${r.transport}</td><td>${r.protocol ?? ''}</td><td>${r.seen}</td><td><code>${r.banner.slice(0, 120)}</code></td></tr>`)}</tbody></table></div></section>`;
}

export const exposureHostExtra: ConsoleExtra = {
  async before() {
    return html``;
  },
  routes(app, deps) {
    app.get('/api/v1/exposure/host/:ip', async (c) => {
      const ip = c.req.param('ip');
      if (!/^[0-9a-fA-F:.]{2,45}$/.test(ip)) throw new MamoriError('E_USAGE', 'not an IP address');
      const h = await (await exposure()).hostDetail(deps.store, ip);
      if (!h.services.length && !h.history.length)
        throw new MamoriError('E_NOT_FOUND', `no service seen on ${ip}`);
      return c.json(h);
    });
  },
};
