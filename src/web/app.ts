/**
 * createApp({ store }): the Hono application behind `mamori serve` — /healthz, /api/v1/status,
 * each area's /api/v1/<area> routes and console page, sign-in and the Overview, all behind the
 * access gate (guard.ts). Secure headers on every response. Not the listener: see server.ts.
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { html } from 'hono/html';
import { secureHeaders } from 'hono/secure-headers';
import { MamoriError } from '../shared/errors.js';
import { schemaState } from '../storage/index.js';
import { accountRoutes } from './console/account.js';
import { CONSOLE_EXTRAS } from './console/extras.js';
import { overviewRoutes } from './console/overview.js';
import { passkeyRoutes } from './console/passkeys.js';
import { CONSOLE_JS } from './console/script.js';
import { workersWeb } from './console/workers.js';
import { accessGate, type GateEnv, hostGate, IN_PROCESS_ACCESS, noStore, refuse } from './guard.js';
import { bulletinWeb } from './routes/bulletin.js';
import { custodyWeb } from './routes/custody.js';
import { exposureWeb } from './routes/exposure.js';
import { guardWeb } from './routes/guard.js';
import { honeypotWeb } from './routes/honeypot.js';
import { ingestRoute } from './routes/honeypot-sensors.js';
import { traceWeb } from './routes/trace.js';
import { vulnWeb } from './routes/vuln.js';
import type { AreaWeb, WebDeps } from './types.js';
import { t } from './ui/i18n.js';
import { FAVICON, STYLESHEET } from './ui/layout.js';
import { type Frame, pageCtx, renderPage } from './ui/render.js';

export const AREA_WEBS: AreaWeb[] = [
  vulnWeb,
  custodyWeb,
  traceWeb,
  exposureWeb,
  honeypotWeb,
  bulletinWeb,
  guardWeb,
  workersWeb,
];

const STATUS_FOR_CODE: Record<string, 400 | 403 | 404 | 409 | 429 | 501 | 503> = {
  E_USAGE: 400,
  E_INPUT: 400,
  E_UNSUPPORTED: 400,
  E_NOT_FOUND: 404,
  E_SCOPE: 403,
  E_POLICY: 403,
  E_FROZEN: 403,
  E_AUTH: 403,
  E_NOT_IMPLEMENTED: 501,
  E_STORAGE: 503,
  E_NETWORK: 503,
};

/**
 * @example
 * const app = createApp({ store, version: '0.1.0' });
 * const res = await app.request('/healthz'); // 200; every other route needs a session or a token
 */
export function createApp(deps: WebDeps): Hono<GateEnv> {
  const access = deps.access ?? IN_PROCESS_ACCESS;
  const app = new Hono<GateEnv>();
  const frame: Frame = { nav: AREA_WEBS, version: deps.version };
  app.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
      },
      // same-origin, not no-referrer: under no-referrer Chrome sends `Origin: null` on form posts.
      referrerPolicy: 'same-origin',
      crossOriginEmbedderPolicy: false,
      strictTransportSecurity: access.secureCookies ? 'max-age=31536000' : false,
    }),
  );
  app.use('*', noStore);
  app.use('*', hostGate(access));
  // Sensors authenticate with their own tokens, not console sessions: before the gate.
  ingestRoute(app, deps.store);
  app.use('*', accessGate(deps.store, access));
  // Heavy work is bounded: one inventory check at a time, others are told to retry.
  let checking = false;
  const oneCheck: MiddlewareHandler<GateEnv> = async (c, next) => {
    if (c.req.method !== 'POST') return next();
    if (checking) {
      c.header('retry-after', '5');
      return refuse(c, 429, 'E_INPUT', 'another inventory check is running; retry shortly', {
        reason: 'busy',
      });
    }
    checking = true;
    try {
      await next();
    } finally {
      checking = false;
    }
  };
  app.use('/api/v1/vuln/check', oneCheck);
  app.use('/vuln/upload', oneCheck);
  app.onError((err, c) => {
    if (err instanceof MamoriError) {
      return c.json({ error: err.toJSON() }, STATUS_FOR_CODE[err.code] ?? 500);
    }
    if (err instanceof SyntaxError)
      return c.json(
        { error: { code: 'E_INPUT', message: 'the request body is not valid JSON' } },
        400,
      );
    return c.json({ error: { code: 'E_INTERNAL', message: 'internal error' } }, 500);
  });
  app.notFound((c) =>
    c.req.path.startsWith('/api/')
      ? c.json({ error: { code: 'E_NOT_FOUND', message: `no such endpoint: ${c.req.path}` } }, 404)
      : renderPage(
          c,
          frame,
          'Not found',
          'none',
          html`<h1>Not found</h1><p>No page at this address.</p>`,
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
  app.get('/api/v1/me', (c) => {
    const p = c.get('principal');
    return c.json({ kind: p.kind, name: p.name, role: p.role });
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
  app.get('/static/console.js', (c) => {
    c.header('content-type', 'text/javascript; charset=utf-8');
    c.header('cache-control', 'public, max-age=3600');
    return c.body(CONSOLE_JS);
  });

  accountRoutes(app, { store: deps.store, access, frame });
  overviewRoutes(app, { store: deps.store, frame });
  passkeyRoutes(app, { store: deps.store, frame });

  for (const area of AREA_WEBS) {
    const extra = CONSOLE_EXTRAS[area.name];
    extra?.routes?.(app, { ...deps, frame });
    if (area.api) {
      const sub = new Hono();
      area.api(sub, deps);
      app.route(`/api/v1/${area.name}`, sub);
    }
    app.get(`/${area.name}`, async (c) => {
      const ctx = pageCtx(c);
      return renderPage(
        c,
        frame,
        area.title,
        area.name,
        html`<h1>${t(ctx.lang, area.title)}</h1><p class="lead">${area.summary}</p>${extra ? await extra.before(deps, ctx) : ''}${await area.page(deps, ctx)}`,
      );
    });
  }
  return app;
}
