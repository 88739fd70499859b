/** The exposure area's dashboard page and JSON API. Owned by the exposure area. */
import { html } from 'hono/html';
import { listScans, listScope, openCameras, search } from '../../exposure/index.js';
import type { AreaWeb } from '../types.js';
import { emptyState } from '../ui/layout.js';

export const exposureWeb: AreaWeb = {
  name: 'exposure',
  title: 'Exposure',
  summary: 'Your own address ranges as Shodan and Censys would see them.',
  api(app, deps) {
    // GET /api/v1/exposure/search?q=port:554&facet=port,product&limit=50
    app.get('/search', async (c) => {
      const facet = c.req.query('facet');
      const limit = c.req.query('limit');
      const r = await search(deps.store, c.req.query('q') ?? '', {
        facets: facet ? facet.split(',').filter(Boolean) : [],
        ...(limit !== undefined ? { limit: Number(limit) } : {}),
      });
      return c.json(r);
    });
    app.get('/scope', async (c) => c.json(await listScope(deps.store)));
    app.get('/scans', async (c) => c.json(await listScans(deps.store)));
    app.get('/open-cameras', async (c) => c.json(await openCameras(deps.store)));
  },
  async page(deps) {
    const scope = await listScope(deps.store);
    if (scope.length === 0) {
      return emptyState(
        'No scope and no scans yet.',
        'mamori exposure scope add <cidr> --owner <you>',
      );
    }
    const scans = await listScans(deps.store);
    const cams = await openCameras(deps.store);
    const all = await search(deps.store, '', { limit: 50, facets: ['port', 'protocol'] });
    return html`<section><h2>Scope</h2><table><thead><tr><th>range</th><th>owner</th><th>credential audit</th></tr></thead><tbody>${scope.map(
      (s) =>
        html`<tr><td><code>${s.cidr}</code></td><td>${s.owner}</td><td>${s.allowCredentials ? 'allowed' : 'no'}</td></tr>`,
    )}</tbody></table></section>
<section data-section="findings"><h2>Cameras and devices anyone can log into</h2>${
      cams.length
        ? html`<table><thead><tr><th>address</th><th>finding</th><th>vendor</th><th>product</th><th>since</th></tr></thead><tbody>${cams.map(
            (f) =>
              html`<tr><td><code>${f.ip}:${f.port}</code></td><td><strong>${f.kind}</strong></td><td>${f.vendor ?? ''}</td><td>${f.product ?? ''}</td><td>${f.time}</td></tr>`,
          )}</tbody></table>`
        : html`<p>None found${scans.length ? '' : ' (no scan yet)'}. Run <code>mamori exposure audit-credentials</code> after a scan.</p>`
    }</section>
<section><h2>Services (${all.total})</h2><p>Scans: ${scans.length}. Ports: ${(all.facets.port ?? []).map((f) => `${f.value} (${f.count})`).join(', ')}</p>
<table><thead><tr><th>address</th><th>protocol</th><th>vendor</th><th>product</th><th>title</th><th>auth</th><th>seen</th></tr></thead><tbody>${all.matches.map(
      (m) =>
        html`<tr><td><code>${m.ip}:${m.port}/${m.transport}</code></td><td>${m.protocol ?? ''}</td><td>${m.vendor ?? ''}</td><td>${m.product ?? ''}</td><td>${m.title ?? ''}</td><td>${m.auth_required === null ? '?' : m.auth_required ? 'yes' : 'NO'}</td><td>${m.seen}</td></tr>`,
    )}</tbody></table></section>`;
  },
};
