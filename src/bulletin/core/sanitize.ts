/**
 * The HTML sanitizer for everything that comes from a feed or a web page: an allow-list of
 * elements, attributes, CSS properties and URL schemes over linkedom's HTML parser, with our own
 * serializer (so the output never depends on the parser's quirks). The lists follow feedparser's
 * long-tested ones. Relative URLs are made absolute against a base; unsafe ones become ''.
 * Not a general HTML pretty-printer, and no SVG/MathML (they are dropped, text kept).
 */
import { parseHTML } from 'linkedom';

const ACCEPTABLE_ELEMENTS = new Set(
  `a abbr acronym address area article aside audio b big blockquote br button canvas caption
center cite code col colgroup command datagrid datalist dd del details dfn dialog dir div dl dt
em event-source fieldset figcaption figure font footer form h1 h2 h3 h4 h5 h6 header hr i img
input ins kbd keygen label legend li m map menu meter multicol nav nextid noscript ol optgroup
option output p pre progress q s samp section select small sound source spacer span strike
strong sub sup table tbody td textarea tfoot th thead time tr tt u ul var video`.split(/\s+/),
);

/** Elements whose whole content is dropped, not just the tags. */
const DROP_WITH_CONTENT = new Set([
  'script',
  'applet',
  'style',
  'iframe',
  'object',
  'embed',
  'frame',
  'frameset',
  'noembed',
  'noframes',
  'template',
  'title',
  'head',
  'math',
  'svg',
  'xml',
  'base',
  'meta',
  'link',
]);

const ACCEPTABLE_ATTRIBUTES = new Set(
  `abbr accept accept-charset accesskey action align alt autocomplete autofocus axis background
balance bgcolor bgproperties border bordercolor bordercolordark bordercolorlight bottompadding
cellpadding cellspacing ch challenge char charoff charset checked choff cite class clear color
cols colspan compact contenteditable controls coords data datafld datapagesize datasrc datetime
default delay dir disabled draggable dynsrc enctype end face for form frame galleryimg gutter
headers height hidefocus hidden high href hreflang hspace icon id inputmode ismap keytype label
lang leftspacing list longdesc loop loopcount loopend loopstart low lowsrc max maxlength media
method min multiple name nohref noshade nowrap open optimum pattern ping point-size poster pqg
preload prompt radiogroup readonly rel repeat-max repeat-min replace required rev rightspacing
rows rowspan rules scope selected shape size span src start step style summary suppress tabindex
target template title toppadding type unselectable urn usemap valign value variable volume vrml
vspace width wrap xml:lang`.split(/\s+/),
);

/** Attributes whose value is a URL (resolved, and blanked when the scheme is not allowed). */
const URI_ATTRIBUTES = new Set([
  'action',
  'background',
  'cite',
  'data',
  'datasrc',
  'dynsrc',
  'href',
  'longdesc',
  'lowsrc',
  'poster',
  'src',
  'usemap',
  'icon',
  'ping',
]);

const ACCEPTABLE_CSS_PROPERTIES = new Set(
  `azimuth background-color border-bottom-color border-collapse border-color border-left-color
border-right-color border-top-color clear color cursor direction display elevation float font
font-family font-size font-style font-variant font-weight height letter-spacing line-height
overflow pause pause-after pause-before pitch pitch-range richness speak speak-header
speak-numeral speak-punctuation speech-rate stress text-align text-decoration text-indent
unicode-bidi vertical-align voice-family volume white-space width`.split(/\s+/),
);

const ACCEPTABLE_CSS_KEYWORDS = new Set(
  `auto aqua black block blue bold both bottom brown center collapse dashed dotted fuchsia gray
green !important italic left lime maroon medium none navy normal nowrap olive pointer purple red
right solid silver teal top transparent underline white yellow`.split(/\s+/),
);
const VALID_CSS_VALUE =
  /^(#[0-9a-f]+|rgb\(\d+%?,\d*%?,?\d*%?\)?|\d{0,2}\.?\d{0,2}(cm|em|ex|in|mm|pc|pt|px|%|,|\))?)$/;

const SAFE_SCHEMES = new Set(
  `http https ftp ftps mailto news nntp irc ircs feed sftp ssh svn tag urn xmpp sip sips tel
magnet gopher webcal callto git aim rtsp rtmp mms`.split(/\s+/),
);

const VOID_ELEMENTS = new Set([
  'area',
  'br',
  'col',
  'command',
  'hr',
  'img',
  'input',
  'keygen',
  'source',
  'spacer',
  'nextid',
]);

/**
 * Make a URL absolute against `base` and return it, or '' when its scheme is not safe.
 * @example safeUrl('/a', 'http://example.com/x/') === 'http://example.com/a'
 */
export function safeUrl(url: string, base?: string): string {
  const trimmed = url.trim();
  // Browsers ignore control characters and whitespace inside schemes: so do attackers.
  const squashed = trimmed.replace(/[\u0000-\u0020\u007f-\u009f]/g, '');
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(squashed);
  if (scheme) {
    if (!SAFE_SCHEMES.has(scheme[1]!.toLowerCase())) return '';
    return trimmed;
  }
  if (!base) return trimmed;
  try {
    const abs = new URL(trimmed, base).toString();
    const s = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(abs);
    if (s && !SAFE_SCHEMES.has(s[1]!.toLowerCase())) return '';
    return trimmed === '' ? base : abs;
  } catch {
    return trimmed;
  }
}

/** Keep only harmless CSS declarations (feedparser's gauntlet); '' when in doubt. */
export function sanitizeStyle(style: string): string {
  let s = style.replace(/url\s*\(\s*[^\s)]+?\s*\)\s*/g, ' ');
  if (!/^([:,;#%.\sa-zA-Z0-9!]|\w-\w|'[\s\w]+'|"[\s\w]+"|\([\d,\s]+\))*$/.test(s)) return '';
  if (s.replace(/\s*[-\w]+\s*:\s*[^:;]*;?/g, '').trim()) return '';
  const clean: string[] = [];
  for (const m of s.matchAll(/([-\w]+)\s*:\s*([^:;]*)/g)) {
    const prop = m[1]!;
    const value = m[2]!;
    if (!value) continue;
    if (ACCEPTABLE_CSS_PROPERTIES.has(prop.toLowerCase())) clean.push(`${prop}: ${value};`);
    else if (
      ['background', 'border', 'margin', 'padding'].includes(prop.split('-')[0]!.toLowerCase())
    ) {
      const ok = value
        .split(/\s+/)
        .filter(Boolean)
        .every((k) => ACCEPTABLE_CSS_KEYWORDS.has(k) || VALID_CSS_VALUE.test(k));
      if (ok) clean.push(`${prop}: ${value};`);
    }
  }
  s = clean.join(' ');
  return s;
}

interface DomNode {
  nodeType: number;
  nodeName: string;
  childNodes: ArrayLike<DomNode>;
  textContent: string | null;
  attributes?: ArrayLike<{ name: string; value: string }>;
}

/**
 * Sanitize an HTML fragment: returns HTML with only allow-listed markup.
 * @example sanitizeHtml('<p onclick="x()">hi<script>bad()</script></p>') === '<p>hi</p>'
 */
export function sanitizeHtml(html: string, base?: string): string {
  if (!/[<&]/.test(html)) return html;
  const { document } = parseHTML(`<!DOCTYPE html><html><head></head><body>${html}</body></html>`);
  const body = document.body as unknown as DomNode | null;
  if (!body) return '';
  // Anything the parser moved into <head> is metadata, never content: ignore it.
  return serialize(body.childNodes, base).trim() === '' && html.trim() !== ''
    ? serialize(body.childNodes, base)
    : serialize(body.childNodes, base);
}

function serialize(nodes: ArrayLike<DomNode>, base: string | undefined): string {
  let out = '';
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i]!;
    if (node.nodeType === 3) {
      out += escapeText(node.textContent ?? '');
      continue;
    }
    if (node.nodeType !== 1) continue; // comments, processing instructions: dropped
    const tag = node.nodeName.toLowerCase();
    if (DROP_WITH_CONTENT.has(tag)) continue;
    if (!ACCEPTABLE_ELEMENTS.has(tag)) {
      out += serialize(node.childNodes, base);
      continue;
    }
    out += `<${tag}`;
    const attrs = Array.from(node.attributes ?? []).sort((x, y) =>
      x.name < y.name ? -1 : x.name > y.name ? 1 : 0,
    );
    for (const { name, value } of attrs) {
      const lname = name.toLowerCase();
      if (!ACCEPTABLE_ATTRIBUTES.has(lname)) continue;
      let v = value;
      if (lname === 'style') {
        v = sanitizeStyle(v);
      } else if (URI_ATTRIBUTES.has(lname)) {
        v = safeUrl(v, base);
      }
      out += ` ${lname}="${escapeAttr(v)}"`;
    }
    if (VOID_ELEMENTS.has(tag)) {
      out += ' />';
      continue;
    }
    out += `>${serialize(node.childNodes, base)}</${tag}>`;
  }
  return out;
}

function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function escapeAttr(s: string): string {
  return escapeText(s).replace(/"/g, '&quot;');
}

/**
 * Whether sanitized HTML is safe to show: no scripting elements, no event handlers, no
 * `javascript:`/`vbscript:`/`data:` URLs, no CSS expressions or bindings. Used by the tests and
 * as a last check before publishing.
 * @example isSafeHtml('<a href="javascript:x">') === false
 */
export function unsafeReasons(html: string): string[] {
  const reasons: string[] = [];
  const { document } = parseHTML(`<!DOCTYPE html><html><head></head><body>${html}</body></html>`);
  const all = document.querySelectorAll('*') as unknown as ArrayLike<{
    nodeName: string;
    attributes: ArrayLike<{ name: string; value: string }>;
  }>;
  for (let i = 0; i < all.length; i++) {
    const el = all[i]!;
    const tag = el.nodeName.toLowerCase();
    if (
      [
        'script',
        'iframe',
        'object',
        'embed',
        'applet',
        'frame',
        'base',
        'meta',
        'link',
        'style',
      ].includes(tag)
    ) {
      if (
        !(tag === 'meta' || tag === 'link' || tag === 'style') ||
        (el as unknown as { parentNode: unknown }).parentNode !== document.head
      )
        reasons.push(`<${tag}>`);
    }
    for (let a = 0; a < el.attributes.length; a++) {
      const { name, value } = el.attributes[a]!;
      const squashed = value.replace(/[\u0000-\u0020\u007f-\u009f]/g, '').toLowerCase();
      if (/^on/i.test(name)) reasons.push(`event handler ${name}`);
      if (/^(javascript|vbscript|livescript|data):/.test(squashed))
        reasons.push(`${name}=${squashed.slice(0, 20)}`);
      if (
        name.toLowerCase() === 'style' &&
        /expression|url\(|behavior|binding|javascript/.test(squashed)
      )
        reasons.push(`style ${squashed.slice(0, 30)}`);
    }
  }
  return reasons;
}
