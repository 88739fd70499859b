/**
 * A small, forgiving XML tokenizer and tree builder for feeds. It keeps what a feed reader
 * needs that general parsers drop: the raw markup of each element (for Atom `xhtml` content),
 * the namespace URI of every name, `xml:base`/`xml:lang`, and a `bozo` flag for documents that
 * are not well-formed (parsing goes on, like feedparser's loose mode).
 * Not a validating parser; no external entities are ever fetched (DTDs are read only for
 * internal `<!ENTITY name "text">` declarations, with a size cap against entity bombs).
 */

export interface XmlElement {
  kind: 'element';
  /** Qualified name as written, e.g. `dc:creator`. */
  qname: string;
  /** Local name, e.g. `creator`. */
  local: string;
  /** Namespace URI, '' when none. */
  ns: string;
  /** Attributes keyed by qualified name as written. */
  attrs: Record<string, string>;
  /** Attributes keyed by `{ns}local` (ns '' for unprefixed). */
  attrsNs: Map<string, string>;
  children: XmlNode[];
  /** Raw source slice of the element's content (between the start and end tags). */
  innerRaw: string;
  /** In-scope namespace declarations (prefix → uri) at this element. */
  nsScope: Map<string, string>;
}

export interface XmlText {
  kind: 'text';
  text: string;
  cdata: boolean;
}

export type XmlNode = XmlElement | XmlText;

export interface XmlDocument {
  root: XmlElement | undefined;
  bozo: boolean;
  bozoReason: string | undefined;
  /** Encoding named in the XML declaration, if any. */
  declaredEncoding: string | undefined;
}

const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const MAX_ENTITY_EXPANSION = 1_000_000;

/** Decode character and entity references in text. Unknown entities are kept as written. */
export function decodeEntities(
  s: string,
  entities: Record<string, string> = PREDEFINED,
  onUnknown?: (name: string) => void,
): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z_][\w.-]*);/g, (m, ref: string) => {
    if (ref[0] === '#') {
      const cp =
        ref[1] === 'x' || ref[1] === 'X' ? Number.parseInt(ref.slice(2), 16) : Number(ref.slice(1));
      if (!Number.isFinite(cp) || cp <= 0 || cp > 0x10ffff) return m;
      return String.fromCodePoint(cp);
    }
    const v = entities[ref];
    if (v !== undefined) return v;
    onUnknown?.(ref);
    return m;
  });
}

/**
 * Parse an XML document into a tree.
 * @example const doc = parseXml('<rss><channel><title>x</title></channel></rss>');
 */
export function parseXml(src: string): XmlDocument {
  let bozo = false;
  let bozoReason: string | undefined;
  const flag = (why: string) => {
    if (!bozo) {
      bozo = true;
      bozoReason = why;
    }
  };
  const entities: Record<string, string> = { ...PREDEFINED };
  let declaredEncoding: string | undefined;
  const top: XmlElement = mkElement('#document', '#document', '', {}, new Map(), new Map());
  const stack: { el: XmlElement; contentStart: number }[] = [{ el: top, contentStart: 0 }];
  let i = 0;
  let expanded = 0;
  const n = src.length;
  if (src.charCodeAt(0) === 0xfeff) i = 1;
  let sawRoot = false;

  const pushText = (text: string, cdata: boolean) => {
    if (!text) return;
    const parent = stack[stack.length - 1]!.el;
    if (parent === top) {
      if (text.trim()) flag('text outside the root element');
      return;
    }
    const last = parent.children[parent.children.length - 1];
    if (last && last.kind === 'text' && !cdata && !last.cdata) {
      last.text += text;
      return;
    }
    parent.children.push({ kind: 'text', text, cdata });
  };

  while (i < n) {
    const lt = src.indexOf('<', i);
    if (lt < 0) {
      pushText(decodeText(src.slice(i)), false);
      break;
    }
    if (lt > i) pushText(decodeText(src.slice(i, lt)), false);
    i = lt;
    if (src.startsWith('<!--', i)) {
      const end = src.indexOf('-->', i + 4);
      if (end < 0) {
        flag('unterminated comment');
        i = n;
        break;
      }
      i = end + 3;
      continue;
    }
    if (src.startsWith('<![CDATA[', i)) {
      const end = src.indexOf(']]>', i + 9);
      if (end < 0) {
        flag('unterminated CDATA section');
        pushText(src.slice(i + 9), true);
        i = n;
        break;
      }
      pushText(src.slice(i + 9, end), true);
      i = end + 3;
      continue;
    }
    if (src.startsWith('<?', i)) {
      const end = src.indexOf('?>', i + 2);
      const body = end < 0 ? src.slice(i + 2) : src.slice(i + 2, end);
      if (body.startsWith('xml ') || body.startsWith('xml\t') || body.startsWith('xml\n')) {
        const m = /encoding\s*=\s*["']([^"']+)["']/.exec(body);
        if (m) declaredEncoding = m[1];
      }
      i = end < 0 ? n : end + 2;
      continue;
    }
    if (src.startsWith('<!DOCTYPE', i) || src.startsWith('<!doctype', i)) {
      // Find the end, honouring an internal subset in brackets.
      let j = i + 9;
      let depth = 0;
      let subsetStart = -1;
      let subsetEnd = -1;
      while (j < n) {
        const c = src[j];
        if (c === '[') {
          if (depth === 0) subsetStart = j + 1;
          depth++;
        } else if (c === ']') {
          depth--;
          if (depth === 0) subsetEnd = j;
        } else if (c === '>' && depth <= 0) break;
        else if (c === '"' || c === "'") {
          const q = src.indexOf(c, j + 1);
          if (q < 0) break;
          j = q;
        }
        j++;
      }
      if (subsetStart >= 0 && subsetEnd > subsetStart) {
        const subset = src.slice(subsetStart, subsetEnd);
        for (const m of subset.matchAll(
          /<!ENTITY\s+([A-Za-z_][\w.-]*)\s+(?:"([^"]*)"|'([^']*)')\s*>/g,
        )) {
          const value = decodeEntities(m[2] ?? m[3] ?? '', entities);
          expanded += value.length;
          if (expanded > MAX_ENTITY_EXPANSION) {
            flag('entity expansion limit');
            break;
          }
          if (!(m[1]! in entities)) entities[m[1]!] = value;
        }
      }
      i = j + 1;
      continue;
    }
    if (src.startsWith('<!', i)) {
      const end = src.indexOf('>', i);
      i = end < 0 ? n : end + 1;
      continue;
    }
    if (src[i + 1] === '/') {
      const end = src.indexOf('>', i);
      if (end < 0) {
        flag('unterminated end tag');
        i = n;
        break;
      }
      const qname = src.slice(i + 2, end).trim();
      // Pop to the matching element; a mismatch makes the document bozo.
      let k = stack.length - 1;
      while (k > 0 && stack[k]!.el.qname !== qname) k--;
      if (k === 0) {
        flag(`unexpected end tag </${qname}>`);
      } else {
        if (k !== stack.length - 1) flag(`mismatched end tag </${qname}>`);
        while (stack.length - 1 > k) closeTop(lt);
        closeTop(lt);
      }
      i = end + 1;
      continue;
    }
    // Start tag.
    const tagEnd = findTagEnd(src, i + 1);
    if (tagEnd < 0) {
      flag('unterminated start tag');
      pushText(decodeText(src.slice(i)), false);
      i = n;
      break;
    }
    let inner = src.slice(i + 1, tagEnd);
    const selfClosing = inner.endsWith('/');
    if (selfClosing) inner = inner.slice(0, -1);
    const nm = /^([^\s/>]+)/.exec(inner);
    if (!nm) {
      flag('bad start tag');
      pushText('<', false);
      i++;
      continue;
    }
    const qname = nm[1]!;
    const rawAttrs: Record<string, string> = {};
    for (const m of inner
      .slice(qname.length)
      .matchAll(/([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
      rawAttrs[m[1]!] = decodeText(m[2] ?? m[3] ?? '').replace(/[\t\n\r]/g, ' ');
    }
    const parentFrame = stack[stack.length - 1]!;
    if (parentFrame.el === top) {
      if (sawRoot) flag('more than one root element');
      sawRoot = true;
    }
    const scope = new Map(parentFrame.el.nsScope);
    for (const [k, v] of Object.entries(rawAttrs)) {
      if (k === 'xmlns') scope.set('', v);
      else if (k.startsWith('xmlns:')) scope.set(k.slice(6), v);
    }
    scope.set('xml', XML_NS);
    const [prefix, local] = splitQName(qname);
    let ns = scope.get(prefix) ?? '';
    if (prefix && !scope.has(prefix)) {
      flag(`undeclared namespace prefix ${prefix}`);
      ns = prefix;
    }
    const attrsNs = new Map<string, string>();
    for (const [k, v] of Object.entries(rawAttrs)) {
      if (k === 'xmlns' || k.startsWith('xmlns:')) continue;
      const [ap, al] = splitQName(k);
      const ans = ap ? (scope.get(ap) ?? ap) : '';
      attrsNs.set(`{${ans}}${al}`, v);
    }
    const el = mkElement(qname, local, ns, rawAttrs, attrsNs, scope);
    parentFrame.el.children.push(el);
    i = tagEnd + 1;
    if (!selfClosing) stack.push({ el, contentStart: i });
  }
  if (stack.length > 1) {
    flag('document ended inside an element');
    while (stack.length > 1) closeTop(n);
  }
  const root = top.children.find((c): c is XmlElement => c.kind === 'element');
  if (!root) flag('no root element');
  return { root, bozo, bozoReason, declaredEncoding };

  function closeTop(at: number) {
    const frame = stack.pop()!;
    frame.el.innerRaw = src.slice(frame.contentStart, at);
  }

  function decodeText(s: string): string {
    return decodeEntities(s, entities, (name) => flag(`undefined entity &${name};`));
  }
}

function findTagEnd(src: string, from: number): number {
  let q = '';
  for (let j = from; j < src.length; j++) {
    const c = src[j];
    if (q) {
      if (c === q) q = '';
    } else if (c === '"' || c === "'") q = c;
    else if (c === '>') return j;
    else if (c === '<') return -1;
  }
  return -1;
}

function splitQName(q: string): [string, string] {
  const c = q.indexOf(':');
  return c < 0 ? ['', q] : [q.slice(0, c), q.slice(c + 1)];
}

function mkElement(
  qname: string,
  local: string,
  ns: string,
  attrs: Record<string, string>,
  attrsNs: Map<string, string>,
  nsScope: Map<string, string>,
): XmlElement {
  return { kind: 'element', qname, local, ns, attrs, attrsNs, children: [], innerRaw: '', nsScope };
}

/** The concatenated text of an element and its descendants. */
export function textOf(el: XmlElement): string {
  let out = '';
  for (const c of el.children) out += c.kind === 'text' ? c.text : textOf(c);
  return out;
}

/** Serialize nodes back to XML text (for xhtml content), without namespace declarations. */
export function serializeNodes(nodes: XmlNode[]): string {
  let out = '';
  for (const c of nodes) {
    if (c.kind === 'text') out += escapeXml(c.text);
    else {
      out += `<${c.local}`;
      for (const [k, v] of Object.entries(c.attrs)) {
        if (k === 'xmlns' || k.startsWith('xmlns:')) continue;
        out += ` ${k}="${escapeXml(v).replace(/"/g, '&quot;')}"`;
      }
      out += c.children.length ? `>${serializeNodes(c.children)}</${c.local}>` : ' />';
    }
  }
  return out;
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** An attribute by local name in no namespace or the xml namespace (`base`, `lang`). */
export function xmlAttr(el: XmlElement, local: 'base' | 'lang'): string | undefined {
  return el.attrsNs.get(`{${XML_NS}}${local}`);
}
