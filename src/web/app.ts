/**
 * createApp({ store }): the Hono application behind `mamori serve` — /healthz, /api/v1/status,
 * each area's /api/v1/<area> routes and dashboard page. Secure headers on every response.
 * Not the listener: see server.ts.
 */
import { Hono } from 'hono';
import { html } from 'hono/html';
import { secureHeaders } from 'hono/secure-headers';
import { MamoriError } from '../shared/errors.js';
import { schemaState } from '../storage/index.js';
import { bulletinWeb } from './routes/bulletin.js';
import { custodyWeb } from './routes/custody.js';
import { exposureWeb } from './routes/exposure.js';
import { honeypotWeb } from './routes/honeypot.js';
import { traceWeb } from './routes/trace.js';
import { vulnWeb } from './routes/vuln.js';
import type { AreaWeb, WebDeps } from './types.js';
import { FAVICON, layout, STYLESHEET } from './ui/layout.js';

export const AREA_WEBS: AreaWeb[] = [
  vulnWeb,
  custodyWeb,
  traceWeb,
  exposureWeb,
  honeypotWeb,
  bulletinWeb,
];

const STATUS_FOR_CODE: Record<string, 400 | 403 | 404 | 501 | 503> = {
  E_USAGE: 400,
  E_INPUT: 400,
  E_UNSUPPORTED: 400,
  E_NOT_FOUND: 404,
  E_SCOPE: 403,
  E_POLICY: 403,
  E_FROZEN: 403,
  E_NOT_IMPLEMENTED: 501,
  E_STORAGE: 503,
  E_NETWORK: 503,
};

/**
 * @example
 * const app = createApp({ store, version: '0.1.0' });
 * const res = await app.request('/healthz'); // 200
 */
export function createApp(deps: WebDeps): Hono {
  const app = new Hono();
  app.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        objectSrc: ["'none'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
      },
      referrerPolicy: 'no-referrer',
      crossOriginEmbedderPolicy: false,
    }),
  );
  app.onError((err, c) => {
    if (err instanceof MamoriError) {
      return c.json({ error: err.toJSON() }, STATUS_FOR_CODE[err.code] ?? 500);
    }
    return c.json({ error: { code: 'E_INTERNAL', message: 'internal error' } }, 500);
  });
  app.notFound((c) =>
    c.req.path.startsWith('/api/')
      ? c.json({ error: { code: 'E_NOT_FOUND', message: `no such endpoint: ${c.req.path}` } }, 404)
      : c.html(
          page('Not found', 'none', html`<h1>Not found</h1><p>No page at this address.</p>`),
          404,
        ),
  );

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/api/v1/status', async (c) => {
    const state = await schemaState(deps.store);
    return c.json({
      version: deps.version,
      store: {
        backend: deps.store.backend,
        schemaVersion: state.applied.length,
        latestVersion: state.known.length,
      },
      areas: AREA_WEBS.map((a) => a.name),
    });
  });
  app.get('/favicon.ico', (c) => c.redirect('/static/favicon.svg', 301));
  app.get('/static/favicon.svg', (c) => {
    c.header('content-type', 'image/svg+xml');
    c.header('cache-control', 'public, max-age=86400');
    return c.body(FAVICON);
  });
  app.get('/static/mamori.css', (c) => {
    c.header('content-type', 'text/css; charset=utf-8');
    c.header('cache-control', 'public, max-age=3600');
    return c.body(STYLESHEET);
  });

  for (const area of AREA_WEBS) {
    if (area.api) {
      const sub = new Hono();
      area.api(sub, deps);
      app.route(`/api/v1/${area.name}`, sub);
    }
    app.get(`/${area.name}`, async (c) =>
      c.html(
        page(
          area.title,
          area.name,
          html`<h1>${area.title}</h1><p class="lead">${area.summary}</p>${await area.page(deps)}`,
        ),
      ),
    );
  }

  app.get('/', (c) =>
    c.html(
      page(
        'Overview',
        'overview',
        html`<h1>Overview</h1>
<p class="lead">Most incidents are prevented by two habits: keep operating systems, applications and security signatures up to date, and defend the whole network, not just each host.</p>
<div class="cards">${AREA_WEBS.map(
          (a) =>
            html`<section class="card" data-area="${a.name}"><h2><a href="/${a.name}">${a.title}</a></h2><p>${a.summary}</p></section>`,
        )}</div>`,
      ),
    ),
  );

  function page(title: string, active: string, body: Parameters<typeof layout>[0]['body']) {
    return layout({ title, active, nav: AREA_WEBS, version: deps.version, body });
  }
  return app;
}
