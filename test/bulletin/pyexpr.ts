/**
 * A small evaluator for the Python expressions in feedparser's test headers
 * (`not bozo and feed['title'] == u'Example'`): literals (str with escapes, int, float, tuple,
 * list, dict, None/True/False), subscripts, attribute access, `.get()`, `len()`, `==`, `!=`,
 * `in`, `not in`, `is`, `not`, `and`, `or`, `+`. Names and keys go through a resolver that
 * applies feedparser's key aliases. Anything else throws, and the case counts as failed.
 */

export type PyValue = unknown;

interface Tok {
  t: 'str' | 'num' | 'name' | 'op' | 'end';
  v: string;
}

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const sm = /^[uUbBrR]{0,2}(['"])/.exec(src.slice(i, i + 3));
    if (sm && (c === "'" || c === '"' || /[uUbBrR]/.test(c))) {
      const raw = /[rR]/.test(src.slice(i, i + sm[0].length - 1));
      i += sm[0].length;
      let q = sm[1]!;
      if (src.startsWith(q.repeat(3), i - 1)) {
        q = q.repeat(3);
        i += 2;
      }
      let s = '';
      while (i < src.length && !src.startsWith(q, i)) {
        if (src[i] === '\\' && !raw) {
          const e = src[i + 1]!;
          i += 2;
          if (e === 'n') s += '\n';
          else if (e === 't') s += '\t';
          else if (e === 'r') s += '\r';
          else if (e === '0') s += '\0';
          else if (e === 'x') {
            s += String.fromCharCode(Number.parseInt(src.slice(i, i + 2), 16));
            i += 2;
          } else if (e === 'u') {
            s += String.fromCharCode(Number.parseInt(src.slice(i, i + 4), 16));
            i += 4;
          } else if (e === 'U') {
            s += String.fromCodePoint(Number.parseInt(src.slice(i, i + 8), 16));
            i += 8;
          } else if (e === '\n') {
            /* line continuation */
          } else if (e === '\\' || e === "'" || e === '"') s += e;
          else s += `\\${e}`;
        } else s += src[i++];
      }
      if (!src.startsWith(q, i)) throw new Error('unterminated string');
      i += q.length;
      out.push({ t: 'str', v: s });
      continue;
    }
    const nm = /^-?\d+(\.\d+)?/.exec(src.slice(i));
    if (nm && (c !== '-' || !out.length || out[out.length - 1]!.t === 'op')) {
      out.push({ t: 'num', v: nm[0] });
      i += nm[0].length;
      continue;
    }
    const id = /^[A-Za-z_]\w*/.exec(src.slice(i));
    if (id) {
      out.push({ t: 'name', v: id[0] });
      i += id[0].length;
      continue;
    }
    const op = /^(==|!=|<=|>=|[()[\]{},.:+<>])/.exec(src.slice(i));
    if (op) {
      out.push({ t: 'op', v: op[0] });
      i += op[0].length;
      continue;
    }
    throw new Error(`unexpected character ${c}`);
  }
  out.push({ t: 'end', v: '' });
  return out;
}

export interface PyEnv {
  /** A top-level name (`bozo`, `feed`, `entries`, `version` …). */
  name(n: string): PyValue;
  /** `obj[key]`, with the feedparser alias rules; throw KeyError-like errors for missing keys. */
  getItem(obj: PyValue, key: PyValue): PyValue;
  /** `key in obj` for dicts. */
  has(obj: PyValue, key: PyValue): boolean;
}

export class PyKeyError extends Error {}

export function evalPy(src: string, env: PyEnv): PyValue {
  const toks = tokenize(src);
  let p = 0;
  const peek = () => toks[p]!;
  const eat = (v?: string) => {
    const t = toks[p]!;
    if (v !== undefined && t.v !== v) throw new Error(`expected ${v}, got ${t.v || t.t}`);
    p++;
    return t;
  };
  const isKw = (v: string) => peek().t === 'name' && peek().v === v;

  function orExpr(): PyValue {
    let l = andExpr();
    while (isKw('or')) {
      eat();
      const r = andExpr();
      l = truthy(l) ? l : r;
    }
    return l;
  }
  function andExpr(): PyValue {
    let l = notExpr();
    while (isKw('and')) {
      eat();
      if (!truthy(l)) {
        // Short-circuit, but still parse the right side.
        const save = env;
        skip(save);
        continue;
      }
      l = notExpr();
    }
    return l;
  }
  function skip(_e: PyEnv) {
    // Parse and discard the right operand without evaluating lookups that may fail.
    const start = p;
    try {
      notExpr();
    } catch {
      p = start;
      let depth = 0;
      while (peek().t !== 'end') {
        const t = peek();
        if (t.v === '(' || t.v === '[' || t.v === '{') depth++;
        if (t.v === ')' || t.v === ']' || t.v === '}') depth--;
        if (depth === 0 && t.t === 'name' && (t.v === 'and' || t.v === 'or')) break;
        eat();
      }
    }
  }
  function notExpr(): PyValue {
    if (isKw('not')) {
      eat();
      return !truthy(notExpr());
    }
    return comparison();
  }
  function comparison(): PyValue {
    const l = additive();
    const t = peek();
    if (t.v === '==' || t.v === '!=') {
      // Python chains comparisons: a == b == c means a == b and b == c.
      let left = l;
      let ok = true;
      while (peek().v === '==' || peek().v === '!=') {
        const op = eat().v;
        const r = additive();
        ok = ok && (op === '==' ? pyEq(left, r) : !pyEq(left, r));
        left = r;
      }
      return ok;
    }
    if (t.v === '<' || t.v === '>' || t.v === '<=' || t.v === '>=') {
      eat();
      const r = additive() as number;
      const a = l as number;
      return t.v === '<' ? a < r : t.v === '>' ? a > r : t.v === '<=' ? a <= r : a >= r;
    }
    if (isKw('in')) {
      eat();
      return contains(additive(), l);
    }
    if (isKw('not') && toks[p + 1]?.v === 'in') {
      eat();
      eat();
      return !contains(additive(), l);
    }
    if (isKw('is')) {
      eat();
      let neg = false;
      if (isKw('not')) {
        eat();
        neg = true;
      }
      const r = additive();
      const same = l === r || (l == null && r == null);
      return neg ? !same : same;
    }
    return l;
  }
  function contains(container: PyValue, item: PyValue): boolean {
    if (typeof container === 'string') return container.includes(String(item));
    if (Array.isArray(container)) return container.some((x) => pyEq(x, item));
    return env.has(container, item);
  }
  function additive(): PyValue {
    let l = postfix();
    while (peek().v === '+') {
      eat();
      const r = postfix();
      l = typeof l === 'number' && typeof r === 'number' ? l + r : String(l) + String(r);
    }
    return l;
  }
  function postfix(): PyValue {
    let v = atom();
    for (;;) {
      if (peek().v === '[') {
        eat();
        const k = orExpr();
        eat(']');
        v = env.getItem(v, k);
      } else if (peek().v === '.') {
        eat();
        const name = eat().v;
        if (peek().v === '(') {
          eat();
          const args: PyValue[] = [];
          while (peek().v !== ')') {
            args.push(orExpr());
            if (peek().v === ',') eat();
          }
          eat(')');
          v = callMethod(v, name, args);
        } else {
          v = env.getItem(v, name);
        }
      } else return v;
    }
  }
  function callMethod(obj: PyValue, name: string, args: PyValue[]): PyValue {
    if (name === 'get') {
      try {
        if (!env.has(obj, args[0])) return args[1] ?? null;
        return env.getItem(obj, args[0]);
      } catch (e) {
        if (e instanceof PyKeyError) return args[1] ?? null;
        throw e;
      }
    }
    if (name === 'has_key') return env.has(obj, args[0]);
    if (name === 'keys') return Object.keys(obj as object);
    throw new Error(`unsupported method ${name}`);
  }
  function atom(): PyValue {
    const t = eat();
    if (t.t === 'str') {
      let s = t.v;
      while (peek().t === 'str') s += eat().v; // implicit concatenation
      return s;
    }
    if (t.t === 'num') return Number(t.v);
    if (t.t === 'name') {
      if (t.v === 'None') return null;
      if (t.v === 'True') return true;
      if (t.v === 'False') return false;
      if (t.v === 'len' && peek().v === '(') {
        eat();
        const x = orExpr();
        eat(')');
        if (typeof x === 'string' || Array.isArray(x)) return x.length;
        if (x && typeof x === 'object') return Object.keys(x).length;
        throw new Error('len of non-container');
      }
      return env.name(t.v);
    }
    if (t.v === '(') {
      if (peek().v === ')') {
        eat();
        return [];
      }
      const first = orExpr();
      if (peek().v === ')') {
        eat();
        return first;
      }
      const items = [first];
      while (peek().v === ',') {
        eat();
        if (peek().v === ')') break;
        items.push(orExpr());
      }
      eat(')');
      return items;
    }
    if (t.v === '[') {
      const items: PyValue[] = [];
      while (peek().v !== ']') {
        items.push(orExpr());
        if (peek().v === ',') eat();
      }
      eat(']');
      return items;
    }
    if (t.v === '{') {
      const obj: Record<string, PyValue> = {};
      while (peek().v !== '}') {
        const k = orExpr();
        eat(':');
        obj[String(k)] = orExpr();
        if (peek().v === ',') eat();
      }
      eat('}');
      return obj;
    }
    throw new Error(`unexpected token ${t.v || t.t}`);
  }
  const v = orExpr();
  if (peek().t !== 'end') throw new Error(`trailing input at ${peek().v}`);
  return v;
}

export function truthy(v: PyValue): boolean {
  if (v == null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

export function pyEq(a: PyValue, b: PyValue): boolean {
  if (a === b) return true;
  if (a == null || b == null) return a == null && b == null;
  if (typeof a === 'boolean' || typeof b === 'boolean') return Number(a) === Number(b);
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => pyEq(x, b[i]));
  if (typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a as object).filter(
      (k) => (a as Record<string, unknown>)[k] !== undefined,
    );
    const kb = Object.keys(b as object);
    return (
      ka.length === kb.length &&
      kb.every((k) => pyEq((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
    );
  }
  return false;
}
