/**
 * The service's gate (DESIGN.md "The service"): a Host allow-list against DNS rebinding, a
 * session cookie or a bearer token on every route but /healthz, roles, Origin and CSRF checks
 * on state changes, body limits enforced on the stream, Cache-Control: no-store, and an audit
 * line for every state change. Decisions about who may do what are the access area's
 * (permissionFor, can); this file only applies them to HTTP.
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { getCookie } from 'hono/cookie';
import {
  audit,
  authenticateSession,
  authenticateToken,
  can,
  constantTimeEqual,
  holdersOf,
  hostAllowed,
  originAllowed,
  type Principal,
  permissionFor,
} from '../access/index.js';
import type { Store } from '../storage/index.js';

/** How the service is reached: who may name it (Host, Origin) and how cookies are sent. */
export interface AccessConfig {
  /** Host header values that name this service, e.g. `127.0.0.1:8080`. */
  allowedHosts: string[];
  /** Origins allowed to change state with a session, e.g. `http://127.0.0.1:8080`. */
  allowedOrigins: string[];
  /** Secure cookies (set under TLS). */
  secureCookies: boolean;
  /** Largest request body in bytes (default 10 MiB). */
  maxBodyBytes?: number;
}

/** In process (`app.request('/x')`) a request's URL is http://localhost/…. */
export const IN_PROCESS_ACCESS: AccessConfig = {
  allowedHosts: ['localhost'],
  allowedOrigins: ['http://localhost'],
  secureCookies: false,
};

export const DEFAULT_MAX_BODY = 10 * 1024 * 1024;
const LOGIN_MAX_BODY = 64 * 1024;

export type GateEnv = { Variables: { principal: Principal; client: string } };

/** Paths anyone may reach (they hold no data): health, sign-in, static files. */
export function isPublicPath(path: string): boolean {
  return (
    path === '/healthz' ||
    path === '/login' ||
    path === '/favicon.ico' ||
    path.startsWith('/static/')
  );
}

export function sessionCookieName(cfg: AccessConfig): string {
  // __Host- cookies must be Secure, host-only, Path=/: a sibling subdomain cannot plant one.
  return cfg.secureCookies ? '__Host-mamori_session' : 'mamori_session';
}

const isApi = (path: string) => path.startsWith('/api/');

/** A refusal: JSON with a stable code for the API, a short page otherwise. */
export function refuse(
  c: Context,
  status: 401 | 403 | 413 | 421 | 429,
  code: string,
  message: string,
  details: Record<string, unknown> = {},
): Response {
  if (isApi(c.req.path) || !(c.req.header('accept') ?? '').includes('text/html')) {
    return c.json({ error: { code, message, details } }, status);
  }
  const esc = message.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
  return c.html(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${status} · Mamori</title><link rel="stylesheet" href="/static/mamori.css"></head><body><main id="main"><h1>${status}</h1><p>${esc}</p><p><a href="/">Back to the console</a></p></main></body></html>`,
    status,
  );
}

export function clientOf(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'in-process';
  }
}

/** Host allow-list (421 Misdirected Request on anything else): stops DNS rebinding. */
export function hostGate(cfg: AccessConfig): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.path === '/healthz') return next();
    const host = c.req.header('host') ?? new URL(c.req.url).host;
    if (!hostAllowed(host, cfg.allowedHosts)) {
      return refuse(c, 421, 'E_POLICY', 'this service does not answer to that host name', {
        reason: 'host',
        hint: 'open the console at its --public-url',
      });
    }
    return next();
  };
}

/** Cache-Control: no-store on everything but static files. */
export const noStore: MiddlewareHandler = async (c, next) => {
  await next();
  if (!c.req.path.startsWith('/static/')) c.res.headers.set('cache-control', 'no-store');
};

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function bearerOf(c: Context): string | undefined {
  const h = c.req.header('authorization');
  if (!h) return undefined;
  const m = /^Bearer ([^\s]+)$/i.exec(h.trim());
  return m ? m[1] : '';
}

/**
 * Authenticate (bearer token or session cookie), enforce the role, check Origin and the CSRF
 * token on state changes made with a cookie, limit the body on the stream, and audit state
 * changes. Bodies are read only after authentication: a stranger cannot make us read one.
 */
export function accessGate(store: Store, cfg: AccessConfig): MiddlewareHandler<GateEnv> {
  const maxBody = cfg.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const tooLarge = (limit: number) => (c: Context) =>
    refuse(c, 413, 'E_INPUT', `request body larger than ${limit} bytes`, {
      reason: 'too_large',
      limit,
    });
  const limitBody = bodyLimit({ maxSize: maxBody, onError: tooLarge(maxBody) });
  const limitLogin = bodyLimit({ maxSize: LOGIN_MAX_BODY, onError: tooLarge(LOGIN_MAX_BODY) });

  return async (c, next) => {
    const path = c.req.path;
    const method = c.req.method.toUpperCase();
    const client = clientOf(c);
    c.set('client', client);
    const changing = STATE_CHANGING.has(method);
    if (isPublicPath(path)) {
      if (!changing) return next();
      // The sign-in form: same-origin only, small bodies.
      if (!originAllowed(c.req.header('origin'), cfg.allowedOrigins))
        return refuse(c, 403, 'E_POLICY', 'cross-origin request refused', { reason: 'origin' });
      return limitLogin(c, next);
    }

    let principal: Principal | undefined;
    const bearer = bearerOf(c);
    let viaCookie = false;
    if (bearer !== undefined) {
      principal = bearer ? await authenticateToken(store, bearer) : undefined;
      if (!principal)
        return refuse(c, 401, 'E_AUTH', 'the bearer token is unknown, revoked or expired', {
          reason: 'token',
        });
    } else {
      const sid = getCookie(c, sessionCookieName(cfg));
      principal = sid ? await authenticateSession(store, sid) : undefined;
      viaCookie = true;
      if (!principal) {
        if (!isApi(path) && method === 'GET')
          return c.redirect(`/login?next=${encodeURIComponent(path)}`, 303);
        return refuse(c, 401, 'E_AUTH', 'sign in or send a bearer token', {
          reason: sid ? 'session' : 'missing',
        });
      }
    }
    c.set('principal', principal);
    const actor = `${principal.kind}:${principal.name}`;

    if (principal.mustChange && path !== '/account/password' && path !== '/logout') {
      if (!isApi(path) && method === 'GET') return c.redirect('/account/password', 303);
      return refuse(c, 403, 'E_AUTH', 'change the one-time password first', {
        reason: 'must_change_password',
      });
    }

    const needs = permissionFor(method, path);
    if (!can(principal.role, needs)) {
      if (changing)
        await audit(store, {
          actor,
          action: `${method} ${path}`,
          outcome: 'refused: role',
          client,
        });
      return refuse(c, 403, 'E_POLICY', `a ${principal.role} may not do this: it needs ${needs}`, {
        reason: 'role',
        role: principal.role,
        needs,
        allowedRoles: holdersOf(needs),
      });
    }
    if (!changing) return next();

    const origin = c.req.header('origin');
    // A cookie rides along with any request the browser makes; a bearer token never does, so
    // only cookie-authenticated changes need Origin and CSRF. A bearer request that says it
    // comes from elsewhere is refused all the same.
    if (
      viaCookie
        ? !originAllowed(origin, cfg.allowedOrigins)
        : origin !== undefined && !originAllowed(origin, cfg.allowedOrigins)
    ) {
      await audit(store, {
        actor,
        action: `${method} ${path}`,
        outcome: 'refused: origin',
        client,
      });
      return refuse(c, 403, 'E_POLICY', 'cross-origin request refused', { reason: 'origin' });
    }
    let bodyOk = true;
    const run = async () => {
      if (viaCookie) {
        let sent = c.req.header('x-csrf-token');
        if (sent === undefined) {
          const type = c.req.header('content-type') ?? '';
          if (
            type.startsWith('application/x-www-form-urlencoded') ||
            type.startsWith('multipart/form-data')
          ) {
            const form = await c.req.parseBody();
            sent = typeof form._csrf === 'string' ? form._csrf : undefined;
          }
        }
        const want = new TextEncoder().encode(principal.csrf ?? '');
        if (!sent || !constantTimeEqual(new TextEncoder().encode(sent), want)) {
          bodyOk = false;
          c.res = refuse(c, 403, 'E_POLICY', 'missing or wrong CSRF token', { reason: 'csrf' });
          return;
        }
      }
      await next();
    };
    const early = await limitBody(c, run);
    if (early instanceof Response) c.res = early;
    const outcome = bodyOk ? String(c.res.status) : 'refused: csrf';
    await audit(store, { actor, action: `${method} ${path}`, outcome, client });
  };
}

/** The signed-in principal of a request that passed the gate. */
export function principalOf(c: Context): Principal {
  const p = c.get('principal' as never) as Principal | undefined;
  if (!p) throw new Error('principalOf: the request did not pass the access gate');
  return p;
}
