/**
 * XSS detection after libinjection: tokenize the input as HTML from each context a value can be
 * injected into, and flag dangerous tags (script, iframe, svg…), event-handler and other
 * dangerous attributes, URL attributes whose value starts with javascript:/data:/vbscript:
 * (HTML-entity decoded), doctypes and IE conditional comments. Input is a byte string.
 * Not a sanitizer: it says "looks like XSS", it never rewrites anything.
 */
import { type Html5Context, Html5State } from './html5.js';

type AttrKind = 'none' | 'black' | 'url' | 'style' | 'indirect';

const BLACK_ATTRS: ReadonlyArray<readonly [string, AttrKind]> = [
  ['ACTION', 'url'],
  ['ATTRIBUTENAME', 'indirect'],
  ['BY', 'url'],
  ['BACKGROUND', 'url'],
  ['DATAFORMATAS', 'black'],
  ['DATASRC', 'black'],
  ['DYNSRC', 'url'],
  ['FILTER', 'style'],
  ['FORMACTION', 'url'],
  ['FOLDER', 'url'],
  ['FROM', 'url'],
  ['HANDLER', 'url'],
  ['HREF', 'url'],
  ['LOWSRC', 'url'],
  ['POSTER', 'url'],
  ['SRC', 'url'],
  ['STYLE', 'style'],
  ['TO', 'url'],
  ['VALUES', 'url'],
  ['XLINK:HREF', 'url'],
];

const BLACK_TAGS = [
  'APPLET',
  'BASE',
  'COMMENT',
  'EMBED',
  'FRAME',
  'FRAMESET',
  'HANDLER',
  'IFRAME',
  'IMPORT',
  'ISINDEX',
  'LINK',
  'LISTENER',
  'META',
  'NOSCRIPT',
  'OBJECT',
  'SCRIPT',
  'STYLE',
  'VMLFRAME',
  'XML',
  'XSS',
];

/** Case-insensitive equality of an upper-case word with `s`, ignoring NULs in `s`. */
function equalsIgnoringNul(word: string, s: string): boolean {
  let i = 0;
  for (let j = 0; j < s.length; j++) {
    let c = s[j] as string;
    if (c === '\0') continue;
    if (c >= 'a' && c <= 'z') c = c.toUpperCase();
    if (word[i] !== c) return false;
    i++;
  }
  return i === word.length;
}

function isBlackTag(s: string): boolean {
  if (s.length < 3) return false;
  for (const t of BLACK_TAGS) if (equalsIgnoringNul(t, s)) return true;
  const p = s.slice(0, 3).toUpperCase();
  return p === 'SVG' || p === 'XSL';
}

function blackAttr(s: string): AttrKind {
  if (s.length < 2) return 'none';
  if (s.length >= 5) {
    if ((s[0] === 'o' || s[0] === 'O') && (s[1] === 'n' || s[1] === 'N')) return 'black';
    const five = s.slice(0, 5);
    if (equalsIgnoringNul('XMLNS', five) || equalsIgnoringNul('XLINK', five)) return 'black';
  }
  for (const [name, kind] of BLACK_ATTRS) if (equalsIgnoringNul(name, s)) return kind;
  return 'none';
}

const HEX = (c: string | undefined) =>
  c === undefined ? -1 : '0123456789abcdef'.indexOf(c.toLowerCase());

/** Decodes one char or numeric entity at `i`; returns [code, consumed]. */
function htmlDecodeCharAt(s: string, i: number): [number, number] {
  const n = s.length - i;
  if (s[i] !== '&' || n < 2) return [s.charCodeAt(i), 1];
  if (s[i + 1] !== '#') return [38, 1];
  if (s[i + 2] === 'x' || s[i + 2] === 'X') {
    let v = HEX(s[i + 3]);
    if (v < 0) return [38, 1];
    let k = 4;
    for (; k < n; k++) {
      const c = s[i + k];
      if (c === ';') return [v, k + 1];
      const d = HEX(c);
      if (d < 0) return [v, k];
      v = v * 16 + d;
      if (v > 0x1000ff) return [38, 1];
    }
    return [v, k];
  }
  const c2 = s[i + 2];
  if (c2 === undefined || c2 < '0' || c2 > '9') return [38, 1];
  let v = Number(c2);
  let k = 3;
  for (; k < n; k++) {
    const c = s[i + k] as string;
    if (c === ';') return [v, k + 1];
    if (c < '0' || c > '9') return [v, k];
    v = v * 10 + Number(c);
    if (v > 0x1000ff) return [38, 1];
  }
  return [v, k];
}

/** Does HTML-encoded `s` start with upper-case `prefix`, ignoring leading controls and NULs? */
function htmlStartsWith(prefix: string, s: string): boolean {
  let i = 0;
  let k = 0;
  let first = true;
  while (i < s.length) {
    if (k === prefix.length) return true;
    const [code, used] = htmlDecodeCharAt(s, i);
    i += used;
    if (first && code <= 32) continue;
    first = false;
    if (code === 0 || code === 10) continue;
    const cb = code >= 97 && code <= 122 ? code - 32 : code;
    if (prefix.charCodeAt(k) !== (cb & 0xff)) return false;
    k++;
  }
  return k === prefix.length;
}

function isBlackUrl(value: string): boolean {
  let i = 0;
  while (i < value.length) {
    const c = value.charCodeAt(i);
    if (c > 32 && c < 127) break;
    i++;
  }
  const s = value.slice(i);
  return ['DATA', 'VIEW-SOURCE', 'JAVA', 'VBSCRIPT'].some((p) => htmlStartsWith(p, s));
}

/** libinjection_is_xss for one starting context. */
export function isXssInContext(s: string, context: Html5Context): boolean {
  const h = new Html5State(s, context);
  let attr: AttrKind = 'none';
  for (let guard = 0; guard <= s.length + 2 && h.next(); guard++) {
    if (h.type !== 'ATTR_VALUE') attr = 'none';
    switch (h.type) {
      case 'DOCTYPE':
        return true;
      case 'TAG_NAME_OPEN':
        if (isBlackTag(h.value)) return true;
        break;
      case 'ATTR_NAME':
        attr = blackAttr(h.value);
        break;
      case 'ATTR_VALUE': {
        const v = h.value;
        if (attr === 'black' || attr === 'style') return true;
        if (attr === 'url' && isBlackUrl(v)) return true;
        if (attr === 'indirect' && blackAttr(v) !== 'none') return true;
        attr = 'none';
        break;
      }
      case 'TAG_COMMENT': {
        const v = h.value;
        if (v.includes('`')) return true; // IE ends tags with a backtick
        if (v.length > 3) {
          const p = v.slice(0, 3).toUpperCase();
          if (v[0] === '[' && p === '[IF') return true; // IE conditional comment
          if (p === 'XML') return true;
        }
        if (v.length > 5) {
          const six = v.slice(0, 6);
          if (equalsIgnoringNul('IMPORT', six) || equalsIgnoringNul('ENTITY', six)) return true;
        }
        break;
      }
      default:
        break;
    }
  }
  return false;
}

const CONTEXTS: Html5Context[] = [
  'DATA_STATE',
  'VALUE_NO_QUOTE',
  'VALUE_SINGLE_QUOTE',
  'VALUE_DOUBLE_QUOTE',
  'VALUE_BACK_QUOTE',
];

/**
 * @detectXSS: true when the byte string looks like XSS in any injection context.
 * @example detectXss('<script>alert(1)</script>') // true
 */
export function detectXss(s: string): boolean {
  return CONTEXTS.some((c) => isXssInContext(s, c));
}
