/** The honeypot area's dashboard page and JSON API. Owned by the honeypot area. */
import { html } from 'hono/html';
import { honeypotReport } from '../../honeypot/index.js';
import type { AreaWeb } from '../types.js';
import { emptyState } from '../ui/layout.js';
import { sensorApi, sensorSection } from './honeypot-sensors.js';

function when(x: { at: string; afterSeconds: number } | null) {
  return x ? `${x.at} (+${x.afterSeconds}s)` : '—';
}

export const honeypotWeb: AreaWeb = {
  name: 'honeypot',
  title: 'Honeypot',
  summary: 'Who finds an exposed camera, how fast, and what they do.',
  api(app, deps) {
    app.get('/report', async (c) => {
      const since = c.req.query('since');
      const top = c.req.query('top');
      const sensor = c.req.query('sensor');
      const { report } = await honeypotReport(deps.store, {
        since,
        ...(sensor ? { sensor } : {}),
        topN: top && /^\d{1,4}$/.test(top) && Number(top) > 0 ? Number(top) : 20,
      });
      return c.json(report);
    });
    sensorApi(app, deps.store);
  },
  async page(deps, ctx) {
    const { report, extras } = await honeypotReport(deps.store, { topN: 10 });
    const sensors = await sensorSection(deps.store, ctx?.lang ?? 'en');
    if (extras.events === 0)
      return html`${emptyState('The honeypot has recorded no events yet.', 'mamori honeypot start')}${sensors}`;
    const s = report.sources;
    return html`${sensors}<section data-honeypot="first"><h2>Time to first…</h2><table>
<tr><th>contact</th><td>${when(report.first.contact)}</td></tr>
<tr><th>login</th><td>${when(report.first.login)}</td></tr>
<tr><th>view</th><td>${when(report.first.view)}</td></tr>
<tr><th>operation</th><td>${when(report.first.operation)}</td></tr></table></section>
<section data-honeypot="sources"><h2>Sources (${s.total})</h2><table>
<tr><th>scanner</th><th>grabber</th><th>guesser</th><th>viewer</th><th>operator</th><th>exploiter</th></tr>
<tr><td>${s.scanner}</td><td>${s.grabber}</td><td>${s.guesser}</td><td>${s.viewer}</td><td>${s.operator}</td><td>${s.exploiter}</td></tr></table></section>
<section data-honeypot="credentials"><h2>Credentials tried</h2>
<p>${extras.loginAttempts} attempts; ${(extras.botnetShare * 100).toFixed(1)}% used known botnet (Mirai) defaults.</p>
<table><tr><th>username</th><th>password</th><th>attempts</th><th>sources</th><th>botnet default</th></tr>
${report.credentials.map((c) => html`<tr><td><code>${c.username}</code></td><td><code>${c.password ?? '(unknown: digest)'}</code></td><td>${c.attempts}</td><td>${c.sources}</td><td>${c.botnetDefault ? 'yes' : ''}</td></tr>`)}
</table></section>
<section data-honeypot="commands"><h2>Shell commands and download attempts</h2>
${
  extras.commands.length
    ? html`<table><tr><th>command</th><th>count</th></tr>${extras.commands.map((c) => html`<tr><td><code>${c.command}</code></td><td>${c.count}</td></tr>`)}</table>`
    : html`<p>No shell commands yet.</p>`
}
${
  extras.downloads.length
    ? html`<table><tr><th>download URL (never fetched)</th><th>count</th></tr>${extras.downloads.map((d) => html`<tr><td><code>${d.url}</code></td><td>${d.count}</td></tr>`)}</table>`
    : ''
}</section>
<section data-honeypot="timeline"><h2>Per day</h2><table>
<tr><th>day</th><th>events</th><th>sources</th><th>logins</th><th>views</th><th>operations</th><th>downloads</th></tr>
${report.timeline.map((t) => html`<tr><td>${t.day}</td><td>${t.events}</td><td>${t.sources}</td><td>${t.logins}</td><td>${t.views}</td><td>${t.operations}</td><td>${t.downloads}</td></tr>`)}
</table></section>`;
  },
};
