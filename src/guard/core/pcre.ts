/**
 * PCRE → JavaScript regex translation for SecLang @rx patterns. ModSecurity compiles with
 * PCRE_DOTALL and PCRE_DOLLAR_ENDONLY, so patterns get the `s` flag. Translated:
 * `(?i)`/`(?s)`/`(?m)` leading flags, scoped `(?i:…)` and mid-pattern `(?i)` (by case folding
 * the letters they cover), possessive quantifiers and atomic groups (to their greedy forms:
 * they may then match where PCRE would give up, never the other way round), branch reset `(?|`
 * (as a plain group: numbering may differ), `\A \z \Z \h \H \R \e \Q…\E \x{…}`, POSIX classes,
 * a leading `]` in a class, and `(?P<name>`. What V8 still cannot compile is reported, not hidden.
 * Not a regex engine: matching runs in V8 (see `bounded` in operators.ts for the time bound).
 */

export interface Translated {
  source: string;
  flags: string;
  /** What was approximated, for `guard check`. */
  notes: string[];
}

const POSIX: Record<string, string> = {
  alpha: 'a-zA-Z',
  digit: '0-9',
  alnum: 'a-zA-Z0-9',
  upper: 'A-Z',
  lower: 'a-z',
  space: ' \\t\\n\\r\\f\\v',
  blank: ' \\t',
  punct: '!-\\/:-@\\[-`{-~',
  xdigit: '0-9A-Fa-f',
  word: '\\w',
  cntrl: '\\x00-\\x1f\\x7f',
  print: '\\x20-\\x7e',
  graph: '\\x21-\\x7e',
};

const isLetter = (c: string) => /^[a-zA-Z]$/.test(c);

function escapeLiteral(c: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(c) ? `\\${c}` : c;
}

/**
 * @example translatePcre('(?i)foo++(?>bar)\\z') // { source: 'foo+(?:bar)$', flags: 'is', … }
 */
export function translatePcre(pattern: string): Translated {
  const notes: string[] = [];
  let flags = 's';
  let p = pattern;
  // leading global flags
  const lead = /^\(\?([imsx]+)\)/.exec(p);
  if (lead) {
    for (const f of lead[1] as string) {
      if (f === 'x') notes.push('(?x) extended mode');
      else if (!flags.includes(f)) flags += f;
    }
    p = p.slice(lead[0].length);
  }
  const out: string[] = [];
  // A leading (?i) folds ASCII letters into classes instead of V8's `i` flag: PCRE (no UTF, C
  // locale) folds ASCII only, and without `i` V8's linear-time engine can take the pattern over
  // when it backtracks too much (see regex-bound.ts)
  const ciStack: boolean[] = [flags.includes('i')];
  flags = flags.replace('i', '');
  const globalCi = false;
  let i = 0;
  const n = p.length;
  const ci = () => ciStack[ciStack.length - 1] === true && !globalCi;
  while (i < n) {
    const c = p[i] as string;
    if (c === '\\') {
      const d = p[i + 1];
      if (d === undefined) {
        out.push('\\\\');
        i += 1;
        continue;
      }
      if (d === 'A') out.push('^');
      else if (d === 'z') out.push('$');
      else if (d === 'Z') out.push('(?=\\n?$)');
      else if (d === 'h') out.push('[ \\t\\xa0]');
      else if (d === 'H') out.push('[^ \\t\\xa0]');
      else if (d === 'R') out.push('(?:\\r\\n|[\\n\\v\\f\\r\\x85])');
      else if (d === 'e') out.push('\\x1b');
      else if (d === 'Q') {
        const end = p.indexOf('\\E', i + 2);
        const lit = p.slice(i + 2, end === -1 ? n : end);
        out.push([...lit].map(escapeLiteral).join(''));
        i = end === -1 ? n : end + 2;
        continue;
      } else if (d === 'E') {
        // stray \E: nothing
      } else if (d === 'x' && p[i + 2] === '{') {
        const end = p.indexOf('}', i + 3);
        const code = Number.parseInt(p.slice(i + 3, end), 16);
        out.push(
          code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`,
        );
        i = end + 1;
        continue;
      } else if (d === 'x' && /^[0-9a-fA-F]{2}$/.test(p.slice(i + 2, i + 4))) {
        // whole \xHH, so that folding does not read its hex digits as letters
        out.push(p.slice(i, i + 4));
        i += 4;
        continue;
      } else out.push(`\\${d}`);
      i += 2;
      continue;
    }
    if (c === '[') {
      const [cls, next] = translateClass(p, i, ci());
      out.push(cls);
      i = next;
      continue;
    }
    if (c === '(') {
      if (p.startsWith('(?>', i)) {
        notes.push('atomic group as a plain group');
        out.push('(?:');
        ciStack.push(ci() || globalCi);
        i += 3;
        continue;
      }
      if (p.startsWith('(?|', i)) {
        notes.push('branch reset as a plain group');
        out.push('(?:');
        ciStack.push(ciStack[ciStack.length - 1] === true);
        i += 3;
        continue;
      }
      if (p.startsWith('(?P<', i)) {
        out.push('(?<');
        ciStack.push(ciStack[ciStack.length - 1] === true);
        i += 4;
        continue;
      }
      const scoped = /^\(\?([imsx]*)(?:-([imsx]+))?([:)])/.exec(p.slice(i, i + 12));
      if (scoped && ((scoped[1] as string) !== '' || scoped[2] !== undefined)) {
        const on = scoped[1] as string;
        const off = scoped[2] ?? '';
        const cur = ciStack[ciStack.length - 1] === true;
        const next = on.includes('i') ? true : off.includes('i') ? false : cur;
        if (off.includes('i') && globalCi) notes.push('(?-i) inside a case-insensitive pattern');
        if (scoped[3] === ')') {
          // flags for the rest of the enclosing group
          ciStack[ciStack.length - 1] = next;
        } else {
          out.push('(?:');
          ciStack.push(next);
        }
        i += scoped[0].length;
        continue;
      }
      out.push('(');
      ciStack.push(ciStack[ciStack.length - 1] === true);
      i += 1;
      continue;
    }
    if (c === ')') {
      if (ciStack.length > 1) ciStack.pop();
      out.push(')');
      i += 1;
      continue;
    }
    if ((c === '+' || c === '*' || c === '?' || c === '}') && p[i + 1] === '+') {
      notes.push('possessive quantifier as greedy');
      out.push(c);
      i += 2;
      continue;
    }
    if (ci() && isLetter(c)) {
      out.push(`[${c.toLowerCase()}${c.toUpperCase()}]`);
      i += 1;
      continue;
    }
    out.push(c);
    i += 1;
  }
  return { source: out.join(''), flags, notes: [...new Set(notes)] };
}

/** Translates a character class starting at p[i] === '['; returns [class, next index]. */
function translateClass(p: string, start: number, ci: boolean): [string, number] {
  let i = start + 1;
  let out = '[';
  if (p[i] === '^') {
    out += '^';
    i++;
  }
  if (p[i] === ']') {
    out += '\\]';
    i++;
  }
  const extra: string[] = [];
  while (i < p.length && p[i] !== ']') {
    const c = p[i] as string;
    if (c === '[' && p[i + 1] === ':') {
      const end = p.indexOf(':]', i + 2);
      if (end !== -1) {
        let name = p.slice(i + 2, end);
        const neg = name.startsWith('^');
        if (neg) name = name.slice(1);
        const body = POSIX[name];
        if (body !== undefined && !neg) {
          out += body;
          i = end + 2;
          continue;
        }
      }
    }
    if (c === '\\') {
      const d = p[i + 1] ?? '\\';
      if (d === 'h') out += ' \\t\\xa0';
      else if (d === 'e') out += '\\x1b';
      else if (d === 'x' && p[i + 2] === '{') {
        const end = p.indexOf('}', i + 3);
        const code = Number.parseInt(p.slice(i + 3, end), 16);
        out +=
          code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
        i = end + 1;
        continue;
      } else if (d === 'x' && /^[0-9a-fA-F]{2}$/.test(p.slice(i + 2, i + 4))) {
        // whole \xHH, so that a folded class does not read its hex digits as letters
        out += p.slice(i, i + 4);
        i += 4;
        continue;
      } else out += `\\${d}`;
      i += 2;
      continue;
    }
    if (ci && p[i + 1] === '-' && p[i + 2] !== undefined && p[i + 2] !== ']') {
      // a range whose low end is a plain character: fold the letters it covers, whatever its ends
      const hi = rangeEnd(p, i + 2);
      if (hi !== undefined) {
        out += p.slice(i, hi.next);
        extra.push(...foldedRanges(c.charCodeAt(0), hi.code));
        i = hi.next;
        continue;
      }
    }
    if (c === '[') {
      out += '\\[';
      i++;
      continue;
    }
    if (ci && isLetter(c)) {
      // fold ranges of letters too: a-f → a-fA-F
      if (p[i + 1] === '-' && p[i + 2] !== undefined && isLetter(p[i + 2] as string)) {
        const hi = p[i + 2] as string;
        out += `${c}-${hi}`;
        extra.push(`${swapCase(c)}-${swapCase(hi)}`);
        i += 3;
        continue;
      }
      out += c;
      extra.push(swapCase(c));
      i++;
      continue;
    }
    out += c;
    i++;
  }
  out += `${extra.join('')}]`;
  return [out, i + 1];
}

/** The high end of a class range at p[i]: a plain character, `\\xHH` or an escaped literal. */
function rangeEnd(p: string, i: number): { code: number; next: number } | undefined {
  const c = p[i] as string;
  if (c !== '\\') return { code: c.charCodeAt(0), next: i + 1 };
  const d = p[i + 1];
  if (d === 'x' && /^[0-9a-fA-F]{2}$/.test(p.slice(i + 2, i + 4))) {
    return { code: Number.parseInt(p.slice(i + 2, i + 4), 16), next: i + 4 };
  }
  if (d !== undefined && !/[0-9a-zA-Z]/.test(d)) return { code: d.charCodeAt(0), next: i + 2 };
  return undefined;
}

const hex2 = (n: number) => `\\x${n.toString(16).padStart(2, '0')}`;

/** The other-case ranges of the ASCII letters inside lo..hi. */
function foldedRanges(lo: number, hi: number): string[] {
  const out: string[] = [];
  for (const [a, z, shift] of [
    [97, 122, -32],
    [65, 90, 32],
  ] as const) {
    const from = Math.max(lo, a);
    const to = Math.min(hi, z);
    if (from <= to) out.push(`${hex2(from + shift)}-${hex2(to + shift)}`);
  }
  return out;
}

const swapCase = (c: string) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase());

/** Compiles a PCRE pattern for V8, or returns the reason it cannot. */
export function compilePcre(
  pattern: string,
): { regex: RegExp; notes: string[] } | { error: string } {
  const t = translatePcre(pattern);
  try {
    return { regex: new RegExp(t.source, t.flags), notes: t.notes };
  } catch (err) {
    return { error: (err as Error).message };
  }
}
