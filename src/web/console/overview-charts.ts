/**
 * The Overview's small charts, one per area, and the running scans: the last check's findings
 * by severity, exposure's top ports, honeypot events per hour (last 24 h), custody's hot float
 * against its cap, the bulletin's stories per day. Each figure comes from the same area call as
 * the area's own API (`GET /api/v1/overview/charts` serves exactly what is drawn). An area
 * without data gets no chart but a line saying so; guard matches are not stored, so none is drawn.
 */
import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { Store } from '../../storage/index.js';
import type { GateEnv } from '../guard.js';
import type { PageCtx } from '../types.js';
import { type Bar, barChart } from '../ui/chart.js';
import { t } from '../ui/i18n.js';

const SEVERITIES = ['critical', 'high', 'medium', 'low', 'unknown'] as const;

export interface AreaChart {
  area: string;
  id: string;
  title: string;
  unit?: string;
  bars: Bar[];
  /** Why there is no chart (no data, not stored). */
  note?: string;
}

async function vulnChart(store: Store): Promise<AreaChart> {
  const v = await import('../../vuln/index.js');
  const table = await v.lastCheckTable(store, { limit: 1_000_000 });
  const chart: AreaChart = {
    area: 'vuln',
    id: 'overview-vuln',
    title: 'Findings by severity',
    bars: SEVERITIES.map((s) => ({
      label: s,
      value: table.rows.filter((r) => (r.severity ?? 'unknown') === s).length,
    })),
  };
  return table.runId === null ? { ...chart, bars: [], note: 'No recorded check yet.' } : chart;
}

async function exposureChart(store: Store): Promise<AreaChart> {
  const e = await import('../../exposure/index.js');
  const r = await e.search(store, '', { facets: ['port'], limit: 0 });
  const ports = (r.facets.port ?? []).slice(0, 5);
  return {
    area: 'exposure',
    id: 'overview-exposure',
    title: 'Top ports',
    bars: ports.map((f) => ({ label: String(f.value), value: f.count })),
    ...(ports.length ? {} : { note: 'No service seen yet.' }),
  };
}

async function honeypotChart(store: Store): Promise<AreaChart> {
  const h = await import('../../honeypot/index.js');
  const hours = await h.eventsPerHour(store, 24);
  return {
    area: 'honeypot',
    id: 'overview-honeypot',
    title: 'Events per hour',
    bars: hours.map((x) => ({ label: x.hour.slice(11, 13), value: x.events })),
    ...(hours.length ? {} : { note: 'No honeypot event yet.' }),
  };
}

async function custodyChart(store: Store): Promise<AreaChart> {
  const c = await import('../../custody/index.js');
  const p = await c.custodyPosture(store);
  const chart: AreaChart = {
    area: 'custody',
    id: 'overview-custody',
    title: 'Hot float against its cap',
    unit: 'sat',
    bars: [],
  };
  if (p.wallets === 0) return { ...chart, note: 'No wallet yet.' };
  if (p.hotFloatCap === null || p.hotFloatCap === undefined)
    return { ...chart, note: 'No hot float cap is set.' };
  return {
    ...chart,
    bars: [
      { label: 'hot float', value: Number(p.hotFloat) },
      { label: 'cap', value: Number(p.hotFloatCap) },
    ],
  };
}

async function bulletinChart(store: Store): Promise<AreaChart> {
  const b = await import('../../bulletin/index.js');
  // The same 100 stories GET /api/v1/bulletin/stories lists, counted per day last seen.
  const stories = await b.listStories(store.db, 100);
  const perDay = new Map<string, number>();
  for (const s of stories)
    perDay.set(s.lastSeen.slice(0, 10), (perDay.get(s.lastSeen.slice(0, 10)) ?? 0) + 1);
  const days = [...perDay.keys()].sort().slice(-14);
  return {
    area: 'bulletin',
    id: 'overview-bulletin',
    title: 'Stories per day',
    bars: days.map((d) => ({ label: d, value: perDay.get(d)! })),
    ...(days.length ? {} : { note: 'No story yet.' }),
  };
}

/** Every area's chart, in the order of the navigation. */
export async function overviewCharts(store: Store): Promise<AreaChart[]> {
  return Promise.all([
    vulnChart(store),
    custodyChart(store),
    exposureChart(store),
    honeypotChart(store),
    bulletinChart(store),
    Promise.resolve<AreaChart>({
      area: 'guard',
      id: 'overview-guard',
      title: 'Guard matches',
      bars: [],
      note: 'The guard does not store its matches yet, so there is nothing to count.',
    }),
  ]);
}

async function runningScans(store: Store) {
  const e = await import('../../exposure/index.js');
  return (await e.listScans(store))
    .filter((s) => s.status === 'running')
    .map((s) => ({
      id: s.id,
      startedAt: s.startedAt,
      targets: s.targets,
      done: s.nextIndex,
      total: s.total,
    }));
}

export function overviewChartRoutes(app: Hono<GateEnv>, store: Store) {
  app.get('/api/v1/overview/charts', async (c) =>
    c.json({ charts: await overviewCharts(store), runningScans: await runningScans(store) }),
  );
}

/** The Overview's section: one small chart per area, and the scans running now. */
export async function overviewChartsSection(store: Store, ctx: PageCtx) {
  const lang = ctx.lang;
  const [charts, scans] = await Promise.all([overviewCharts(store), runningScans(store)]);
  return html`<section aria-labelledby="areas-h"><h2 id="areas-h">${t(lang, 'Each area at a glance')}</h2>
<div class="cards charts">${charts.map(
    (ch) =>
      html`<section class="card" data-area-chart="${ch.area}"><h3>${ch.bars.length ? html`<a href="/${ch.area}">${t(lang, ch.title)}</a>` : t(lang, ch.title)}</h3>${
        ch.bars.length
          ? barChart({
              id: ch.id,
              title: t(lang, ch.title),
              bars: ch.bars,
              ...(ch.unit ? { unit: ch.unit } : {}),
            })
          : html`<p class="muted">${ch.note ?? ''}</p>`
      }</section>`,
  )}</div></section>
<section aria-labelledby="running-h"><h2 id="running-h">${t(lang, 'Running now')}</h2>
${
  scans.length
    ? html`<ul data-running-scans>${scans.map((s) => html`<li>exposure scan #${s.id} of ${s.targets.join(', ')} since ${s.startedAt}: ${s.done} / ${s.total}</li>`)}</ul>`
    : html`<p class="muted" data-running-scans>No exposure scan is running.</p>`
}
<p class="muted">Honeypots and sensors report no running state to the store yet, so this page cannot list them.</p></section>`;
}
