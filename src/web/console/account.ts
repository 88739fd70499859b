/**
 * Sign-in, sign-out and password change pages. Sign-in is same-origin only, carries a
 * double-submit token, is rate-limited with lockout (the access area decides), and is audited.
 */
import { randomBytes } from 'node:crypto';
import type { Context, Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { html } from 'hono/html';
import { audit, checkPassword, setPassword, signIn, signOut } from '../../access/index.js';
import { MamoriError } from '../../shared/errors.js';
import type { Store } from '../../storage/index.js';
import {
  type AccessConfig,
  clientOf,
  type GateEnv,
  principalOf,
  sessionCookieName,
} from '../guard.js';
import { t } from '../ui/i18n.js';
import { type Frame, langOf, renderPage } from '../ui/render.js';

const LOGIN_CSRF = 'mamori_login';

/** Only a path on this site: `/x`, never `//host` or `/\\host`. */
function safeNext(next: string | undefined): string {
  if (!next?.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  return next.slice(0, 500);
}

export function accountRoutes(
  app: Hono<GateEnv>,
  deps: { store: Store; access: AccessConfig; frame: Frame },
) {
  const { store, access, frame } = deps;
  const cookieOpts = {
    path: '/',
    httpOnly: true,
    sameSite: 'Strict' as const,
    secure: access.secureCookies,
  };

  const loginForm = (
    lang: ReturnType<typeof langOf>,
    token: string,
    next: string,
    message?: string,
  ) =>
    html`<section class="login"><h1>${t(lang, 'Sign in')}</h1>
${message ? html`<p class="alert" role="alert">${message}</p>` : ''}
<form method="post" action="/login">
<input type="hidden" name="_login" value="${token}"><input type="hidden" name="next" value="${next}">
<label for="name">${t(lang, 'User name')}</label><input id="name" name="name" autocomplete="username" required maxlength="64">
<label for="password">${t(lang, 'Password')}</label><input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024">
<p><button class="primary" type="submit">${t(lang, 'Sign in')}</button></p>
</form>
<p class="muted">No account yet? An admin makes one with <code>mamori user add &lt;name&gt; --role viewer</code>.</p></section>`;

  const freshLoginToken = (c: Context) => {
    const token = randomBytes(24).toString('base64url');
    setCookie(c, LOGIN_CSRF, token, { ...cookieOpts, maxAge: 3600 });
    return token;
  };

  app.get('/login', (c) => {
    const lang = langOf(c);
    return renderPage(
      c,
      frame,
      'Sign in',
      'none',
      loginForm(lang, freshLoginToken(c), safeNext(c.req.query('next'))),
    );
  });

  app.post('/login', async (c) => {
    const lang = langOf(c);
    const form = await c.req.parseBody();
    const str = (k: string) => (typeof form[k] === 'string' ? (form[k] as string) : '');
    const next = safeNext(str('next'));
    const cookieToken = getCookie(c, LOGIN_CSRF);
    if (!cookieToken || cookieToken !== str('_login')) {
      return renderPage(
        c,
        frame,
        'Sign in',
        'none',
        loginForm(lang, freshLoginToken(c), next, 'The sign-in form expired; try again.'),
        403,
      );
    }
    const name = str('name').slice(0, 64);
    const client = clientOf(c);
    const r = await signIn(store, { name, password: str('password'), client });
    if (!r.ok) {
      await audit(store, {
        actor: `anonymous`,
        action: 'sign-in',
        target: name,
        outcome: r.reason,
        client,
      });
      if (r.reason === 'locked') {
        const secs = Math.ceil((r.retryAfterMs ?? 60_000) / 1000);
        c.header('retry-after', String(secs));
        return renderPage(
          c,
          frame,
          'Sign in',
          'none',
          loginForm(
            lang,
            freshLoginToken(c),
            next,
            `Too many failed sign-ins: try again in ${Math.ceil(secs / 60)} minute(s).`,
          ),
          429,
        );
      }
      return renderPage(
        c,
        frame,
        'Sign in',
        'none',
        loginForm(lang, freshLoginToken(c), next, 'Wrong user name or password.'),
        403,
      );
    }
    await audit(store, {
      actor: `user:${r.principal.name}`,
      action: 'sign-in',
      outcome: 'ok',
      client,
    });
    deleteCookie(c, LOGIN_CSRF, { path: '/' });
    setCookie(c, sessionCookieName(access), r.sessionId, {
      ...cookieOpts,
      expires: new Date(r.expires),
    });
    return c.redirect(r.principal.mustChange ? '/account/password' : next, 303);
  });

  app.post('/logout', async (c) => {
    const sid = getCookie(c, sessionCookieName(access));
    if (sid) await signOut(store, sid);
    deleteCookie(c, sessionCookieName(access), { path: '/', secure: access.secureCookies });
    return c.redirect('/login', 303);
  });

  const passwordForm = (
    lang: ReturnType<typeof langOf>,
    csrf: string,
    message?: string,
    mustChange?: boolean,
  ) =>
    html`<section class="login"><h1>${t(lang, 'Change password')}</h1>
${mustChange ? html`<p class="alert">This account has a one-time password: choose your own before going on.</p>` : ''}
${message ? html`<p class="alert" role="alert">${message}</p>` : ''}
<form method="post" action="/account/password"><input type="hidden" name="_csrf" value="${csrf}">
<label for="current">${t(lang, 'Current password')}</label><input id="current" name="current" type="password" autocomplete="current-password" required>
<label for="new">${t(lang, 'New password')}</label><input id="new" name="new" type="password" autocomplete="new-password" required minlength="12">
<p><button class="primary" type="submit">${t(lang, 'Save')}</button></p></form></section>`;

  app.get('/account/password', (c) => {
    const p = principalOf(c);
    if (p.kind !== 'user') throw new MamoriError('E_USAGE', 'a token has no password');
    return renderPage(
      c,
      frame,
      'Change password',
      'none',
      passwordForm(langOf(c), p.csrf ?? '', undefined, p.mustChange),
    );
  });

  app.post('/account/password', async (c) => {
    const p = principalOf(c);
    if (p.kind !== 'user') throw new MamoriError('E_USAGE', 'a token has no password');
    const form = await c.req.parseBody();
    const current = typeof form.current === 'string' ? form.current : '';
    const next = typeof form.new === 'string' ? form.new : '';
    if (!(await checkPassword(store, p.name, current)))
      return renderPage(
        c,
        frame,
        'Change password',
        'none',
        passwordForm(langOf(c), p.csrf ?? '', 'The current password is wrong.', p.mustChange),
        403,
      );
    try {
      await setPassword(store, p.name, next);
    } catch (e) {
      if (e instanceof MamoriError && e.code === 'E_INPUT')
        return renderPage(
          c,
          frame,
          'Change password',
          'none',
          passwordForm(langOf(c), p.csrf ?? '', e.message, p.mustChange),
          400,
        );
      throw e;
    }
    deleteCookie(c, sessionCookieName(access), { path: '/', secure: access.secureCookies });
    return c.redirect('/login', 303);
  });
}
