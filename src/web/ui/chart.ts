/**
 * Bar charts drawn on the server as SVG: no script, no inline style (the CSP forbids both).
 * Every bar carries its number in `data-value` and a <title>, so a test (or a screen reader)
 * reads the same number the API gives.
 */
import { html } from 'hono/html';

export interface Bar {
  label: string;
  value: number;
}

/**
 * @example barChart({ id: 'vuln-quarter', title: 'Registrations per quarter', bars: [{ label: '2024Q1', value: 12 }] })
 */
export function barChart(opts: { id: string; title: string; bars: Bar[]; unit?: string }) {
  const bars = opts.bars;
  const width = 640;
  const left = 40;
  const height = 200;
  const bottom = 40;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const slot = bars.length ? (width - left - 10) / bars.length : 0;
  const barW = Math.max(1, Math.min(40, slot * 0.8));
  const desc = bars.map((b) => `${b.label}: ${b.value}`).join(', ');
  const labelEvery = Math.max(1, Math.ceil(bars.length / 12));
  return html`<figure class="chart-figure"><svg class="chart" data-chart="${opts.id}" role="img" aria-labelledby="${opts.id}-t ${opts.id}-d" viewBox="0 0 ${width} ${height + bottom}" width="${width}" height="${height + bottom}" xmlns="http://www.w3.org/2000/svg">
<title id="${opts.id}-t">${opts.title}</title><desc id="${opts.id}-d">${desc || 'no data'}</desc>
<line x1="${left}" y1="${height}" x2="${width}" y2="${height}" stroke="currentColor"/>
<text x="${left - 4}" y="12" text-anchor="end">${max}</text><text x="${left - 4}" y="${height}" text-anchor="end">0</text>
${bars.map((b, i) => {
  const h = Math.round((b.value / max) * (height - 10));
  const x = left + i * slot + (slot - barW) / 2;
  return html`<g data-label="${b.label}" data-value="${b.value}"><rect class="bar" x="${x.toFixed(1)}" y="${height - h}" width="${barW.toFixed(1)}" height="${h}"><title>${b.label}: ${b.value}${opts.unit ? ` ${opts.unit}` : ''}</title></rect>${
    i % labelEvery === 0
      ? html`<text x="${(x + barW / 2).toFixed(1)}" y="${height + 14}" text-anchor="middle">${b.label}</text>`
      : ''
  }</g>`;
})}
</svg><figcaption>${opts.title}</figcaption></figure>`;
}
