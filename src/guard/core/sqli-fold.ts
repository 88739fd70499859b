/**
 * libinjection's folding pass and verdict: reduces the token stream to at most five tokens,
 * builds the fingerprint, and applies the false-positive filters for short fingerprints.
 * The tokenizer is in sqli.ts. Not a SQL grammar: the folds are heuristics, as upstream's are.
 */
import {
  FLAG_QUOTE_DOUBLE,
  FLAG_QUOTE_NONE,
  FLAG_QUOTE_SINGLE,
  FLAG_SQL_ANSI,
  FLAG_SQL_MYSQL,
  isKnownFingerprint,
  lookupWord,
  SqliState,
  type SqlToken,
  tokenize,
} from './sqli.js';

const TOKEN_SIZE = 32;
const MAX_TOKENS = 5;

function copy(dst: SqlToken, src: SqlToken): void {
  dst.type = src.type;
  dst.pos = src.pos;
  dst.len = src.len;
  dst.val = src.val;
  dst.strOpen = src.strOpen;
  dst.strClose = src.strClose;
  dst.count = src.count;
}

const blank = (): SqlToken => ({
  type: '',
  pos: 0,
  len: 0,
  val: '',
  strOpen: '',
  strClose: '',
  count: 0,
});

function isUnaryOp(t: SqlToken): boolean {
  if (t.type !== 'o') return false;
  switch (t.len) {
    case 1:
      return t.val === '+' || t.val === '-' || t.val === '!' || t.val === '~';
    case 2:
      return t.val === '!!';
    case 3:
      return t.val.toUpperCase() === 'NOT';
    default:
      return false;
  }
}

const isArithmeticOp = (t: SqlToken) => t.type === 'o' && t.len === 1 && '*/-+%'.includes(t.val);

const ieq = (word: string, t: SqlToken) => t.val.toUpperCase() === word;

const MERGE_LEFT = new Set(['k', 'n', 'o', 'U', 'f', 'E', 'T', 't']);
const MERGE_RIGHT = new Set(['k', 'n', 'o', 'U', 'f', 'E', 'T', 't', '&']);

function mergeWords(a: SqlToken, b: SqlToken): boolean {
  if (!MERGE_LEFT.has(a.type) || !MERGE_RIGHT.has(b.type)) return false;
  const sz3 = a.len + b.len + 1;
  if (sz3 >= TOKEN_SIZE) return false;
  const tmp = `${a.val} ${b.val}`;
  const ch = lookupWord(tmp);
  if (ch === '') return false;
  a.type = ch;
  a.len = sz3;
  a.val = tmp;
  return true;
}

const FUNCTION_WORDS = new Set([
  'USER_ID',
  'USER_NAME',
  'DATABASE',
  'PASSWORD',
  'USER',
  'CURRENT_USER',
  'CURRENT_DATE',
  'CURRENT_TIME',
  'CURRENT_TIMESTAMP',
  'LOCALTIME',
  'LOCALTIMESTAMP',
]);

/** Five-token shapes where the sixth token may replace the second (libinjection's special case). */
function fiveTokenSpecial(v: SqlToken[]): boolean {
  const t = v.map((x) => x.type);
  return (
    (t[0] === '1' &&
      (t[1] === 'o' || t[1] === ',') &&
      t[2] === '(' &&
      t[3] === '1' &&
      t[4] === ')') ||
    (t[0] === 'n' &&
      t[1] === 'o' &&
      t[2] === '(' &&
      (t[3] === 'n' || t[3] === '1') &&
      t[4] === ')') ||
    (t[0] === '1' && t[1] === ')' && t[2] === ',' && t[3] === '(' && t[4] === '1') ||
    (t[0] === 'n' && t[1] === ')' && t[2] === 'o' && t[3] === '(' && t[4] === 'n')
  );
}

/** Two-token folds. Returns the new [pos, left] or undefined when nothing folded. */
function foldTwo(
  sf: SqliState,
  pos: number,
  left: number,
): { pos: number; left: number; done?: number } | 'next' | undefined {
  const v = sf.tokenvec;
  const a = v[left] as SqlToken;
  const b = v[left + 1] as SqlToken;
  if (a.type === 's' && b.type === 's') return { pos: pos - 1, left };
  if (a.type === ';' && b.type === ';') return { pos: pos - 1, left };
  if ((a.type === 'o' || a.type === '&') && (isUnaryOp(b) || b.type === 't')) {
    return { pos: pos - 1, left: 0 };
  }
  if (a.type === '(' && isUnaryOp(b)) return { pos: pos - 1, left: left > 0 ? left - 1 : 0 };
  if (mergeWords(a, b)) return { pos: pos - 1, left: left > 0 ? left - 1 : 0 };
  if (
    a.type === ';' &&
    b.type === 'f' &&
    (b.val[0] === 'I' || b.val[0] === 'i') &&
    (b.val[1] === 'F' || b.val[1] === 'f')
  ) {
    b.type = 'T';
    return { pos, left };
  }
  if (
    (a.type === 'n' || a.type === 'v') &&
    b.type === '(' &&
    FUNCTION_WORDS.has(a.val.toUpperCase())
  ) {
    a.type = 'f';
    return { pos, left };
  }
  if (a.type === 'k' && (ieq('IN', a) || ieq('NOT IN', a))) {
    a.type = b.type === '(' ? 'o' : 'n';
    return { pos, left };
  }
  if (a.type === 'o' && (ieq('LIKE', a) || ieq('NOT LIKE', a))) {
    if (b.type === '(') a.type = 'f';
    return 'next';
  }
  if (a.type === 't' && 'n1t(fvs'.includes(b.type)) {
    copy(a, b);
    return { pos: pos - 1, left: 0 };
  }
  if (a.type === 'A' && b.type === 'n') {
    if (b.val.includes('_')) {
      b.type = 't';
      return { pos, left: 0, done: -1 };
    }
    return 'next';
  }
  if (a.type === '\\') {
    if (isArithmeticOp(b)) {
      a.type = '1';
      return { pos, left: 0 };
    }
    copy(a, b);
    return { pos: pos - 1, left: 0 };
  }
  if (a.type === '(' && b.type === '(') return { pos: pos - 1, left: 0 };
  if (a.type === ')' && b.type === ')') return { pos: pos - 1, left: 0 };
  if (a.type === '{' && b.type === 'n') {
    if (b.len === 0) {
      b.type = 'X';
      return { pos, left, done: left + 2 };
    }
    return { pos: pos - 2, left: 0 };
  }
  if (b.type === '}') return { pos: pos - 1, left: 0 };
  return undefined;
}

/** Three-token folds. */
function foldThree(
  sf: SqliState,
  pos: number,
  left: number,
): { pos: number; left: number } | undefined {
  const v = sf.tokenvec;
  const a = v[left] as SqlToken;
  const b = v[left + 1] as SqlToken;
  const c = v[left + 2] as SqlToken;
  if (a.type === '1' && b.type === 'o' && c.type === '1') return { pos: pos - 2, left: 0 };
  if (a.type === 'o' && b.type !== '(' && c.type === 'o') return { pos: pos - 2, left: 0 };
  if (a.type === '&' && c.type === '&') return { pos: pos - 2, left: 0 };
  if (a.type === 'v' && b.type === 'o' && (c.type === 'v' || c.type === '1' || c.type === 'n')) {
    return { pos: pos - 2, left: 0 };
  }
  if ((a.type === 'n' || a.type === '1') && b.type === 'o' && (c.type === '1' || c.type === 'n')) {
    return { pos: pos - 2, left: 0 };
  }
  if ('n1vs'.includes(a.type) && b.type === 'o' && b.val === '::' && c.type === 't') {
    return { pos: pos - 2, left: 0 };
  }
  if ('n1sv'.includes(a.type) && b.type === ',' && '1nsv'.includes(c.type)) {
    return { pos: pos - 2, left: 0 };
  }
  if ((a.type === 'E' || a.type === 'B' || a.type === ',') && isUnaryOp(b) && c.type === '(') {
    copy(b, c);
    return { pos: pos - 1, left: 0 };
  }
  if (
    (a.type === 'k' || a.type === 'E' || a.type === 'B') &&
    isUnaryOp(b) &&
    '1nvsf'.includes(c.type)
  ) {
    copy(b, c);
    return { pos: pos - 1, left: 0 };
  }
  if (a.type === ',' && isUnaryOp(b) && '1nvs'.includes(c.type)) {
    copy(b, c);
    return { pos: pos - 3, left: 0 };
  }
  if (a.type === ',' && isUnaryOp(b) && c.type === 'f') {
    copy(b, c);
    return { pos: pos - 1, left: 0 };
  }
  if (a.type === 'n' && b.type === '.' && c.type === 'n') return { pos: pos - 2, left: 0 };
  if (a.type === 'E' && b.type === '.' && c.type === 'n') {
    copy(b, c);
    return { pos: pos - 1, left: 0 };
  }
  if (a.type === 'f' && b.type === '(' && c.type !== ')') {
    // USER() takes no arguments: "user (x" is not the function
    if (ieq('USER', a)) a.type = 'n';
  }
  return undefined;
}

/**
 * Folds the input's tokens into `sf.tokenvec`; returns how many are kept (at most five).
 * @example fold(new SqliState("1 UNION SELECT 2")) // 3
 */
export function fold(sf: SqliState): number {
  const lastComment = blank();
  let pos = 0;
  let left = 0;
  let more = true;
  const v = sf.tokenvec;

  sf.current = v[0] as SqlToken;
  while (more) {
    more = tokenize(sf);
    const t = sf.current;
    if (!(t.type === 'c' || t.type === '(' || t.type === 't' || isUnaryOp(t))) break;
  }
  if (!more) return 0;
  pos += 1;

  const pull = (want: number) => {
    while (more && pos <= MAX_TOKENS && pos - left < want) {
      sf.current = v[pos] as SqlToken;
      more = tokenize(sf);
      if (more) {
        if (sf.current.type === 'c') copy(lastComment, sf.current);
        else {
          lastComment.type = '';
          pos += 1;
        }
      }
    }
  };

  for (let guard = 0; guard < 1_000_000; guard++) {
    if (pos >= MAX_TOKENS && fiveTokenSpecial(v)) {
      if (pos > MAX_TOKENS) {
        copy(v[1] as SqlToken, v[MAX_TOKENS] as SqlToken);
        pos = 2;
      } else pos = 1;
      left = 0;
    }
    if (!more || left >= MAX_TOKENS) {
      left = pos;
      break;
    }
    pull(2);
    if (pos - left < 2) {
      left = pos;
      continue;
    }
    const two = foldTwo(sf, pos, left);
    if (two !== undefined && two !== 'next') {
      if (two.done !== undefined && two.done >= 0) return two.done;
      pos = two.pos;
      left = two.left;
      if (two.done === undefined) continue;
    }
    pull(3);
    if (pos - left < 3) {
      left = pos;
      continue;
    }
    const three = foldThree(sf, pos, left);
    if (three !== undefined) {
      pos = three.pos;
      left = three.left;
      continue;
    }
    left += 1;
  }

  if (left < MAX_TOKENS && lastComment.type === 'c') {
    copy(v[left] as SqlToken, lastComment);
    left += 1;
  }
  if (left > MAX_TOKENS) left = MAX_TOKENS;
  return left;
}

/** Tokenizes and folds with the given flags; returns the fingerprint (also in `sf.fingerprint`). */
export function fingerprint(sf: SqliState, flags: number): string {
  sf.reset(flags);
  const tlen = fold(sf);
  const v = sf.tokenvec;
  const last = v[tlen - 1];
  // PHP's unclosed empty backtick at the end acts as a comment
  if (
    tlen > 2 &&
    last !== undefined &&
    last.type === 'n' &&
    last.strOpen === '`' &&
    last.len === 0 &&
    last.strClose === ''
  ) {
    last.type = 'c';
  }
  let fp = '';
  for (let i = 0; i < tlen; i++) fp += (v[i] as SqlToken).type;
  if (fp.includes('X')) {
    fp = 'X';
    const first = v[0] as SqlToken;
    first.type = 'X';
    first.val = 'X';
    (v[1] as SqlToken).type = '';
  }
  sf.fingerprint = fp;
  return fp;
}

/** libinjection's filters that turn down short fingerprints seen in benign text. */
function notWhitelist(sf: SqliState): boolean {
  const fp = sf.fingerprint;
  const tlen = fp.length;
  const v = sf.tokenvec;
  const t0 = v[0] as SqlToken;
  const t1 = v[1] as SqlToken;
  if (tlen > 1 && fp[tlen - 1] === 'c' && sf.s.includes('sp_password')) return true;
  if (tlen === 2) {
    if (fp[1] === 'U') return sf.statsTokens !== 2;
    if (t1.val[0] === '#') return false;
    if (t0.type === 'n' && t1.type === 'c' && t1.val[0] !== '/') return false;
    if (t0.type === '1' && t1.type === 'c' && t1.val[0] === '/') return true;
    if (t0.type === '1' && t1.type === 'c') {
      if (sf.statsTokens > 2) return true;
      const code = t0.len < sf.slen ? sf.s.charCodeAt(t0.len) : 0;
      // upstream reads a signed char: bytes over 127 count as "whitespace" too
      if (code <= 32 || code >= 128) return true;
      const ch = sf.s[t0.len];
      const ch2 = sf.s[t0.len + 1];
      if (ch === '/' && ch2 === '*') return true;
      if (ch === '-' && ch2 === '-') return true;
      return false;
    }
    if (t1.len > 2 && t1.val[0] === '-') return false;
    return true;
  }
  if (tlen === 3) {
    if (fp === 'sos' || fp === 's&s') {
      const t2 = v[2] as SqlToken;
      return t0.strOpen === '' && t2.strClose === '' && t0.strClose === t2.strOpen;
    }
    if (fp === 's&n' || fp === 'n&1' || fp === '1&1' || fp === '1&v' || fp === '1&s') {
      if (sf.statsTokens === 3) return false;
    } else if (t1.type === 'k') {
      if (t1.len < 5 || t1.val.slice(0, 4).toUpperCase() !== 'INTO') return false;
    }
  }
  return true;
}

function checkFingerprint(sf: SqliState): boolean {
  return isKnownFingerprint(sf.fingerprint) && notWhitelist(sf);
}

/**
 * libinjection_is_sqli: tries the input as-is, then as if inside a single- or double-quoted
 * string, under ANSI and MySQL comment rules.
 * @example isSqli(new SqliState("1' OR '1'='1")) // true; fingerprint "s&sos"
 */
export function isSqli(sf: SqliState): boolean {
  const { s } = sf;
  if (sf.slen === 0) return false;
  const reparseMysql = () => sf.statsCommentDdx > 0 || sf.statsCommentHash > 0;
  fingerprint(sf, FLAG_QUOTE_NONE | FLAG_SQL_ANSI);
  if (checkFingerprint(sf)) return true;
  if (reparseMysql()) {
    fingerprint(sf, FLAG_QUOTE_NONE | FLAG_SQL_MYSQL);
    if (checkFingerprint(sf)) return true;
  }
  if (s.includes("'")) {
    fingerprint(sf, FLAG_QUOTE_SINGLE | FLAG_SQL_ANSI);
    if (checkFingerprint(sf)) return true;
    if (reparseMysql()) {
      fingerprint(sf, FLAG_QUOTE_SINGLE | FLAG_SQL_MYSQL);
      if (checkFingerprint(sf)) return true;
    }
  }
  if (s.includes('"')) {
    fingerprint(sf, FLAG_QUOTE_DOUBLE | FLAG_SQL_MYSQL);
    if (checkFingerprint(sf)) return true;
  }
  return false;
}

/**
 * @detectSQLi: the fingerprint when the byte string looks like SQL injection, else undefined.
 * @example detectSqli("-1' and 1=1 union/* foo *\/select load_file('/etc/passwd')--") // 's&1UE'
 */
export function detectSqli(bytes: string): string | undefined {
  const sf = new SqliState(bytes);
  return isSqli(sf) ? sf.fingerprint : undefined;
}
