/**
 * Feed parsing into feedparser's result model (so the feedparser test suite can check us):
 * RSS 0.9x, RSS 1.0 (RDF), RSS 2.0, Atom 0.3, Atom 1.0, and JSON Feed 1.x. Every text value that
 * may carry HTML is sanitized here, so nothing hostile leaves this module.
 * Not the byte-level decoding (see `encoding.ts`) nor fetching (see `../feeds.ts`).
 */
import { parseFeedDate, structTime } from './dates.js';
import { safeUrl, sanitizeHtml } from './sanitize.js';
import { parseXml, serializeNodes, textOf, type XmlElement, xmlAttr } from './xml.js';

export type FeedDict = Record<string, unknown>;

export interface ParsedFeed {
  bozo: boolean;
  bozo_exception?: string;
  version: string;
  feed: FeedDict;
  entries: FeedDict[];
  namespaces: Record<string, string>;
  encoding?: string;
}

const NS = {
  atom10: 'http://www.w3.org/2005/Atom',
  atom03: 'http://purl.org/atom/ns#',
  rss10: 'http://purl.org/rss/1.0/',
  rss090: 'http://my.netscape.com/rdf/simple/0.9/',
  rdf: 'http://www.w3.org/1999/02/22-rdf-syntax-ns#',
  xhtml: 'http://www.w3.org/1999/xhtml',
};

/** Namespace URI → the prefix feedparser uses for it (so names are stable whatever is written). */
const KNOWN_PREFIXES: Record<string, string> = {
  [NS.atom10]: '',
  [NS.atom03]: '',
  [NS.rss10]: '',
  [NS.rss090]: '',
  'http://purl.org/net/rss1.1#': '',
  'http://backend.userland.com/rss': '',
  'http://blogs.law.harvard.edu/tech/rss': '',
  'http://backend.userland.com/rss2': '',
  [NS.rdf]: 'rdf',
  'http://purl.org/dc/elements/1.1/': 'dc',
  'http://purl.org/dc/elements/1.0/': 'dc',
  'http://purl.org/dc/terms/': 'dcterms',
  'http://purl.org/rss/1.0/modules/content/': 'content',
  [NS.xhtml]: 'xhtml',
  'http://www.itunes.com/dtds/podcast-1.0.dtd': 'itunes',
  'http://example.com/DTDs/PodCast-1.0.dtd': 'itunes',
  'http://search.yahoo.com/mrss/': 'media',
  'http://search.yahoo.com/mrss': 'media',
  'http://webns.net/mvcb/': 'admin',
  'http://purl.org/rss/1.0/modules/syndication/': 'sy',
  'http://purl.org/rss/1.0/modules/slash/': 'slash',
  'http://wellformedweb.org/CommentAPI/': 'wfw',
  'http://www.georss.org/georss': 'georss',
  'http://purl.org/rss/1.0/modules/image/': 'image',
  'http://purl.org/rss/1.0/modules/taxonomy/': 'taxo',
  'http://www.w3.org/XML/1998/namespace': 'xml',
  'http://www.w3.org/1999/xlink': 'xlink',
  'http://www.google.com/schemas/reader/atom/': 'gr',
  'http://www.microsoft.com/schemas/rss/core/2005': 'cf',
  'http://feedburner.org/2005/feedburner': 'feedburner',
  'http://podlove.org/simple-chapters': 'psc',
};

const HTML_TYPES = new Set(['text/html', 'application/xhtml+xml']);
const HTML_HINT =
  /<\/?(a|abbr|acronym|address|b|big|blockquote|br|caption|center|cite|code|dd|del|dfn|div|dl|dt|em|font|h[1-6]|hr|i|img|ins|kbd|li|ol|p|pre|q|s|samp|small|span|strike|strong|sub|sup|table|tbody|td|th|thead|tr|tt|u|ul|var|script|iframe|object|embed|style|applet|meta|link|body|html|head|title|form|input|svg|math)\b[^>]*>/i;

interface Ctx {
  base: string | undefined;
  lang: string | undefined;
  atom: boolean;
}

/**
 * Parse a decoded feed document (XML or JSON Feed).
 * @example parseFeed('<rss version="2.0"><channel><title>t</title></channel></rss>').feed.title === 't'
 */
export function parseFeed(
  text: string,
  opts: { baseUrl?: string; language?: string; contentLocation?: string } = {},
): ParsedFeed {
  const trimmed = text.replace(/^\uFEFF/, '').trimStart();
  if (trimmed.startsWith('{')) return parseJsonFeed(trimmed, opts.baseUrl);
  const doc = parseXml(text);
  const out: ParsedFeed = {
    bozo: doc.bozo,
    version: '',
    feed: {},
    entries: [],
    namespaces: {},
  };
  if (doc.bozoReason) out.bozo_exception = doc.bozoReason;
  const root = doc.root;
  if (!root) {
    out.bozo = true;
    out.bozo_exception ??= 'not a feed: no root element';
    return out;
  }
  for (const [p, uri] of root.nsScope) if (p !== 'xml') out.namespaces[p] = uri;
  let base = opts.baseUrl;
  if (opts.contentLocation) {
    const loc = safeUrl(opts.contentLocation, base);
    if (loc) base = loc;
  }
  const rootCtx = childCtx({ base, lang: opts.language, atom: false }, root);
  const rl = root.local.toLowerCase();
  if (rl === 'rss' || (rl === 'channel' && !root.ns)) {
    const v = root.attrs.version ?? '';
    out.version =
      {
        '0.91': 'rss091u',
        '0.92': 'rss092',
        '0.93': 'rss093',
        '0.94': 'rss094',
        '2.0': 'rss20',
        '2': 'rss20',
        '2.00': 'rss20',
      }[v.trim()] ?? (v.trim().startsWith('2') ? 'rss20' : 'rss');
    if (out.version === 'rss091u' && /Netscape|netscape/.test(text.slice(0, 500))) {
      if (/<!DOCTYPE\s+rss\s+PUBLIC\s+"-\/\/Netscape/i.test(text.slice(0, 500)))
        out.version = 'rss091n';
    }
    const channel = rl === 'channel' ? root : firstChild(root, 'channel');
    if (channel) {
      const cctx = childCtx(rootCtx, channel);
      handleContainer(channel, cctx, out.feed, 'feed', out);
    }
    for (const item of childrenNamed(root, 'item'))
      out.entries.push(handleEntry(item, rootCtx, out));
  } else if (rl === 'rdf') {
    const channel = firstChild(root, 'channel');
    out.version =
      channel?.ns === NS.rss090 || root.nsScope.get('') === NS.rss090 ? 'rss090' : 'rss10';
    if (channel) handleContainer(channel, childCtx(rootCtx, channel), out.feed, 'feed', out);
    for (const c of elements(root)) {
      const l = c.local.toLowerCase();
      if (l === 'item') out.entries.push(handleEntry(c, rootCtx, out));
      else if (l === 'image' || l === 'textinput') handleChild(c, rootCtx, out.feed, 'feed', out);
    }
  } else if (rl === 'feed') {
    const atomCtx = { ...rootCtx, atom: true };
    const v = root.attrs.version;
    out.version =
      root.ns === NS.atom10
        ? 'atom10'
        : root.ns === NS.atom03 || v === '0.3'
          ? 'atom03'
          : v === '0.2'
            ? 'atom02'
            : v === '0.1'
              ? 'atom01'
              : 'atom';
    handleContainer(root, atomCtx, out.feed, 'feed', out);
  } else {
    out.bozo = true;
    out.bozo_exception ??= `not a feed: root element <${root.qname}>`;
  }
  // The feed's language: its own element, else xml:lang on the root/channel, else HTTP.
  if (out.feed.language === undefined && out.version) {
    const channel = rl === 'feed' ? root : firstChild(root, 'channel');
    const lang = (channel ? childCtx(rootCtx, channel) : rootCtx).lang;
    if (lang) out.feed.language = lang;
  }
  return out;
}

function childCtx(ctx: Ctx, el: XmlElement): Ctx {
  const b = xmlAttr(el, 'base');
  const l = xmlAttr(el, 'lang');
  return {
    atom: ctx.atom,
    base: b !== undefined ? safeUrl(b, ctx.base) || ctx.base : ctx.base,
    lang: l !== undefined ? l.trim().replace(/_/g, '-') || undefined : ctx.lang,
  };
}

function elements(el: XmlElement): XmlElement[] {
  return el.children.filter((c): c is XmlElement => c.kind === 'element');
}
function firstChild(el: XmlElement, local: string): XmlElement | undefined {
  return elements(el).find((c) => c.local.toLowerCase() === local);
}
function childrenNamed(el: XmlElement, local: string): XmlElement[] {
  return elements(el).filter((c) => c.local.toLowerCase() === local);
}

/** The name feedparser would dispatch on: `dc_creator`, `title`, `content_encoded`. */
function normName(el: XmlElement): string {
  const known = KNOWN_PREFIXES[el.ns];
  const local = el.local.toLowerCase();
  if (known !== undefined) return known ? `${known}_${local}` : local;
  if (!el.ns) return local;
  const prefix = el.qname.includes(':')
    ? el.qname.slice(0, el.qname.indexOf(':')).toLowerCase()
    : '';
  return prefix ? `${prefix}_${local}` : local;
}

function handleContainer(
  el: XmlElement,
  ctx: Ctx,
  target: FeedDict,
  kind: 'feed' | 'entry' | 'source',
  out: ParsedFeed,
) {
  for (const c of elements(el)) {
    const n = normName(c);
    if (kind === 'feed' && (n === 'item' || n === 'entry')) {
      out.entries.push(handleEntry(c, ctx, out));
      continue;
    }
    handleChild(c, ctx, target, kind, out);
  }
  syncAuthor(target, 'author');
  syncAuthor(target, 'publisher');
}

function handleEntry(el: XmlElement, parent: Ctx, out: ParsedFeed): FeedDict {
  const ctx = childCtx(parent, el);
  const entry: FeedDict = {};
  handleContainer(el, ctx, entry, 'entry', out);
  // RSS 1.0 items name themselves with rdf:about.
  const about = el.attrsNs.get(`{${NS.rdf}}about`);
  if (about && entry.id === undefined) entry.id = about;
  if (entry.guidislink) {
    if (entry.link === undefined && typeof entry.id === 'string')
      addLink(entry, { rel: 'alternate', type: 'text/html', href: entry.id });
    else if (entry.link !== entry.id) entry.guidislink = false;
  }
  return entry;
}

function listOf(target: FeedDict, key: string): FeedDict[] {
  let list = target[key] as FeedDict[] | undefined;
  if (!list) {
    list = [];
    target[key] = list;
  }
  return list;
}

function addLink(target: FeedDict, link: FeedDict) {
  const links = listOf(target, 'links');
  links.push(link);
  if (link.rel === 'alternate' && target.link === undefined) target.link = link.href;
  if (link.rel === 'enclosure') {
    const { rel: _rel, ...enclosure } = link;
    listOf(target, 'enclosures').push(enclosure);
  }
  if (link.rel === 'license') target.license = link.href;
}

function setDate(target: FeedDict, key: string, value: string) {
  target[key] = value;
  const t = parseFeedDate(value);
  target[`${key}_parsed`] = t === undefined ? null : structTime(t);
}

function addTag(target: FeedDict, term: string | undefined, scheme?: string, label?: string) {
  const tags = listOf(target, 'tags');
  tags.push({ term: term ?? null, scheme: scheme ?? null, label: label ?? null });
}

function person(el: XmlElement, ctx: Ctx): FeedDict {
  const d: FeedDict = {};
  for (const c of elements(el)) {
    const n = normName(c).replace(/^(atom|dc)_/, '');
    const v = textOf(c).trim();
    if (n === 'name') d.name = v;
    else if (n === 'email') d.email = v;
    else if (n === 'uri' || n === 'url' || n === 'homepage')
      d.href = safeUrl(v, childCtx(ctx, c).base);
  }
  if (!elements(el).length) {
    const raw = textOf(el).trim();
    if (raw) Object.assign(d, splitAuthor(raw));
  }
  return d;
}

const EMAIL =
  /(([a-zA-Z0-9_\-.+]+)@((\[[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.)|(([a-zA-Z0-9-]+\.)+))([a-zA-Z]{2,4}|[0-9]{1,3})(\]?))(\?subject=\S+)?/;

function splitAuthor(raw: string): FeedDict {
  const d: FeedDict = {};
  let author = raw;
  const m = EMAIL.exec(author);
  if (m) {
    d.email = m[0];
    author = author
      .replace(m[0], '')
      .replace('()', '')
      .replace('<>', '')
      .replace('&lt;&gt;', '')
      .trim();
    if (author.startsWith('(')) author = author.slice(1);
    if (author.endsWith(')')) author = author.slice(0, -1);
    author = author.trim();
  }
  if (author) d.name = author;
  return d;
}

function syncAuthor(target: FeedDict, key: string) {
  const detail = target[`${key}_detail`] as FeedDict | undefined;
  if (detail) {
    if (target[key] === undefined) {
      const { name, email } = detail as { name?: string; email?: string };
      if (name && email) target[key] = `${name} (${email})`;
      else if (name) target[key] = name;
      else if (email) target[key] = email;
    }
  } else if (typeof target[key] === 'string' && target[key]) {
    target[`${key}_detail`] = splitAuthor(target[key] as string);
  }
}

/** A text construct (title, summary, content …) in feedparser's `*_detail` shape. */
function textConstruct(el: XmlElement, ctx: Ctx, defaultType: string): FeedDict {
  const c = childCtx(ctx, el);
  let type = (el.attrs.type ?? '').trim().toLowerCase();
  const mode = (el.attrs.mode ?? '').trim().toLowerCase();
  if (!type) type = defaultType;
  if (type === 'text' || type === 'plain') type = 'text/plain';
  else if (type === 'html') type = 'text/html';
  else if (type === 'xhtml') type = 'application/xhtml+xml';
  let value: string;
  const kids = elements(el);
  const atom10Binary =
    el.ns === NS.atom10 &&
    type.includes('/') &&
    !type.startsWith('text/') &&
    !/(\/|\+)xml$/.test(type);
  if (
    type === 'text/html' &&
    kids.length === 1 &&
    kids[0]!.local === 'div' &&
    kids[0]!.ns === NS.xhtml
  ) {
    value = textOf(kids[0]!);
  } else if (
    type === 'application/xhtml+xml' ||
    mode === 'xml' ||
    (kids.length > 0 && mode !== 'escaped')
  ) {
    let nodes = el.children;
    const onlyDiv =
      el.ns === NS.atom10 &&
      (el.attrs.type ?? '').trim().toLowerCase() === 'xhtml' &&
      kids.length === 1 &&
      kids[0]!.local === 'div' &&
      kids[0]!.ns === NS.xhtml &&
      el.children.every((k) => k.kind === 'element' || !k.text.trim());
    if (onlyDiv) nodes = kids[0]!.children;
    value = serializeNodes(nodes);
    if (type === 'text/plain') type = 'application/xhtml+xml';
  } else {
    value = textOf(el);
    if (mode === 'base64' || atom10Binary) {
      try {
        value = new TextDecoder().decode(
          Uint8Array.from(atob(value.replace(/\s+/g, '')), (ch) => ch.charCodeAt(0)),
        );
      } catch {
        /* leave as is */
      }
    }
  }
  value = value.trim();
  if (!ctx.atom && type === 'text/plain' && HTML_HINT.test(value)) type = 'text/html';
  if (HTML_TYPES.has(type) || type.endsWith('+xml') || type === 'text/xml') {
    if (HTML_TYPES.has(type)) value = sanitizeHtml(value, c.base);
  }
  const detail: FeedDict = { type, language: c.lang ?? null, base: c.base ?? '', value };
  if (el.attrs.src !== undefined) detail.src = safeUrl(el.attrs.src, c.base);
  return detail;
}

function setText(target: FeedDict, key: string, detail: FeedDict, overwrite = false) {
  if (target[key] !== undefined && !overwrite) return;
  target[key] = detail.value;
  target[`${key}_detail`] = detail;
}

function handleChild(
  c: XmlElement,
  ctx: Ctx,
  target: FeedDict,
  kind: 'feed' | 'entry' | 'source',
  out: ParsedFeed,
) {
  const n = normName(c);
  const cc = childCtx(ctx, c);
  const txt = () => textOf(c).trim();
  switch (n) {
    case 'title':
    case 'dc_title':
      setText(target, 'title', textConstruct(c, ctx, 'text/plain'), n === 'title');
      return;
    case 'description':
      if (kind === 'entry' && target.summary !== undefined) {
        listOf(target, 'content').push(textConstruct(c, ctx, 'text/html'));
      } else if (kind === 'feed' || kind === 'source')
        setText(target, 'subtitle', textConstruct(c, ctx, 'text/html'));
      else setText(target, 'summary', textConstruct(c, ctx, 'text/html'));
      return;
    case 'dc_description':
      if (kind === 'entry') setText(target, 'summary', textConstruct(c, ctx, 'text/plain'));
      else setText(target, 'subtitle', textConstruct(c, ctx, 'text/plain'));
      return;
    case 'subtitle':
    case 'tagline':
    case 'itunes_subtitle':
      setText(target, 'subtitle', textConstruct(c, ctx, 'text/plain'));
      return;
    case 'summary':
    case 'itunes_summary':
      if (target.summary !== undefined && n === 'summary') {
        listOf(target, 'content').push(textConstruct(c, ctx, 'text/plain'));
      } else setText(target, 'summary', textConstruct(c, ctx, 'text/plain'));
      return;
    case 'info':
      setText(target, 'info', textConstruct(c, ctx, 'text/plain'));
      return;
    case 'rights':
    case 'copyright':
    case 'dc_rights':
    case 'dcterms_rights':
      setText(target, 'rights', textConstruct(c, ctx, 'text/plain'));
      return;
    case 'content':
    case 'content_encoded':
    case 'xhtml_body':
    case 'fullitem':
    case 'body': {
      const def =
        n === 'content_encoded' || n === 'fullitem'
          ? 'text/html'
          : n === 'xhtml_body' || n === 'body'
            ? 'application/xhtml+xml'
            : 'text/plain';
      const detail =
        n === 'xhtml_body' || n === 'body'
          ? {
              type: 'application/xhtml+xml',
              language: cc.lang ?? null,
              base: cc.base ?? '',
              value: sanitizeHtml(serializeNodes(c.children).trim(), cc.base),
            }
          : textConstruct(c, ctx, def);
      listOf(target, 'content').push(detail);
      if (target.summary === undefined && n !== 'content') {
        /* RSS content:encoded does not stand in for the summary */
      }
      return;
    }
    case 'link': {
      if (c.attrs.href !== undefined || ctx.atom) {
        const link: FeedDict = { rel: (c.attrs.rel ?? 'alternate').trim() || 'alternate' };
        if (c.attrs.type !== undefined) link.type = c.attrs.type;
        else if (link.rel === 'alternate') link.type = 'text/html';
        else if (link.rel === 'self') link.type = 'application/atom+xml';
        link.href = safeUrl(c.attrs.href ?? txt(), cc.base);
        if (c.attrs.title !== undefined) link.title = c.attrs.title;
        if (c.attrs.hreflang !== undefined) link.hreflang = c.attrs.hreflang;
        if (c.attrs.length !== undefined) link.length = c.attrs.length;
        addLink(target, link);
      } else {
        const href = safeUrl(txt(), cc.base);
        if (target.link === undefined)
          addLink(target, { rel: 'alternate', type: 'text/html', href });
      }
      return;
    }
    case 'guid':
    case 'id':
    case 'dc_identifier':
      if (target.id === undefined) {
        target.id = txt();
        if (n === 'guid')
          target.guidislink =
            (c.attrs.isPermaLink ?? c.attrs.ispermalink ?? 'true').toLowerCase() !== 'false';
      }
      return;
    case 'author':
    case 'dc_creator':
    case 'dc_author':
    case 'itunes_author':
    case 'managingeditor': {
      const d = person(c, ctx);
      listOf(target, 'authors').push(d);
      if (target.author_detail !== undefined) return;
      target.author_detail = d;
      if (!elements(c).length && txt()) target.author = txt();
      return;
    }
    case 'contributor':
    case 'dc_contributor':
      listOf(target, 'contributors').push(person(c, ctx));
      return;
    case 'webmaster':
    case 'dc_publisher':
    case 'publisher': {
      if (target.publisher_detail !== undefined) return;
      target.publisher_detail = person(c, ctx);
      if (!elements(c).length && txt()) target.publisher = txt();
      return;
    }
    case 'updated':
    case 'modified':
    case 'lastbuilddate':
    case 'dc_date':
    case 'dcterms_modified':
      setDate(target, 'updated', txt());
      return;
    case 'published':
    case 'pubdate':
    case 'issued':
    case 'dcterms_issued':
      setDate(target, 'published', txt());
      return;
    case 'created':
    case 'dcterms_created':
      setDate(target, 'created', txt());
      return;
    case 'expirationdate':
      setDate(target, 'expired', txt());
      return;
    case 'dcterms_valid': {
      for (const part of txt().split(';')) {
        const [k, v] = part.split('=').map((x) => x.trim());
        if (k === 'start' && v) setDate(target, 'validity_start', v);
        if (k === 'end' && v) setDate(target, 'validity_end', v);
      }
      return;
    }
    case 'category':
    case 'dc_subject':
    case 'keywords':
    case 'tags':
      if (ctx.atom && n === 'category') addTag(target, c.attrs.term, c.attrs.scheme, c.attrs.label);
      else if (n === 'keywords' || n === 'tags')
        for (const k of txt().split(',')) addTag(target, k.trim());
      else addTag(target, txt(), c.attrs.domain);
      if (target.category === undefined)
        target.category = ((target.tags as FeedDict[])[0]!.term as string) ?? '';
      return;
    case 'enclosure': {
      const link: FeedDict = { rel: 'enclosure', href: safeUrl(c.attrs.url ?? '', cc.base) };
      if (c.attrs.length !== undefined) link.length = c.attrs.length;
      if (c.attrs.type !== undefined) link.type = c.attrs.type;
      addLink(target, link);
      return;
    }
    case 'comments':
    case 'docs':
    case 'wfw_comment':
    case 'wfw_commentrss':
      target[n] = safeUrl(txt(), cc.base);
      return;
    case 'generator': {
      const d: FeedDict = { name: txt() };
      const href = c.attrs.uri ?? c.attrs.url;
      if (href !== undefined) d.href = safeUrl(href, cc.base);
      if (c.attrs.version !== undefined) d.version = c.attrs.version;
      target.generator = txt();
      target.generator_detail = d;
      return;
    }
    case 'admin_generatoragent':
      target.generator = c.attrsNs.get(`{${NS.rdf}}resource`) ?? '';
      target.generator_detail = { href: target.generator };
      return;
    case 'admin_errorreportsto':
      target.errorreportsto = c.attrsNs.get(`{${NS.rdf}}resource`) ?? '';
      return;
    case 'ttl':
    case 'language':
    case 'dc_language':
    case 'rating':
    case 'itunes_explicit':
    case 'itunes_block': {
      const key = n === 'dc_language' ? 'language' : n;
      let v: unknown = txt();
      if (n === 'itunes_explicit')
        v =
          { yes: true, explicit: true, true: true, clean: false, no: false, false: false }[
            String(v).toLowerCase()
          ] ?? null;
      if (n === 'itunes_block') v = String(v).toLowerCase() === 'yes' ? 1 : 0;
      target[key] = v;
      return;
    }
    case 'cloud':
      target.cloud = Object.fromEntries(
        Object.entries(c.attrs).map(([k, v]) => [k.toLowerCase(), v]),
      );
      return;
    case 'cc_license':
    case 'creativecommons_license':
      addLink(target, {
        rel: 'license',
        href: safeUrl(c.attrsNs.get(`{${NS.rdf}}resource`) ?? txt(), cc.base),
      });
      return;
    case 'icon':
    case 'logo':
      target[n] = safeUrl(txt(), cc.base);
      return;
    case 'image':
    case 'itunes_image': {
      if (n === 'itunes_image' || c.attrs.href !== undefined) {
        target.image = { href: safeUrl(c.attrs.href ?? c.attrs.url ?? '', cc.base) };
        return;
      }
      const img: FeedDict = {};
      for (const k of elements(c)) {
        const kn = normName(k);
        const v = textOf(k).trim();
        if (kn === 'title') setText(img, 'title', textConstruct(k, cc, 'text/plain'));
        else if (kn === 'url' || kn === 'link') {
          img[kn] = safeUrl(v, childCtx(cc, k).base);
          if (kn === 'url') img.href = img.url;
          if (kn === 'link') addLink(img, { rel: 'alternate', type: 'text/html', href: img.link });
        } else if (kn === 'width' || kn === 'height') img[kn] = Number.parseInt(v, 10) || 0;
        else if (kn === 'description')
          setText(img, 'description', textConstruct(k, cc, 'text/plain'));
      }
      const about = c.attrsNs.get(`{${NS.rdf}}resource`) ?? c.attrsNs.get(`{${NS.rdf}}about`);
      if (kind === 'feed' && elements(c).length === 0 && about) return;
      target.image = img;
      return;
    }
    case 'textinput': {
      const ti: FeedDict = {};
      for (const k of elements(c)) {
        const kn = normName(k);
        const v = textOf(k).trim();
        if (kn === 'link') ti.link = safeUrl(v, childCtx(cc, k).base);
        else if (kn === 'title' || kn === 'description')
          setText(ti, kn, textConstruct(k, cc, 'text/plain'));
        else ti[kn] = v;
      }
      if (kind === 'feed' && elements(c).length === 0) return;
      target.textinput = ti;
      return;
    }
    case 'source': {
      if (kind !== 'entry') return;
      const src: FeedDict = {};
      if (elements(c).length) handleContainer(c, { ...cc, atom: ctx.atom }, src, 'source', out);
      else {
        src.title = txt();
        if (c.attrs.url !== undefined) src.href = safeUrl(c.attrs.url, cc.base);
      }
      target.source = src;
      return;
    }
    case 'media_thumbnail': {
      const th: FeedDict = { ...c.attrs };
      if (th.url !== undefined) th.url = safeUrl(String(th.url), cc.base);
      listOf(target, 'media_thumbnail').push(th);
      return;
    }
    case 'media_content':
      listOf(target, 'media_content').push({ ...c.attrs });
      return;
    default:
      if (n.includes('_') && !elements(c).length && target[n] === undefined) target[n] = txt();
  }
}

interface JsonFeedItem {
  id?: unknown;
  url?: unknown;
  external_url?: unknown;
  title?: unknown;
  content_html?: unknown;
  content_text?: unknown;
  summary?: unknown;
  date_published?: unknown;
  date_modified?: unknown;
  authors?: unknown;
  author?: unknown;
  tags?: unknown;
  language?: unknown;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

/** JSON Feed 1.0/1.1 (https://jsonfeed.org/version/1.1) into the same model. */
function parseJsonFeed(text: string, baseUrl: string | undefined): ParsedFeed {
  const out: ParsedFeed = { bozo: false, version: '', feed: {}, entries: [], namespaces: {} };
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    out.bozo = true;
    out.bozo_exception = `JSON Feed: ${(e as Error).message}`;
    return out;
  }
  const version = str(data.version) ?? '';
  if (!version.startsWith('https://jsonfeed.org/version/')) {
    out.bozo = true;
    out.bozo_exception = 'JSON document is not a JSON Feed';
    return out;
  }
  out.version = version.endsWith('/1.1') ? 'json11' : 'json1';
  const base = str(data.home_page_url) ?? baseUrl;
  const plain = (v: unknown) => ({
    type: 'text/plain',
    language: str(data.language) ?? null,
    base: base ?? '',
    value: str(v) ?? '',
  });
  if (str(data.title) !== undefined) setText(out.feed, 'title', plain(data.title));
  if (str(data.description) !== undefined) setText(out.feed, 'subtitle', plain(data.description));
  if (str(data.home_page_url))
    addLink(out.feed, {
      rel: 'alternate',
      type: 'text/html',
      href: safeUrl(str(data.home_page_url)!, baseUrl),
    });
  if (str(data.language)) out.feed.language = str(data.language);
  const items = Array.isArray(data.items) ? (data.items as JsonFeedItem[]) : [];
  for (const item of items) {
    if (!item || typeof item !== 'object') continue;
    const e: FeedDict = {};
    if (str(item.id) !== undefined) e.id = str(item.id);
    const url = str(item.url) ?? str(item.external_url);
    if (url) addLink(e, { rel: 'alternate', type: 'text/html', href: safeUrl(url, base) });
    if (str(item.title) !== undefined) setText(e, 'title', plain(item.title));
    if (str(item.summary) !== undefined) setText(e, 'summary', plain(item.summary));
    if (str(item.content_html) !== undefined) {
      const html = sanitizeHtml(str(item.content_html)!, url ?? base);
      listOf(e, 'content').push({
        type: 'text/html',
        language: null,
        base: url ?? base ?? '',
        value: html,
      });
      if (e.summary === undefined)
        setText(e, 'summary', { type: 'text/html', language: null, base: url ?? '', value: html });
    } else if (str(item.content_text) !== undefined) {
      listOf(e, 'content').push(plain(item.content_text));
      if (e.summary === undefined) setText(e, 'summary', plain(item.content_text));
    }
    if (str(item.date_published)) setDate(e, 'published', str(item.date_published)!);
    if (str(item.date_modified)) setDate(e, 'updated', str(item.date_modified)!);
    const authors = Array.isArray(item.authors) ? item.authors : item.author ? [item.author] : [];
    const a = authors[0] as { name?: unknown; url?: unknown } | undefined;
    if (a && str(a.name)) {
      e.author = str(a.name);
      e.author_detail = { name: str(a.name), ...(str(a.url) ? { href: str(a.url) } : {}) };
    }
    if (Array.isArray(item.tags)) for (const t of item.tags) if (str(t)) addTag(e, str(t));
    out.entries.push(e);
  }
  return out;
}
