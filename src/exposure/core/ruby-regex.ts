/**
 * Translate the Ruby (Onigmo) regular expressions of Recog fingerprints into JavaScript ones,
 * and find the literal substrings every match must contain (for the prefilter). Pure.
 * Not a full Onigmo: what Recog's databases use — inline flag groups `(?im:…)` and `(?i)`,
 * `\A \z \Z \h \H \e`, POSIX brackets, `{,n}`, atomic groups and possessive quantifiers (these
 * two become greedy ones, reported as approximations).
 */

export interface RubyRegexFlags {
  /** REG_ICASE */
  icase?: boolean;
  /** Ruby's MULTILINE (REG_MULTILINE / REG_DOT_NEWLINE): `.` matches a newline. */
  dotall?: boolean;
}

export interface TranslatedRegex {
  source: string;
  flags: string;
  /** Constructs rewritten with slightly different meaning (empty when exact). */
  approximations: string[];
  /** Lower-cased literal runs that every match contains (longest first). */
  literals: string[];
}

const POSIX: Record<string, string> = {
  alpha: 'a-zA-Z',
  digit: '0-9',
  alnum: 'a-zA-Z0-9',
  upper: 'A-Z',
  lower: 'a-z',
  space: '\\s',
  xdigit: '0-9a-fA-F',
  punct: '!-\\/:-@\\[-`{-~',
  print: ' -~',
  graph: '!-~',
  cntrl: '\\x00-\\x1f\\x7f',
  word: '\\w',
  blank: ' \\t',
};

interface Frame {
  icase: boolean;
  dotall: boolean;
  /** Whether this group's contents feed the required-literal runs (depth-0 only). */
  top: boolean;
}

function swapCase(ch: string): string {
  const lo = ch.toLowerCase();
  return lo === ch ? ch.toUpperCase() : lo;
}

function isLetter(ch: string): boolean {
  return /[a-zA-Z]/.test(ch);
}

function escapeLiteral(ch: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(ch) ? `\\${ch}` : ch;
}

/** The flag modifiers of `(?imx-imx:` or `(?imx)`; undefined when not a flag group. */
function parseFlagGroup(
  src: string,
  i: number,
): { on: string; off: string; end: number; scoped: boolean } | undefined {
  const m = /^\(\?([imx]*)(?:-([imx]*))?([:)])/.exec(src.slice(i));
  if (!m || (m[1] === '' && (m[2] ?? '') === '')) return undefined;
  return { on: m[1]!, off: m[2] ?? '', end: i + m[0].length, scoped: m[3] === ':' };
}

/**
 * @example translateRubyRegex('(?i:server)\\Z').source === '(?:[sS][eE][rR][vV][eE][rR])(?=\\n?(?![\\s\\S]))'
 */
export function translateRubyRegex(src: string, flags: RubyRegexFlags = {}): TranslatedRegex {
  const approximations: string[] = [];
  // A pattern that opens with (?i) / (?m) / (?im) sets its flags for the whole expression.
  let globalIcase = flags.icase ?? false;
  let globalDotall = flags.dotall ?? false;
  let start = 0;
  const lead = parseFlagGroup(src, 0);
  if (lead && !lead.scoped) {
    if (lead.on.includes('i')) globalIcase = true;
    if (lead.on.includes('m')) globalDotall = true;
    start = lead.end;
  }
  // The JS `i` flag is used only when no part of the pattern turns case-insensitivity off or on
  // locally; otherwise letters in case-insensitive parts are expanded to [aA].
  const localCase = /\(\?[mx]*-?[mx]*i|\(\?[imx]*-[mx]*i/.test(src.slice(start));
  const useIFlag = globalIcase && !/\(\?[imx]*-[mx]*i/.test(src.slice(start));
  let out = '';
  const stack: Frame[] = [];
  let cur: Frame = { icase: globalIcase, dotall: globalDotall, top: true };
  // Required-literal extraction over the top level of the pattern.
  let topHasAlternation = false;
  const runs: string[] = [];
  let run = '';
  let lastAtomWasLiteralChar = false;
  const endRun = () => {
    if (run) runs.push(run);
    run = '';
  };
  const atDepth0 = () => stack.length === 0;

  const letter = (ch: string): string => {
    if (cur.icase && !useIFlag && isLetter(ch)) return `[${ch}${swapCase(ch)}]`;
    return escapeLiteral(ch);
  };

  let i = start;
  while (i < src.length) {
    const ch = src[i]!;
    if (ch === '\\') {
      const next = src[i + 1] ?? '';
      i += 2;
      let literalChar: string | undefined;
      switch (next) {
        case 'A':
          out += '(?<![\\s\\S])';
          break;
        case 'z':
          out += '(?![\\s\\S])';
          break;
        case 'Z':
          out += '(?=\\n?(?![\\s\\S]))';
          break;
        case 'h':
          out += '[0-9a-fA-F]';
          break;
        case 'H':
          out += '[^0-9a-fA-F]';
          break;
        case 'e':
          out += '\\x1b';
          literalChar = '\x1b';
          break;
        case 'G':
          approximations.push('\\G treated as \\A');
          out += '(?<![\\s\\S])';
          break;
        case 'x': {
          const m = /^[0-9a-fA-F]{1,2}/.exec(src.slice(i));
          const hex = m ? m[0] : '';
          i += hex.length;
          const code = Number.parseInt(hex || '0', 16);
          out += `\\x${code.toString(16).padStart(2, '0')}`;
          literalChar = String.fromCharCode(code);
          break;
        }
        case 'n':
          out += '\\n';
          literalChar = '\n';
          break;
        case 'r':
          out += '\\r';
          literalChar = '\r';
          break;
        case 't':
          out += '\\t';
          literalChar = '\t';
          break;
        default:
          if (/[0-9]/.test(next) && next !== '0') {
            out += `\\${next}`;
          } else if (/[a-zA-Z0-9]/.test(next)) {
            out += `\\${next}`;
          } else {
            // escaped punctuation is a literal character
            out += escapeLiteral(next);
            literalChar = next;
          }
      }
      if (literalChar !== undefined && atDepth0()) {
        run += literalChar.toLowerCase();
        lastAtomWasLiteralChar = true;
      } else {
        if (atDepth0()) endRun();
        lastAtomWasLiteralChar = false;
      }
      continue;
    }
    if (ch === '[') {
      const { text, end } = translateClass(src, i, cur.icase && !useIFlag, approximations);
      out += text;
      i = end;
      if (atDepth0()) endRun();
      lastAtomWasLiteralChar = false;
      continue;
    }
    if (ch === '(') {
      if (src.startsWith('(?#', i)) {
        const close = src.indexOf(')', i);
        i = close < 0 ? src.length : close + 1;
        continue;
      }
      if (atDepth0()) endRun();
      lastAtomWasLiteralChar = false;
      const fg = parseFlagGroup(src, i);
      if (fg) {
        const next: Frame = {
          icase: fg.off.includes('i') ? false : fg.on.includes('i') ? true : cur.icase,
          dotall: fg.off.includes('m') ? false : fg.on.includes('m') ? true : cur.dotall,
          top: false,
        };
        i = fg.end;
        if (fg.scoped) {
          stack.push(cur);
          cur = next;
          out += '(?:';
        } else {
          // (?i) in the middle: applies to the rest of the enclosing group
          cur = { ...next, top: cur.top };
        }
        continue;
      }
      if (src.startsWith('(?>', i)) {
        approximations.push('atomic group (?>…) treated as (?:…)');
        out += '(?:';
        i += 3;
      } else if (src.startsWith('(?<', i) && !/^\(\?<[=!]/.test(src.slice(i))) {
        const close = src.indexOf('>', i);
        out += src.slice(i, close + 1);
        i = close + 1;
      } else if (src.startsWith('(?', i)) {
        const m = /^\(\?(?:<?[=!]|:)/.exec(src.slice(i));
        const opener = m ? m[0] : '(?:';
        out += opener;
        i += opener.length;
      } else {
        out += '(';
        i += 1;
      }
      stack.push(cur);
      cur = { ...cur, top: false };
      continue;
    }
    if (ch === ')') {
      out += ')';
      i += 1;
      cur = stack.pop() ?? cur;
      lastAtomWasLiteralChar = false;
      continue;
    }
    if (ch === '|') {
      out += '|';
      i += 1;
      if (atDepth0()) {
        topHasAlternation = true;
        endRun();
      }
      lastAtomWasLiteralChar = false;
      continue;
    }
    if (ch === '*' || ch === '+' || ch === '?' || ch === '{') {
      let q = ch;
      let zeroMin = ch !== '+';
      if (ch === '{') {
        const m = /^\{(\d*)(?:(,)(\d*))?\}/.exec(src.slice(i));
        if (!m) {
          // a literal brace
          out += '\\{';
          if (atDepth0()) {
            run += '{';
            lastAtomWasLiteralChar = true;
          }
          i += 1;
          continue;
        }
        const min = m[1] === '' ? '0' : m[1]!;
        q = `{${min}${m[2] ?? ''}${m[3] ?? ''}}`;
        zeroMin = Number(min) === 0;
        i += m[0].length;
      } else i += 1;
      out += q;
      if (atDepth0()) {
        if (lastAtomWasLiteralChar && zeroMin) run = run.slice(0, -1);
        endRun();
      }
      lastAtomWasLiteralChar = false;
      const after = src[i];
      if (after === '?') {
        out += '?';
        i += 1;
      } else if (after === '+') {
        approximations.push('possessive quantifier treated as greedy');
        i += 1;
      }
      continue;
    }
    if (ch === '.') {
      out += cur.dotall ? '[\\s\\S]' : '[^\\n]';
      i += 1;
      if (atDepth0()) endRun();
      lastAtomWasLiteralChar = false;
      continue;
    }
    if (ch === '^' || ch === '$') {
      out += ch;
      i += 1;
      if (atDepth0()) endRun();
      lastAtomWasLiteralChar = false;
      continue;
    }
    out += letter(ch);
    if (atDepth0()) {
      run += ch.toLowerCase();
      lastAtomWasLiteralChar = true;
    }
    i += 1;
  }
  endRun();
  void localCase;
  const literals = topHasAlternation ? [] : runs.filter((r) => r.length > 0);
  literals.sort((a, b) => b.length - a.length);
  const safe = defuseNestedQuantifier(out);
  if (safe !== out)
    approximations.push('(X+)* rewritten as (X+)? (same strings, no exponential backtracking)');
  return {
    source: safe,
    flags: `m${useIFlag ? 'i' : ''}`,
    approximations,
    literals,
  };
}

/**
 * `(X+)*` over a single atom X (`.`, a class, an escape) matches exactly what `(X+)?` does,
 * and the group still holds the one greedy run; but backtracking engines such as V8's try
 * every split of the run — exponential on a banner that almost matches (Recog's smtp_banners
 * has `(.+)* http`). Onigmo copes; V8 does not, so the quantifier is rewritten.
 */
function defuseNestedQuantifier(source: string): string {
  return source.replace(
    /(^|[^\\])\((\[(?:\\.|[^\]\\])*\]|\\[A-Za-z]|\.)\+\)\*(?![?+])/g,
    '$1($2+)?',
  );
}

function translateClass(
  src: string,
  start: number,
  expandCase: boolean,
  approximations: string[],
): { text: string; end: number } {
  let i = start + 1;
  let body = '';
  let negate = false;
  if (src[i] === '^') {
    negate = true;
    i += 1;
  }
  let first = true;
  const letters: string[] = [];
  while (i < src.length) {
    const ch = src[i]!;
    if (ch === ']' && !first) {
      i += 1;
      break;
    }
    first = false;
    if (ch === '[' && src[i + 1] === ':') {
      const m = /^\[:(\^?)([a-z]+):\]/.exec(src.slice(i));
      if (m && POSIX[m[2]!] !== undefined) {
        if (m[1]) approximations.push('negated POSIX class ignored');
        body += POSIX[m[2]!];
        i += m[0].length;
        continue;
      }
    }
    if (ch === '[') {
      // nested class (Onigmo set operations): flatten, an approximation
      approximations.push('nested character class flattened');
      const inner = translateClass(src, i, expandCase, approximations);
      body += inner.text.slice(1, -1).replace(/^\^/, '');
      i = inner.end;
      continue;
    }
    if (ch === '&' && src[i + 1] === '&') {
      approximations.push('class intersection ignored');
      i += 2;
      continue;
    }
    if (ch === '\\') {
      const next = src[i + 1] ?? '';
      if (next === 'h') body += '0-9a-fA-F';
      else if (next === 'H') {
        approximations.push('\\H inside a class ignored');
      } else if (next === 'e') body += '\\x1b';
      else if (next === 'x') {
        const m = /^[0-9a-fA-F]{1,2}/.exec(src.slice(i + 2));
        const hex = m ? m[0] : '';
        body += `\\x${Number.parseInt(hex || '0', 16)
          .toString(16)
          .padStart(2, '0')}`;
        i += hex.length;
      } else body += `\\${next}`;
      i += 2;
      continue;
    }
    if (isLetter(ch)) letters.push(ch);
    if (ch === '-' && isLetter(src[i - 1] ?? '') && isLetter(src[i + 1] ?? '')) {
      letters.push(`${src[i - 1]}-${src[i + 1]}`);
    }
    body += ch === '/' ? '\\/' : ch;
    i += 1;
  }
  if (expandCase) {
    for (const l of letters) {
      body += l.length === 1 ? swapCase(l) : `${swapCase(l[0]!)}-${swapCase(l[2]!)}`;
    }
  }
  return { text: `[${negate ? '^' : ''}${body}]`, end: i };
}
