/**
 * A Recog-compatible fingerprint engine: loads Recog XML databases, compiles their Ruby regexes
 * to JavaScript, and matches banners with a trigram prefilter so a banner is tried only against
 * fingerprints whose required literal text it contains (not a linear scan of every regex).
 * Pure: XML text comes in as strings. Not a scanner: the grabbers decide which database a
 * banner is matched against (`http_header.server`, `rtsp_header.server`, `ssh.banner` …).
 */
import { type TranslatedRegex, translateRubyRegex } from './ruby-regex.js';

export interface RecogParam {
  pos: number;
  name: string;
  value?: string;
}

export interface RecogExample {
  text: string;
  /** Expected params (attributes not starting with `_`). */
  expected: Record<string, string>;
}

export interface Fingerprint {
  db: string;
  /** Index in its database (first match wins, as in Recog). */
  order: number;
  pattern: string;
  description: string;
  regex: RegExp | undefined;
  /** Why the pattern could not be compiled, when it could not. */
  compileError?: string;
  /** Line of the <fingerprint> element in its XML file. */
  line?: number;
  translated: TranslatedRegex | undefined;
  params: RecogParam[];
  examples: RecogExample[];
}

export interface FingerprintDb {
  /** File stem, e.g. `rtsp_servers`. */
  name: string;
  /** Recog's `matches` attribute, e.g. `rtsp_header.server`. */
  matches: string | undefined;
  protocol: string | undefined;
  fingerprints: Fingerprint[];
}

export type MatchParams = Record<string, string>;

export interface MatchResult {
  db: string;
  description: string;
  params: MatchParams;
}

type XmlNode = Record<string, unknown>;

const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** XML character and entity references, decoded in one pass. */
function decodeXml(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|lt|gt|amp|quot|apos);/g, (_, e: string) =>
    e[0] === '#'
      ? String.fromCodePoint(e[1] === 'x' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1)))
      : NAMED[e]!,
  );
}

const REPEATED = new Set(['fingerprint', 'example', 'param']);

/** Source line of each <fingerprint> element read (kept off the node's own properties). */
const LINES = new WeakMap<object, number>();

function attach(parent: XmlNode, name: string, value: unknown): void {
  if (!REPEATED.has(name)) {
    parent[name] = value;
    return;
  }
  const list = (parent[name] as unknown[] | undefined) ?? [];
  list.push(value);
  parent[name] = list;
}

/**
 * A small reader for Recog's regular XML (elements, attributes, text, comments, CDATA): a
 * general XML parser spent seconds on the 4,600 fingerprints; this takes milliseconds.
 * Produces the shape parseRecogXml reads: attributes as properties, text as `#text`.
 */
export function readRecogXml(xml: string): XmlNode {
  const root: XmlNode = {};
  const stack: { name: string; node: XmlNode; text: string }[] = [
    { name: '#root', node: root, text: '' },
  ];
  const tag =
    /<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!\[CDATA\[([\s\S]*?)\]\]>|<!DOCTYPE[^>]*>|<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/g;
  const attr = /([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
  let last = 0;
  // line of the current tag, counted incrementally (errors and fingerprints name their line)
  let line = 1;
  let counted = 0;
  const lineAt = (pos: number) => {
    for (let i = xml.indexOf('\n', counted); i >= 0 && i < pos; i = xml.indexOf('\n', i + 1))
      line++;
    counted = pos;
    return line;
  };
  for (let m = tag.exec(xml); m; m = tag.exec(xml)) {
    const top = stack[stack.length - 1]!;
    top.text += decodeXml(xml.slice(last, m.index));
    last = tag.lastIndex;
    if (m[1] !== undefined) {
      top.text += m[1];
      continue;
    }
    const name = m[3];
    if (!name) continue;
    if (m[2] === '/') {
      const done = stack.pop()!;
      if (done.name !== name)
        throw new Error(`line ${lineAt(m.index)}: mismatched </${name}> (open <${done.name}>)`);
      if (done.text !== '') done.node['#text'] = done.text;
      const parent = stack[stack.length - 1]!.node;
      const value =
        Object.keys(done.node).length === 1 && '#text' in done.node ? done.text : done.node;
      attach(parent, name, value);
      continue;
    }
    const node: XmlNode = {};
    for (const a of (m[4] ?? '').matchAll(attr)) node[a[1]!] = decodeXml(a[2] ?? a[3] ?? '');
    if (name === 'fingerprint') LINES.set(node, lineAt(m.index));
    if (m[5] === '/') {
      attach(top.node, name, node);
    } else stack.push({ name, node, text: '' });
  }
  if (stack.length !== 1)
    throw new Error(`line ${lineAt(xml.length)}: unclosed <${stack[stack.length - 1]!.name}>`);
  return root;
}

function decodeExample(node: unknown, decodeBase64: (s: string) => string): RecogExample {
  if (typeof node === 'string') return { text: node, expected: {} };
  const n = node as XmlNode;
  let text = typeof n['#text'] === 'string' ? (n['#text'] as string) : '';
  const expected: Record<string, string> = {};
  for (const [k, v] of Object.entries(n)) {
    if (k === '#text' || k.startsWith('_')) continue;
    expected[k] = String(v);
  }
  if (n._encoding === 'base64') text = decodeBase64(text.replace(/\s+/g, ''));
  return { text, expected };
}

/**
 * Parse one Recog XML database.
 * @example const db = parseRecogXml('rtsp_servers', xmlText, atobLatin1)
 */
export function parseRecogXml(
  name: string,
  xml: string,
  decodeBase64: (s: string) => string,
): FingerprintDb {
  const doc = readRecogXml(xml);
  const root = (doc.fingerprints ?? {}) as XmlNode;
  const list = (root.fingerprint ?? []) as XmlNode[];
  const fingerprints = list.map((fp, order): Fingerprint => {
    const pattern = String(fp.pattern ?? '');
    const flagText = String(fp.flags ?? '');
    let translated: TranslatedRegex | undefined;
    let regex: RegExp | undefined;
    let compileError: string | undefined;
    try {
      translated = translateRubyRegex(pattern, {
        icase: flagText.includes('REG_ICASE'),
        dotall: flagText.includes('REG_DOT_NEWLINE') || flagText.includes('REG_MULTILINE'),
      });
      regex = new RegExp(translated.source, translated.flags);
    } catch (err) {
      compileError = err instanceof Error ? err.message : String(err);
    }
    const desc = fp.description;
    const description =
      typeof desc === 'string'
        ? desc
        : Array.isArray(desc)
          ? String(desc[0])
          : String((desc as XmlNode | undefined)?.['#text'] ?? '');
    const params = ((fp.param ?? []) as XmlNode[]).map((p) => {
      const param: RecogParam = { pos: Number(p.pos ?? 0), name: String(p.name) };
      if (p.value !== undefined) param.value = String(p.value);
      return param;
    });
    const examples = ((fp.example ?? []) as unknown[]).map((e) => decodeExample(e, decodeBase64));
    const f: Fingerprint = {
      db: name,
      order,
      pattern,
      description: description.trim(),
      regex,
      translated,
      params,
      examples,
    };
    if (compileError !== undefined) f.compileError = compileError;
    const line = LINES.get(fp);
    if (line !== undefined) f.line = line;
    return f;
  });
  return {
    name,
    matches: root.matches === undefined ? undefined : String(root.matches),
    protocol: root.protocol === undefined ? undefined : String(root.protocol),
    fingerprints,
  };
}

/** Apply one fingerprint; undefined when it does not match. */
export function applyFingerprint(fp: Fingerprint, text: string): MatchParams | undefined {
  if (!fp.regex) return undefined;
  const m = fp.regex.exec(text);
  if (!m) return undefined;
  const params: MatchParams = {};
  for (const p of fp.params) {
    if (p.pos === 0) {
      if (p.value !== undefined) params[p.name] = p.value;
    } else {
      const v = m[p.pos];
      if (v !== undefined) params[p.name] = v;
    }
  }
  // Recog interpolates {param} references in literal values (CPEs with the version).
  for (const p of fp.params) {
    if (p.pos !== 0 || p.value === undefined || !p.value.includes('{')) continue;
    let missing = false;
    const v = p.value.replace(/\{([\w.]+)\}/g, (_, k: string) => {
      const sub = params[k];
      if (sub === undefined) {
        missing = true;
        return '';
      }
      return sub;
    });
    if (missing) delete params[p.name];
    else params[p.name] = v;
  }
  return params;
}

const MIN_KEY = 3;

interface IndexedDb {
  db: FingerprintDb;
  /** trigram hash → fingerprints whose chosen key contains that trigram. */
  byTrigram: Map<number, Fingerprint[]>;
  /** Fingerprints with no usable required literal: always tried. */
  always: Fingerprint[];
  /** Required literal (lower case) per fingerprint. */
  literal: Map<Fingerprint, string>;
  /** Scratch marks for de-duplicating candidates without allocating a Set per banner. */
  mark: Int32Array;
  generation: number;
}

/** The engine: databases indexed for prefiltered matching, by file stem and by `matches` key. */
export class RecogEngine {
  private readonly dbs = new Map<string, IndexedDb>();

  constructor(databases: readonly FingerprintDb[]) {
    for (const db of databases) {
      const idx = buildIndex(db);
      this.dbs.set(db.name, idx);
      if (db.matches && !this.dbs.has(db.matches)) this.dbs.set(db.matches, idx);
    }
  }

  /** Names under which databases can be asked for. */
  names(): string[] {
    return [...this.dbs.keys()];
  }

  databases(): FingerprintDb[] {
    return [...new Set([...this.dbs.values()].map((d) => d.db))];
  }

  has(db: string): boolean {
    return this.dbs.has(db);
  }

  /** Candidates after the prefilter, in database order. */
  candidates(dbName: string, text: string): Fingerprint[] {
    const idx = this.dbs.get(dbName);
    if (!idx) return [];
    const lower = text.toLowerCase();
    const orders: number[] = [];
    const mark = idx.mark;
    idx.generation = (idx.generation + 1) | 0;
    if (idx.generation === 0) {
      mark.fill(0);
      idx.generation = 1;
    }
    const gen = idx.generation;
    const byTrigram = idx.byTrigram;
    let h = 0;
    for (let i = 0; i < lower.length; i++) {
      // rolling hash of the trigram ending at i; collisions only add candidates
      h = ((h << 10) ^ lower.charCodeAt(i)) & 0x3fffffff;
      if (i + 1 < MIN_KEY) continue;
      const list = byTrigram.get(h);
      if (!list) continue;
      for (const fp of list) {
        if (mark[fp.order] === gen) continue;
        mark[fp.order] = gen;
        if (lower.includes(idx.literal.get(fp)!)) orders.push(fp.order);
      }
    }
    if (orders.length === 0) return idx.always;
    for (const fp of idx.always) orders.push(fp.order);
    orders.sort((a, b) => a - b);
    const fps = idx.db.fingerprints;
    return orders.map((o) => fps[o]!);
  }

  /**
   * First matching fingerprint of a database, as Recog does.
   * @example engine.match('rtsp_header.server', 'Dahua Rtsp Server')?.params['hw.vendor'] === 'Dahua'
   */
  match(dbName: string, text: string): MatchResult | undefined {
    for (const fp of this.candidates(dbName, text)) {
      const params = applyFingerprint(fp, text);
      if (params) return { db: fp.db, description: fp.description, params };
    }
    return undefined;
  }

  /** The same answer by trying every regex in order: the baseline the prefilter must equal. */
  matchLinear(dbName: string, text: string): MatchResult | undefined {
    const idx = this.dbs.get(dbName);
    if (!idx) return undefined;
    for (const fp of idx.db.fingerprints) {
      const params = applyFingerprint(fp, text);
      if (params) return { db: fp.db, description: fp.description, params };
    }
    return undefined;
  }
}

/** The hash `candidates` rolls over a banner, for one trigram (10 bits per char, 30 bits). */
function trigramHash(t: string): number {
  let h = 0;
  for (let i = 0; i < MIN_KEY; i++) h = ((h << 10) ^ t.charCodeAt(i)) & 0x3fffffff;
  return h;
}

function buildIndex(db: FingerprintDb): IndexedDb {
  const freq = new Map<string, number>();
  const lits = new Map<Fingerprint, string>();
  for (const fp of db.fingerprints) {
    const lit = fp.translated?.literals.find((l) => l.length >= MIN_KEY);
    if (!lit) continue;
    lits.set(fp, lit);
    for (let i = 0; i + MIN_KEY <= lit.length; i++) {
      const t = lit.slice(i, i + MIN_KEY);
      freq.set(t, (freq.get(t) ?? 0) + 1);
    }
  }
  const byTrigram = new Map<number, Fingerprint[]>();
  const always: Fingerprint[] = [];
  for (const fp of db.fingerprints) {
    const lit = lits.get(fp);
    if (!lit) {
      if (fp.regex) always.push(fp);
      continue;
    }
    // the rarest trigram of the literal keeps candidate lists short
    let best = lit.slice(0, MIN_KEY);
    for (let i = 1; i + MIN_KEY <= lit.length; i++) {
      const t = lit.slice(i, i + MIN_KEY);
      if ((freq.get(t) ?? 0) < (freq.get(best) ?? 0)) best = t;
    }
    const key = trigramHash(best);
    const list = byTrigram.get(key) ?? [];
    list.push(fp);
    byTrigram.set(key, list);
  }
  return {
    db,
    byTrigram,
    always,
    literal: lits,
    mark: new Int32Array(db.fingerprints.length),
    generation: 0,
  };
}
