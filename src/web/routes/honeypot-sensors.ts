/**
 * Honeypot sensors at the centre: the ingest endpoint sensors deliver to (authenticated by the
 * sensor's own token, not a console session, so it is mounted ahead of the console's gate), the
 * sensors' status API, and the status table on the honeypot page. The decisions (token check,
 * batch shape, exactly-once storage) are the honeypot area's; this file only speaks HTTP.
 */
import type { Context, Env, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { html } from 'hono/html';
import {
  authenticateSensor,
  INGEST_PATH,
  ingestBatch,
  listSensors,
  parseBatch,
} from '../../honeypot/index.js';
import { MamoriError } from '../../shared/errors.js';
import type { Store } from '../../storage/index.js';
import type { Lang } from '../ui/i18n.js';

/** A batch of 500 events at 2 KiB summaries each fits with room to spare. */
const INGEST_MAX_BODY = 4 * 1024 * 1024;

const JA: Record<string, string> = {
  Sensors: 'センサー',
  sensor: 'センサー',
  'last seen': '最終受信',
  'queue depth': 'キューの滞留',
  events: 'イベント',
  batches: 'バッチ',
  state: '状態',
  revoked: '失効',
  active: '有効',
  never: '未受信',
  'No sensors. Add one with': 'センサーはありません。追加するには',
};
const tr = (lang: Lang, s: string) => (lang === 'ja' ? (JA[s] ?? s) : s);

function fail(c: Context, status: 400 | 401 | 403 | 409 | 413, code: string, message: string) {
  return c.json({ error: { code, message } }, status);
}

/**
 * POST /api/v1/honeypot/ingest: the token is checked before the body is read; the batch is
 * stored in one transaction, so the answer is either "all stored (or already there)" or nothing.
 * @example ingestRoute(app, store); // before app.use('*', accessGate(...))
 */
export function ingestRoute<E extends Env>(app: Hono<E>, store: Store): void {
  const limit = bodyLimit({
    maxSize: INGEST_MAX_BODY,
    onError: (c) => fail(c, 413, 'E_INPUT', `batch larger than ${INGEST_MAX_BODY} bytes`),
  });
  app.post(INGEST_PATH, async (c) => {
    const m = /^Bearer (\S+)$/i.exec((c.req.header('authorization') ?? '').trim());
    const auth = await authenticateSensor(store, m?.[1]);
    if (!auth.ok) return fail(c, auth.status, auth.code, auth.reason);
    return limit(c, async () => {
      let body: unknown;
      try {
        body = await c.req.json();
      } catch (err) {
        c.res =
          (err as Error).name === 'BodyLimitError'
            ? fail(c, 413, 'E_INPUT', `batch larger than ${INGEST_MAX_BODY} bytes`)
            : fail(c, 400, 'E_INPUT', 'the batch is not valid JSON');
        return;
      }
      const parsed = parseBatch(body);
      if (!parsed.ok) {
        c.res = fail(c, 400, 'E_INPUT', `malformed batch: ${parsed.reason}`);
        return;
      }
      if (parsed.batch.sensor !== auth.name) {
        c.res = fail(
          c,
          403,
          'E_AUTH',
          `this token belongs to sensor '${auth.name}', not '${parsed.batch.sensor}'`,
        );
        return;
      }
      try {
        const r = await ingestBatch(store, parsed.batch);
        c.res = c.json({ batch: parsed.batch.batch, ...r });
      } catch (err) {
        if (err instanceof MamoriError && err.code === 'E_AUTH') {
          c.res = fail(c, 403, 'E_AUTH', err.message);
          return;
        }
        if (err instanceof MamoriError && err.code === 'E_INPUT') {
          c.res = fail(c, 409, 'E_INPUT', err.message);
          return;
        }
        throw err;
      }
    });
  });
}

/** GET /api/v1/honeypot/sensors (behind the console's gate, like every area route). */
export function sensorApi(app: Hono, store: Store): void {
  app.get('/sensors', async (c) => c.json({ sensors: await listSensors(store) }));
}

/** The sensors' status table on the honeypot page (nothing when no sensor is registered). */
export async function sensorSection(store: Store, lang: Lang) {
  const sensors = await listSensors(store);
  if (sensors.length === 0)
    return html`<section data-honeypot="sensors"><h2>${tr(lang, 'Sensors')}</h2><p>${tr(lang, 'No sensors. Add one with')} <code>mamori sensor add &lt;name&gt; --out &lt;file&gt;</code>.</p></section>`;
  return html`<section data-honeypot="sensors"><h2>${tr(lang, 'Sensors')}</h2>
<div class="table-wrap"><table><thead><tr><th scope="col">${tr(lang, 'sensor')}</th><th scope="col">${tr(lang, 'state')}</th><th scope="col">${tr(lang, 'last seen')}</th><th scope="col">${tr(lang, 'queue depth')}</th><th scope="col">${tr(lang, 'events')}</th><th scope="col">${tr(lang, 'batches')}</th></tr></thead><tbody>
${sensors.map(
  (s) =>
    html`<tr data-sensor="${s.name}"><td><code>${s.name}</code></td><td>${tr(lang, s.revokedAt ? 'revoked' : 'active')}</td><td>${s.lastSeen ?? tr(lang, 'never')}</td><td>${s.queueDepth ?? '—'}</td><td>${s.events}</td><td>${s.batches}</td></tr>`,
)}
</tbody></table></div></section>`;
}
