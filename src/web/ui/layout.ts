/**
 * The dashboard's page frame: navigation for every area, one stylesheet, no inline script or
 * style (the CSP forbids them). Text is escaped by hono's `html` template.
 */
import { html } from 'hono/html';
import type { Html } from '../types.js';
import { type Lang, t } from './i18n.js';

export interface NavItem {
  name: string;
  title: string;
}

export function layout(opts: {
  title: string;
  active: string;
  nav: NavItem[];
  version: string;
  body: Html;
  lang?: Lang;
  user?: { name: string; role: string } | undefined;
  csrf?: string | undefined;
  path?: string;
}) {
  const lang = opts.lang ?? 'en';
  const here = opts.path ?? '/';
  const other: Lang = lang === 'ja' ? 'en' : 'ja';
  return html`<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${t(lang, opts.title)} · Mamori</title>
<link rel="stylesheet" href="/static/mamori.css">
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<script src="/static/console.js" defer></script>
</head>
<body>
<a class="skip" href="#main">${t(lang, 'Skip to content')}</a>
<header class="top"><a class="brand" href="/">守り Mamori</a><span class="version">v${opts.version}</span>
<span class="spacer"></span>
<a class="lang" href="${here}?lang=${other}" hreflang="${other}" lang="${other}">${other === 'ja' ? '日本語' : 'English'}</a>
${
  opts.user
    ? html`<span class="who">${t(lang, 'Signed in as')} <strong>${opts.user.name}</strong> (${opts.user.role})</span>
<a href="/account/password">${t(lang, 'Change password')}</a>
<a href="/account/passkeys">${t(lang, 'Passkeys')}</a>
<form method="post" action="/logout" class="inline"><input type="hidden" name="_csrf" value="${opts.csrf ?? ''}"><button type="submit">${t(lang, 'Sign out')}</button></form>`
    : ''
}
</header>
<nav aria-label="Areas"><ul>
<li><a href="/" ${opts.active === 'overview' ? html`aria-current="page"` : ''}>${t(lang, 'Overview')}</a></li>
${opts.nav.map((n) => html`<li><a href="/${n.name}" ${opts.active === n.name ? html`aria-current="page"` : ''}>${t(lang, n.title)}</a></li>`)}
</ul></nav>
<main id="main" tabindex="-1">
${opts.body}
</main>
<footer>Mamori v${opts.version} · bound to this machine only unless you chose otherwise</footer>
</body>
</html>`;
}

/** An honest empty state: what is missing and the command that fills it. */
export function emptyState(what: string, command: string) {
  return html`<section class="empty" data-empty="true"><p>${what}</p><p>Start with <code>${command}</code>.</p></section>`;
}

export const STYLESHEET = `
:root { color-scheme: light dark; --fg:#1b1f24; --bg:#fbfbf8; --muted:#5b6470; --accent:#a61b29; --card:#fff; --line:#d9dde3; }
@media (prefers-color-scheme: dark) { :root { --fg:#e6e6e6; --bg:#15171a; --muted:#9aa3ad; --card:#1e2126; --line:#30353c; } }
* { box-sizing: border-box; }
body { margin:0; font: 15px/1.5 system-ui, "Hiragino Sans", "Noto Sans JP", sans-serif; color:var(--fg); background:var(--bg); display:grid; grid-template-columns: 14rem 1fr; grid-template-rows: auto 1fr auto; min-height:100vh; }
header.top { grid-column: 1 / 3; display:flex; gap:1rem; align-items:baseline; padding:.75rem 1.25rem; border-bottom:1px solid var(--line); }
.brand { font-weight:700; color:var(--accent); text-decoration:none; font-size:1.2rem; }
.version { color:var(--muted); font-size:.85rem; }
nav { border-right:1px solid var(--line); padding:1rem; }
nav ul { list-style:none; margin:0; padding:0; }
nav a { display:block; padding:.35rem .5rem; color:var(--fg); text-decoration:none; border-radius:4px; }
nav a[aria-current="page"] { background:var(--accent); color:#fff; }
main { padding:1.25rem 2rem; }
footer { grid-column: 1 / 3; padding:.5rem 1.25rem; color:var(--muted); font-size:.8rem; border-top:1px solid var(--line); }
.cards { display:grid; grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr)); gap:1rem; }
.card { background:var(--card); border:1px solid var(--line); border-radius:6px; padding:1rem; }
.card h2 { margin-top:0; font-size:1.05rem; }
.empty { border:1px dashed var(--line); border-radius:6px; padding:1rem; color:var(--muted); }
table { border-collapse: collapse; width:100%; }
th, td { text-align:left; padding:.3rem .5rem; border-bottom:1px solid var(--line); }
code { font-family: ui-monospace, monospace; word-break: break-all; }
.spacer { flex:1; }
.skip { position:absolute; left:-999px; top:0; background:var(--card); padding:.5rem; }
.skip:focus { left:.5rem; z-index:10; }
header.top { flex-wrap: wrap; }
header.top a { color:var(--fg); }
header.top a.brand { color:var(--accent); }
form.inline { display:inline; margin:0; }
button, input, select, textarea { font:inherit; }
button { border:1px solid var(--line); background:var(--card); color:var(--fg); border-radius:4px; padding:.25rem .6rem; cursor:pointer; }
button.primary { background:var(--accent); color:#fff; border-color:var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible { outline:3px solid #1a73e8; outline-offset:2px; }
input, select, textarea { border:1px solid var(--muted); border-radius:4px; padding:.3rem .4rem; background:var(--card); color:var(--fg); max-width:100%; }
label { display:block; margin:.5rem 0 .2rem; }
.alert { border-left:4px solid var(--accent); padding:.5rem 1rem; background:var(--card); }
.banner-frozen { background:var(--accent); color:#fff; padding:.6rem 1rem; border-radius:6px; }
.muted { color:var(--muted); }
.table-wrap { overflow-x:auto; }
.sev-critical, .sev-high { color:var(--accent); font-weight:700; }
svg.chart { max-width:100%; height:auto; }
svg.chart text { fill: var(--fg); font-size:11px; }
svg.chart rect.bar { fill: var(--accent); }
.login { max-width: 24rem; }
svg.flow rect { fill: var(--card); stroke: var(--fg); }
svg.flow rect.start { stroke: var(--accent); stroke-width: 3; }
svg.flow a:focus rect, svg.flow a:hover rect { stroke: #1a73e8; stroke-width: 3; }
svg.flow circle { fill: var(--fg); }
.facets { display:flex; flex-wrap:wrap; gap:1rem; }
.facets ul { margin:0; padding-left:1rem; }
@media (max-width: 700px) {
  body { grid-template-columns: 1fr; }
  header.top { grid-column: 1; }
  footer { grid-column: 1; }
  nav { border-right:none; border-bottom:1px solid var(--line); padding:.5rem; overflow-x:auto; }
  nav ul { display:flex; gap:.25rem; }
  nav a { white-space:nowrap; }
  main { padding:1rem; min-width:0; }
  table { font-size:.85rem; display:block; overflow-x:auto; }
}
`;

/** A shield in the project's red: the favicon. */
export const FAVICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><path d="M16 2 4 7v8c0 7.5 5.1 13.4 12 15 6.9-1.6 12-7.5 12-15V7z" fill="#a61b29"/><path d="M11 16l4 4 7-8" stroke="#fff" stroke-width="3" fill="none"/></svg>';
