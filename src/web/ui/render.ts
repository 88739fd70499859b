/**
 * Rendering a console page for a request: the layout with the signed-in user, the language
 * (a `?lang=` switch sets the cookie) and the CSRF token for forms.
 */
import type { Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import type { Principal } from '../../access/index.js';
import type { Html, PageCtx } from '../types.js';
import { type Lang, pickLang } from './i18n.js';
import { layout, type NavItem } from './layout.js';

export interface Frame {
  nav: NavItem[];
  version: string;
}

/** The request's language; `?lang=ja|en` switches it and remembers it in a cookie. */
export function langOf(c: Context): Lang {
  const asked = c.req.query('lang');
  if (asked === 'ja' || asked === 'en') {
    setCookie(c, 'mamori_lang', asked, { path: '/', sameSite: 'Strict', maxAge: 31536000 });
    return asked;
  }
  return pickLang(getCookie(c, 'mamori_lang'), c.req.header('accept-language'));
}

export function pageCtx(c: Context): PageCtx {
  const p = c.get('principal' as never) as Principal | undefined;
  return {
    lang: langOf(c),
    role: p?.role ?? 'viewer',
    user: p?.name ?? '',
    csrf: p?.csrf ?? '',
    query: c.req.query(),
  };
}

/** Render a page inside the frame for this request. */
export function renderPage(
  c: Context,
  frame: Frame,
  title: string,
  active: string,
  body: Html,
  status: 200 | 400 | 403 | 404 | 429 = 200,
) {
  const p = c.get('principal' as never) as Principal | undefined;
  return c.html(
    layout({
      title,
      active,
      nav: frame.nav,
      version: frame.version,
      body,
      lang: langOf(c),
      user: p ? { name: p.name, role: p.role } : undefined,
      csrf: p?.csrf,
      path: c.req.path,
    }),
    status,
  );
}
