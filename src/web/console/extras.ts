/**
 * What the console adds to each area's page: search, charts, the last check's findings, an
 * upload form, host and vulnerability pages, the honeypot's live tail, the approvals queue.
 * Each chart's numbers come from the same call as a JSON route beside it, so they are equal.
 * Areas' own pages (routes/<area>.ts) follow below these sections unchanged.
 */
import type { Hono } from 'hono';
import { html } from 'hono/html';
import { streamSSE } from 'hono/streaming';
import { MamoriError } from '../../shared/errors.js';
import type { GateEnv } from '../guard.js';
import type { Html, PageCtx, WebDeps } from '../types.js';
import { barChart } from '../ui/chart.js';
import { t } from '../ui/i18n.js';
import { type Frame, pageCtx, renderPage } from '../ui/render.js';
import { bulletinExtra } from './bulletin.js';
import { custodyApprovalsExtra } from './custody-approvals.js';
import { traceExtra } from './trace.js';

type Deps = WebDeps & { frame: Frame };

export interface ConsoleExtra {
  before(deps: WebDeps, ctx: PageCtx): Promise<Html>;
  routes?(app: Hono<GateEnv>, deps: Deps): void;
}

const vuln = () => import('../../vuln/index.js');
const exposure = () => import('../../exposure/index.js');
const honeypot = () => import('../../honeypot/index.js');

const MAX_UPLOAD = 10 * 1024 * 1024;

/** Registrations per quarter and per CWE, exactly as /api/v1/vuln/stats gives them. */
async function vulnCharts(deps: WebDeps) {
  const v = await vuln();
  const [quarter, cwe] = await Promise.all([
    v.registrationStats(deps.store, { by: 'quarter', source: 'jvn' }),
    v.registrationStats(deps.store, { by: 'cwe', source: 'jvn', top: 10 }),
  ]);
  return { quarter: quarter.rows.slice(-16), cwe: cwe.rows };
}

const vulnExtra: ConsoleExtra = {
  async before(deps, ctx) {
    const v = await vuln();
    const q = ctx.query.q ?? '';
    const [table, charts] = await Promise.all([
      v.lastCheckTable(deps.store, { q, limit: 200 }),
      vulnCharts(deps),
    ]);
    const lang = ctx.lang;
    const canUpload = ctx.role === 'operator' || ctx.role === 'admin';
    return html`<form method="get" action="/vuln" role="search" class="search"><label for="vq">${t(lang, 'Search')} (CVE, JVNDB, GHSA, ${t(lang, 'Package')})</label><input id="vq" name="q" value="${q}" maxlength="200"> <button type="submit">${t(lang, 'Search')}</button></form>
<section aria-labelledby="findings-h"><h2 id="findings-h">${t(lang, 'Findings')} ${table.runId ? html`<span class="muted">(check #${table.runId}, ${table.runTime}; <span data-findings-total>${table.total}</span>)</span>` : ''}</h2>
${
  table.runId === null
    ? html`<p class="muted">No recorded check yet: run <code>mamori vuln check &lt;inventory&gt;</code> or upload one below.</p>`
    : html`${table.upgrades.length ? html`<ul class="upgrades">${table.upgrades.slice(0, 10).map((u) => html`<li>Upgrade <code>${u.package}</code> to <strong>${u.to}</strong> fixes ${u.fixes}</li>`)}</ul>` : ''}
<div class="table-wrap"><table data-table="findings"><thead><tr><th scope="col">${t(lang, 'Severity')}</th><th scope="col">${t(lang, 'Vulnerability')}</th><th scope="col">${t(lang, 'Package')}</th><th scope="col">${t(lang, 'Version')}</th><th scope="col">${t(lang, 'Fixed in')}</th><th scope="col">confidence</th></tr></thead><tbody>
${table.rows.map((r) => html`<tr><td class="sev-${r.severity ?? 'unknown'}">${r.severity ?? 'unknown'}</td><td><a href="/vuln/v/${encodeURIComponent(r.id)}">${r.id}</a>${r.aliases.length ? html` <span class="muted">${r.aliases.slice(0, 3).join(' ')}</span>` : ''}</td><td>${r.package.ecosystem}/${r.package.name}</td><td>${r.package.version}</td><td>${r.fixed.join(', ') || 'no fix yet'}</td><td>${r.confidence}</td></tr>`)}
</tbody></table></div>`
}
</section>
${
  canUpload
    ? html`<section aria-labelledby="upload-h"><h2 id="upload-h">${t(lang, 'Upload an SBOM or inventory')}</h2>
<form method="post" action="/vuln/upload" enctype="multipart/form-data"><input type="hidden" name="_csrf" value="${ctx.csrf}"><label for="sbom">CycloneDX, SPDX, package-lock.json, requirements.txt, poetry.lock, dpkg status (≤ 10 MB)</label><input id="sbom" name="file" type="file" required> <button class="primary" type="submit">${t(lang, 'Upload')}</button></form></section>`
    : ''
}
<section aria-labelledby="charts-h"><h2 id="charts-h">JVN iPedia</h2>
${barChart({ id: 'vuln-quarter', title: t(lang, 'Registrations per quarter'), bars: charts.quarter.map((r) => ({ label: r.key, value: r.count })) })}
${barChart({ id: 'vuln-cwe', title: t(lang, 'Registrations per CWE'), bars: charts.cwe.map((r) => ({ label: r.key, value: r.count })) })}
</section>`;
  },
  routes(app, deps) {
    app.get('/api/v1/vuln/findings', async (c) => {
      const v = await vuln();
      return c.json(await v.lastCheckTable(deps.store, { q: c.req.query('q') ?? '', limit: 500 }));
    });
    app.get('/api/v1/vuln/charts', async (c) => c.json(await vulnCharts(deps)));
    app.post('/vuln/upload', async (c) => {
      const v = await vuln();
      const form = await c.req.parseBody();
      const file = form.file;
      if (!(file instanceof File)) throw new MamoriError('E_INPUT', 'choose a file to upload');
      if (file.size > MAX_UPLOAD) throw new MamoriError('E_INPUT', 'inventory larger than 10 MB');
      const text = await file.text();
      const { parse } = await import('smol-toml');
      let inv: ReturnType<typeof v.parseInventory>;
      try {
        inv = v.parseInventory(file.name || 'upload', text, parse);
      } catch (err) {
        if (err instanceof v.InventoryError)
          throw new MamoriError('E_INPUT', `inventory: ${(err as Error).message}`);
        throw err;
      }
      const result = await v.checkComponents(deps.store, inv.components);
      await v.recordCheckRun(deps.store, {
        origin: 'api',
        inventories: [file.name || 'upload'],
        components: inv.components.length,
        result,
        unsupported: inv.unsupported.length,
      });
      return c.redirect('/vuln#findings-h', 303);
    });
    app.get('/vuln/v/:id', async (c) => {
      const v = await vuln();
      const id = c.req.param('id');
      const d = await v.lookup(deps.store, id);
      const ctx = pageCtx(c);
      if (!d)
        return renderPage(
          c,
          deps.frame,
          id,
          'vuln',
          html`<h1>${id}</h1><p>Not in the store. Sync a source first: <code>mamori vuln sync</code>.</p>`,
          404,
        );
      const jvn = d.records.find((r) => r.titleJa || r.descriptionJa);
      return renderPage(
        c,
        deps.frame,
        d.id,
        'vuln',
        html`<h1>${d.id}</h1><p>${t(ctx.lang, 'Severity')}: <strong class="sev-${d.severity ?? 'unknown'}">${d.severity ?? 'unknown'}</strong>. Aliases: ${d.aliases.join(', ') || 'none'}.</p>
${jvn ? html`<section lang="ja"><h2>${jvn.titleJa ?? jvn.id}</h2><p>${jvn.descriptionJa ?? ''}</p></section>` : ''}
${d.records.map(
  (
    r,
  ) => html`<section><h2>${r.source}: ${r.id}</h2><p>${r.title ?? ''}</p><p>${r.description ?? ''}</p><p class="muted">published ${r.published ?? '—'} · modified ${r.modified ?? '—'} · CWE ${r.cwes.join(', ') || '—'} · CVSS ${r.cvss.score ?? '—'}</p>
${r.references.length ? html`<ul>${r.references.slice(0, 20).map((ref) => html`<li><a href="${/^https?:\/\//.test(ref.url) ? ref.url : '#'}" rel="noreferrer noopener">${ref.url}</a></li>`)}</ul>` : ''}</section>`,
)}
${d.affected.length ? html`<h2>Affected packages</h2><div class="table-wrap"><table><thead><tr><th scope="col">${t(ctx.lang, 'Package')}</th><th scope="col">ranges</th><th scope="col">${t(ctx.lang, 'Fixed in')}</th></tr></thead><tbody>${d.affected.map((a) => html`<tr><td>${a.ecosystem}/${a.name}</td><td><code>${JSON.stringify(a.ranges)}</code></td><td>${a.fixed.join(', ')}</td></tr>`)}</tbody></table></div>` : ''}`,
      );
    });
  },
};

const exposureExtra: ConsoleExtra = {
  async before(deps, ctx) {
    const e = await exposure();
    const q = ctx.query.q ?? '';
    let result: Awaited<ReturnType<typeof e.search>> | undefined;
    let problem: string | undefined;
    try {
      result = await e.search(deps.store, q, { facets: ['port', 'product'], limit: 50 });
    } catch (err) {
      if (err instanceof MamoriError) problem = err.message;
      else throw err;
    }
    const lang = ctx.lang;
    const ports = result?.facets.port ?? [];
    return html`<form method="get" action="/exposure" role="search" class="search"><label for="eq">${t(lang, 'Search')} (<code>port:554 product:hikvision has_vuln:true</code>)</label><input id="eq" name="q" value="${q}" maxlength="500"> <button type="submit">${t(lang, 'Search')}</button></form>
${problem ? html`<p class="alert" role="alert">${problem}</p>` : ''}
${
  result
    ? html`<section aria-labelledby="results-h"><h2 id="results-h">${t(lang, 'Services')}: <span data-total>${result.total}</span>${result.total_relation === 'gte' ? '+' : ''}</h2>
<div class="facets">${Object.entries(result.facets).map(([name, values]) => html`<div><h3>${name}</h3><ul>${values.slice(0, 10).map((f) => html`<li><a href="/exposure?q=${encodeURIComponent(`${q} ${name}:${String(f.value)}`.trim())}">${String(f.value)}</a> (${f.count})</li>`)}</ul></div>`)}</div>
${barChart({ id: 'exposure-ports', title: 'Top ports', bars: ports.slice(0, 10).map((f) => ({ label: String(f.value), value: f.count })) })}
<div class="table-wrap"><table data-table="services"><thead><tr><th scope="col">${t(lang, 'Host')}</th><th scope="col">port</th><th scope="col">protocol</th><th scope="col">product</th><th scope="col">title</th><th scope="col">auth</th></tr></thead><tbody>
${result.matches.map((m) => html`<tr><td><a href="/exposure/host/${encodeURIComponent(m.ip)}">${m.ip}</a></td><td>${m.port}/${m.transport}</td><td>${m.protocol ?? ''}</td><td>${[m.vendor, m.product, m.version].filter(Boolean).join(' ')}</td><td>${m.title ?? ''}</td><td>${m.auth_required === null ? '?' : m.auth_required ? 'yes' : 'NO'}</td></tr>`)}
</tbody></table></div></section>`
    : ''
}`;
  },
  routes(app, deps) {
    app.get('/exposure/host/:ip', async (c) => {
      const e = await exposure();
      const ip = c.req.param('ip');
      if (!/^[0-9a-fA-F:.]{2,45}$/.test(ip)) throw new MamoriError('E_USAGE', 'not an IP address');
      const r = await e.search(deps.store, `ip:${ip}`, { limit: 200 });
      return renderPage(
        c,
        deps.frame,
        ip,
        'exposure',
        html`<h1>${t(pageCtx(c).lang, 'Host')} ${ip}</h1>${
          r.matches.length
            ? html`<div class="table-wrap"><table data-table="host"><thead><tr><th scope="col">port</th><th scope="col">protocol</th><th scope="col">product</th><th scope="col">title</th><th scope="col">auth</th><th scope="col">findings</th><th scope="col">seen</th></tr></thead><tbody>${r.matches.map((m) => html`<tr><td>${m.port}/${m.transport}</td><td>${m.protocol ?? ''}</td><td>${[m.vendor, m.product, m.version].filter(Boolean).join(' ')}</td><td>${m.title ?? ''}</td><td>${m.auth_required === null ? '?' : m.auth_required ? 'yes' : 'NO'}</td><td>${m.findings.join(', ')}</td><td>${m.seen}</td></tr>`)}</tbody></table></div>`
            : html`<p>No service seen on this host.</p>`
        }`,
      );
    });
  },
};

const honeypotExtra: ConsoleExtra = {
  async before(deps, ctx) {
    const h = await honeypot();
    const [tail, hourly, sources] = await Promise.all([
      h.eventTail(deps.store, { limit: 20 }),
      h.eventsPerHour(deps.store, 48),
      h.sourceTable(deps.store, 20),
    ]);
    const lang = ctx.lang;
    const lastId = tail.at(-1)?.id ?? 0;
    return html`<section aria-labelledby="live-h"><h2 id="live-h">${t(lang, 'Live events')}</h2>
<div class="table-wrap"><table data-live-tail="/api/v1/honeypot/stream" data-last-id="${lastId}"><thead><tr><th scope="col">time</th><th scope="col">event</th><th scope="col">source</th><th scope="col">port</th><th scope="col">summary</th></tr></thead><tbody aria-live="polite">
${[...tail].reverse().map((e) => html`<tr><td>${e.time}</td><td>${e.eventid}</td><td>${e.srcIp}</td><td>${e.dstPort}</td><td>${e.summary}</td></tr>`)}
</tbody></table></div></section>
${barChart({ id: 'honeypot-hourly', title: t(lang, 'Events per hour'), bars: hourly.map((r) => ({ label: r.hour.slice(11, 13), value: r.events })) })}
<section aria-labelledby="src-h"><h2 id="src-h">Sources</h2><div class="table-wrap"><table data-table="sources"><thead><tr><th scope="col">address</th><th scope="col">events</th><th scope="col">first seen</th><th scope="col">last seen</th></tr></thead><tbody>${sources.map((s) => html`<tr><td>${s.ip}</td><td>${s.events}</td><td>${s.firstSeen}</td><td>${s.lastSeen}</td></tr>`)}</tbody></table></div></section>`;
  },
  routes(app, deps) {
    app.get('/api/v1/honeypot/hourly', async (c) =>
      c.json({ hours: await (await honeypot()).eventsPerHour(deps.store, 48) }),
    );
    app.get('/api/v1/honeypot/sources', async (c) =>
      c.json({ sources: await (await honeypot()).sourceTable(deps.store, 20) }),
    );
    app.get('/api/v1/honeypot/tail', async (c) => {
      const after = c.req.query('after');
      const afterId = after === undefined ? undefined : Number(after);
      if (afterId !== undefined && (!Number.isSafeInteger(afterId) || afterId < 0))
        throw new MamoriError('E_USAGE', 'after must be an event id');
      return c.json({
        events: await (await honeypot()).eventTail(
          deps.store,
          afterId === undefined ? {} : { afterId },
        ),
      });
    });
    // Server-sent events: new honeypot events as they are stored, polled once a second, for at
    // most ten minutes a connection (EventSource reconnects and resumes from Last-Event-ID).
    app.get('/api/v1/honeypot/stream', (c) => {
      const h = honeypot();
      const start = Number(c.req.header('last-event-id') ?? c.req.query('after') ?? 0);
      let last = Number.isSafeInteger(start) && start >= 0 ? start : 0;
      return streamSSE(c, async (stream) => {
        let open = true;
        stream.onAbort(() => {
          open = false;
        });
        const until = Date.now() + 10 * 60_000;
        while (open && Date.now() < until) {
          const events = await (await h).eventTail(deps.store, { afterId: last, limit: 100 });
          for (const e of events) {
            await stream.writeSSE({ id: String(e.id), event: 'honeypot', data: JSON.stringify(e) });
            last = e.id;
          }
          await stream.sleep(1000);
        }
      });
    });
  },
};

export const CONSOLE_EXTRAS: Record<string, ConsoleExtra> = {
  vuln: vulnExtra,
  exposure: exposureExtra,
  honeypot: honeypotExtra,
  custody: custodyApprovalsExtra,
  bulletin: bulletinExtra,
  trace: traceExtra,
};
