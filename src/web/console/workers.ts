/**
 * The console's Workers page and /api/v1/workers: alive or gone, jobs done and failed, each
 * queue's depth and the newest dead letters — what `mamori worker status` prints, from the jobs
 * area's workerStatus(). English and Japanese. Read only: starting and stopping workers is the
 * operator's, on their hosts.
 */
import { html } from 'hono/html';
import { workerStatus } from '../../jobs/index.js';
import type { AreaWeb } from '../types.js';
import type { Lang } from '../ui/i18n.js';

const JA: Record<string, string> = {
  worker: 'ワーカー',
  host: 'ホスト',
  alive: '稼働',
  queues: 'キュー',
  'jobs done': '完了ジョブ',
  failures: '失敗',
  'last seen': '最終応答',
  yes: 'はい',
  'no (gone)': 'いいえ（停止）',
  queue: 'キュー',
  waiting: '待機中',
  'waiting or running': '待機中＋実行中',
  'Dead letters': 'デッドレター',
  'No dead letters.': 'デッドレターはありません。',
  'No worker has been seen in the last day.': '過去 1 日に稼働したワーカーはありません。',
  'Queue depth': 'キューの深さ',
  'workers need a PostgreSQL store; this one is SQLite':
    'ワーカーには PostgreSQL のストアが必要です（このストアは SQLite です）',
  'no job queue yet: it is made when the first worker starts':
    'ジョブキューはまだありません（最初のワーカーの起動時に作られます）',
  time: '時刻',
  reason: '理由',
};
const tr = (lang: Lang, s: string) => (lang === 'ja' ? (JA[s] ?? s) : s);

export const workersWeb: AreaWeb = {
  name: 'workers',
  title: 'Workers',
  summary: 'mamori worker processes on the shared PostgreSQL store, and their job queues.',
  api(app, deps) {
    app.get('/', async (c) => c.json(await workerStatus(deps.store)));
  },
  async page(deps, ctx) {
    const lang = ctx?.lang ?? 'en';
    const s = await workerStatus(deps.store);
    if (s.note && s.workers.length === 0)
      return html`<section class="empty" data-empty="true" data-workers="note"><p>${tr(lang, s.note)}</p><p><code>mamori worker --db postgres://…</code></p></section>`;
    const alive = s.workers.filter((w) => w.alive).length;
    return html`<section data-workers="list"><h2>${tr(lang, 'worker')} (${alive}/${s.workers.length} ${tr(lang, 'alive')})</h2>
${
  s.workers.length
    ? html`<div class="table-wrap"><table><thead><tr><th scope="col">${tr(lang, 'worker')}</th><th scope="col">${tr(lang, 'alive')}</th><th scope="col">${tr(lang, 'queues')}</th><th scope="col">${tr(lang, 'jobs done')}</th><th scope="col">${tr(lang, 'failures')}</th><th scope="col">${tr(lang, 'last seen')}</th></tr></thead><tbody>
${s.workers.map((w) => html`<tr data-worker="${w.id}" data-alive="${w.alive ? 'yes' : 'no'}"><td><code>${w.id}</code></td><td>${tr(lang, w.alive ? 'yes' : 'no (gone)')}</td><td>${w.queues.join(', ')}</td><td>${w.jobsDone}</td><td>${w.jobsFailed}</td><td>${w.lastSeen}</td></tr>`)}
</tbody></table></div>`
    : html`<p>${tr(lang, 'No worker has been seen in the last day.')}</p>`
}</section>
<section data-workers="queues"><h2>${tr(lang, 'Queue depth')}</h2>
${s.note ? html`<p>${tr(lang, s.note)}</p>` : ''}
${
  s.queues.length
    ? html`<div class="table-wrap"><table><thead><tr><th scope="col">${tr(lang, 'queue')}</th><th scope="col">${tr(lang, 'waiting')}</th><th scope="col">${tr(lang, 'waiting or running')}</th></tr></thead><tbody>
${s.queues.map((q) => html`<tr data-queue="${q.queue}"><td>${q.queue}</td><td>${q.queued}</td><td>${q.total}</td></tr>`)}
</tbody></table></div>`
    : ''
}</section>
<section data-workers="dead"><h2>${tr(lang, 'Dead letters')}</h2>
${
  s.deadLetters.length
    ? html`<div class="table-wrap"><table><thead><tr><th scope="col">${tr(lang, 'time')}</th><th scope="col">${tr(lang, 'reason')}</th></tr></thead><tbody>
${s.deadLetters.map((d) => html`<tr><td>${d.createdOn}</td><td>${d.reason}</td></tr>`)}
</tbody></table></div>`
    : html`<p>${tr(lang, 'No dead letters.')}</p>`
}</section>`;
  },
};
