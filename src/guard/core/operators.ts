/**
 * SecLang operators (`@rx`, `@pm`, `@detectSQLi`, `@validateByteRange`, comparisons …), each
 * compiled once per rule into a matcher over byte strings. Regexes run bounded: a pattern V8's
 * linear-time engine can run (the caller's `linearCapable`, regex-bound.ts) sees up to
 * `RX_INPUT_LIMIT` bytes of a value and falls back to that engine when it backtracks too much;
 * any other pattern sees up to `RX_BACKTRACKING_INPUT_LIMIT` bytes, or `RX_NESTED_INPUT_LIMIT` when
 * it nests unbounded quantifiers (the shape of catastrophic backtracking).
 * Not the evaluator: engine.ts decides what a match means.
 */
import { compilePcre } from './pcre.js';
import { detectSqli } from './sqli-fold.js';
import { detectXss } from './xss.js';

/** Longest input an @rx sees; longer values are checked on their first 256 KiB. */
export const RX_INPUT_LIMIT = 256 * 1024;
/** Longest input a pattern the linear-time engine cannot run sees (a polynomial-time bound). */
export const RX_BACKTRACKING_INPUT_LIMIT = 8 * 1024;
/** Longest input such a pattern sees when it also nests unbounded repeats (CRS: 934120 only). */
export const RX_NESTED_INPUT_LIMIT = 1024;

export interface OpResult {
  matched: boolean;
  /** Capture groups (TX.0 … TX.9) when the operator provides them. */
  captures?: string[];
}

export type Matcher = (input: string, expand: (s: string) => string) => OpResult;

export interface OperatorContext {
  /** Reads a data file beside the rules (for @pmFromFile), as text. */
  readData(name: string): string;
  /** Whether a compiled regex can fall back to a linear-time engine (absent: it cannot). */
  linearCapable?(source: string, flags: string): boolean;
}

/**
 * Whether a (JavaScript) pattern repeats, without bound, a group that itself holds an unbounded
 * repeat: `(a+)+`, `(?:x*y)*` — the shape of catastrophic backtracking.
 * @example nestsUnboundedRepeats('^(a+)+$') // true
 */
export function nestsUnboundedRepeats(source: string): boolean {
  // per open group: whether it holds an unbounded repeat so far
  const stack: boolean[] = [false];
  for (let i = 0; i < source.length; i++) {
    const c = source[i] as string;
    const unboundedHere = () => {
      const d = source[i + 1];
      if (d === '*' || d === '+') return true;
      if (d === '{') return /^\{\d*,\}/.test(source.slice(i + 1));
      return false;
    };
    if (c === '\\') {
      i++;
      if (unboundedHere()) stack[stack.length - 1] = true;
      continue;
    }
    if (c === '[') {
      let j = i + 1;
      if (source[j] === '^') j++;
      if (source[j] === ']') j++;
      while (j < source.length && source[j] !== ']') j += source[j] === '\\' ? 2 : 1;
      i = j;
      if (unboundedHere()) stack[stack.length - 1] = true;
      continue;
    }
    if (c === '(') {
      stack.push(false);
      continue;
    }
    if (c === ')') {
      const inner = stack.pop() === true;
      if (stack.length === 0) stack.push(false);
      if (unboundedHere()) {
        if (inner) return true;
        stack[stack.length - 1] = true;
      } else if (inner) stack[stack.length - 1] = true;
      continue;
    }
    if (c !== '*' && c !== '+' && c !== '?' && c !== '{' && unboundedHere()) {
      stack[stack.length - 1] = true;
    }
  }
  return false;
}

const NO: OpResult = { matched: false };
const YES: OpResult = { matched: true };

function toInt(s: string): number {
  const m = /^\s*([+-]?\d+)/.exec(s);
  return m ? Number.parseInt(m[1] as string, 10) : 0;
}

interface AcNode {
  next: Map<number, number>;
  fail: number;
  /** Length of the longest phrase ending here (0: none). */
  out: number;
}

const lowerByte = (c: number) => (c >= 65 && c <= 90 ? c + 32 : c);

/**
 * Case-insensitive phrase matching with Aho-Corasick, as ModSecurity's @pm: one pass over the
 * input whatever the number of phrases (a regex alternation of thousands is far slower in V8).
 */
function phraseMatcher(phrases: string[]): Matcher {
  const nodes: AcNode[] = [{ next: new Map(), fail: 0, out: 0 }];
  for (const p of new Set(phrases.filter((x) => x !== ''))) {
    let cur = 0;
    for (let i = 0; i < p.length; i++) {
      const c = lowerByte(p.charCodeAt(i) & 0xff);
      let nxt = (nodes[cur] as AcNode).next.get(c);
      if (nxt === undefined) {
        nxt = nodes.length;
        nodes.push({ next: new Map(), fail: 0, out: 0 });
        (nodes[cur] as AcNode).next.set(c, nxt);
      }
      cur = nxt;
    }
    const n = nodes[cur] as AcNode;
    n.out = Math.max(n.out, p.length);
  }
  if (nodes.length === 1) return () => NO;
  const queue: number[] = [];
  for (const child of (nodes[0] as AcNode).next.values()) queue.push(child);
  for (let qi = 0; qi < queue.length; qi++) {
    const id = queue[qi] as number;
    const node = nodes[id] as AcNode;
    for (const [c, child] of node.next) {
      let f = node.fail;
      while (f !== 0 && !(nodes[f] as AcNode).next.has(c)) f = (nodes[f] as AcNode).fail;
      const target = (nodes[f] as AcNode).next.get(c);
      const childNode = nodes[child] as AcNode;
      childNode.fail = target !== undefined && target !== child ? target : 0;
      if (childNode.out === 0) childNode.out = (nodes[childNode.fail] as AcNode).out;
      queue.push(child);
    }
  }
  return (input) => {
    let cur = 0;
    const n = Math.min(input.length, RX_INPUT_LIMIT);
    for (let i = 0; i < n; i++) {
      const c = lowerByte(input.charCodeAt(i) & 0xff);
      for (;;) {
        const nxt = (nodes[cur] as AcNode).next.get(c);
        if (nxt !== undefined) {
          cur = nxt;
          break;
        }
        if (cur === 0) break;
        cur = (nodes[cur] as AcNode).fail;
      }
      const out = (nodes[cur] as AcNode).out;
      if (out > 0) return { matched: true, captures: [input.slice(i + 1 - out, i + 1)] };
    }
    return NO;
  };
}

function parseByteRanges(param: string): boolean[] {
  const ok = new Array<boolean>(256).fill(false);
  for (const part of param.split(/[,\s]+/)) {
    if (part === '') continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new Error(`@validateByteRange: bad range "${part}"`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    for (let b = lo; b <= hi && b < 256; b++) ok[b] = true;
  }
  return ok;
}

function isValidUtf8(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const b = s.charCodeAt(i);
    if (b < 0x80) continue;
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else return false;
    let code = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = s.charCodeAt(i + k);
      if (Number.isNaN(c) || (c & 0xc0) !== 0x80) return false;
      code = (code << 6) | (c & 0x3f);
    }
    if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return false;
    i += need;
  }
  return true;
}

function parseIp(s: string): bigint | undefined {
  if (s.includes(':')) {
    let [head, tail] = s.split('::') as [string, string | undefined];
    const h = head === '' ? [] : head.split(':');
    const t = tail === undefined || tail === '' ? [] : tail.split(':');
    if (tail === undefined && h.length !== 8) return undefined;
    const groups = [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t];
    if (groups.length !== 8) return undefined;
    let v = 0n;
    for (const g of groups) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      v = (v << 16n) | BigInt(Number.parseInt(g, 16));
    }
    head = '';
    return v;
  }
  const p = s.split('.');
  if (p.length !== 4 || p.some((x) => !/^\d{1,3}$/.test(x) || Number(x) > 255)) return undefined;
  return p.reduce((acc, x) => (acc << 8n) | BigInt(Number(x)), 0n) | (0xffffn << 32n);
}

function ipMatcher(param: string): Matcher {
  const nets = param
    .split(/[,\s]+/)
    .filter((x) => x !== '')
    .map((cidr) => {
      const [addr, len] = cidr.split('/') as [string, string | undefined];
      const v = parseIp(addr);
      if (v === undefined) throw new Error(`@ipMatch: bad address "${cidr}"`);
      const bits = addr.includes(':') ? 128 : 32;
      const prefix = len === undefined ? 128 : Number(len) + (bits === 32 ? 96 : 0);
      const shift = BigInt(128 - prefix);
      return { net: v >> shift, shift };
    });
  return (input) => {
    const v = parseIp(input.trim());
    if (v === undefined) return NO;
    return nets.some((n) => v >> n.shift === n.net) ? YES : NO;
  };
}

/**
 * Compiles an operator. Throws with a message saying why when the parameter is unusable.
 * @example compileOperator('rx', '^foo', ctx)('foobar', (s) => s).matched // true
 */
export function compileOperator(name: string, param: string, ctx: OperatorContext): Matcher {
  const hasMacro = param.includes('%{');
  const cmp = (f: (a: number, b: number) => boolean): Matcher => {
    const fixed = toInt(param);
    return (input, expand) => (f(toInt(input), hasMacro ? toInt(expand(param)) : fixed) ? YES : NO);
  };
  const str = (f: (input: string, p: string) => boolean): Matcher => {
    return (input, expand) => (f(input, hasMacro ? expand(param) : param) ? YES : NO);
  };
  switch (name) {
    case 'rx': {
      const c = compilePcre(param);
      if ('error' in c) throw new Error(`@rx: V8 cannot compile the pattern: ${c.error}`);
      const re = c.regex;
      const linear = ctx.linearCapable?.(re.source, re.flags) === true;
      const limit = linear
        ? RX_INPUT_LIMIT
        : nestsUnboundedRepeats(re.source)
          ? RX_NESTED_INPUT_LIMIT
          : RX_BACKTRACKING_INPUT_LIMIT;
      return (input) => {
        const m = re.exec(input.length > limit ? input.slice(0, limit) : input);
        if (!m) return NO;
        return { matched: true, captures: m.slice(0, 10).map((x) => x ?? '') };
      };
    }
    case 'pm':
      return phraseMatcher(param.split(/\s+/));
    case 'pmf':
    case 'pmFromFile': {
      const phrases: string[] = [];
      for (const file of param.split(/\s+/).filter((f) => f !== '')) {
        for (const line of ctx.readData(file).split(/\r?\n/)) {
          const t = line.trim();
          if (t !== '' && !t.startsWith('#')) phrases.push(t);
        }
      }
      return phraseMatcher(phrases);
    }
    case 'detectSQLi':
      return (input) => {
        const fp = detectSqli(input);
        return fp === undefined ? NO : { matched: true, captures: [fp] };
      };
    case 'detectXSS':
      return (input) => (detectXss(input) ? { matched: true, captures: [input] } : NO);
    case 'validateByteRange': {
      const ok = parseByteRanges(param);
      return (input) => {
        for (let i = 0; i < input.length; i++) if (!ok[input.charCodeAt(i) & 0xff]) return YES;
        return NO;
      };
    }
    case 'validateUrlEncoding':
      return (input) => {
        for (let i = 0; i < input.length; i++) {
          if (input[i] !== '%') continue;
          if (!/^[0-9a-fA-F]{2}$/.test(input.slice(i + 1, i + 3))) return YES;
          i += 2;
        }
        return NO;
      };
    case 'validateUtf8Encoding':
      return (input) => (isValidUtf8(input) ? NO : YES);
    case 'ipMatch':
      return ipMatcher(param);
    case 'eq':
      return cmp((a, b) => a === b);
    case 'ge':
      return cmp((a, b) => a >= b);
    case 'gt':
      return cmp((a, b) => a > b);
    case 'le':
      return cmp((a, b) => a <= b);
    case 'lt':
      return cmp((a, b) => a < b);
    case 'streq':
      return str((i, p) => i === p);
    case 'contains':
      return str((i, p) => i.includes(p));
    case 'containsWord':
      return str((i, p) =>
        new RegExp(`(?:^|\\W)${p.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&')}(?:\\W|$)`).test(i),
      );
    case 'beginsWith':
      return str((i, p) => i.startsWith(p));
    case 'endsWith':
      return str((i, p) => i.endsWith(p));
    case 'within':
      return str((i, p) => p.includes(i));
    case 'strmatch':
      return str((i, p) => i.includes(p));
    case 'unconditionalMatch':
      return () => YES;
    case 'noMatch':
      return () => NO;
    default:
      throw new Error(`unsupported operator @${name}`);
  }
}
