/**
 * SQL injection detection after libinjection (Nick Galbreath): a SQL tokenizer that treats the
 * input as a fragment of any dialect, a folding pass that reduces it to at most five token types
 * (the "fingerprint"), and a lookup of that fingerprint in libinjection's known-attack set.
 * Written from libinjection's documented behaviour and its own test data, not from its C source.
 * Inputs are "byte strings": one char per byte (0-255); use `toByteString` on JS text.
 * Not a SQL parser: it never decides what a query means, only what it looks like.
 */
import { CHARMAP, FINGERPRINTS, KEYWORDS_TSV } from './libinjection-data.js';

export const FLAG_QUOTE_NONE = 1;
export const FLAG_QUOTE_SINGLE = 2;
export const FLAG_QUOTE_DOUBLE = 4;
export const FLAG_SQL_ANSI = 8;
export const FLAG_SQL_MYSQL = 16;

const TOKEN_SIZE = 32;
const MAX_TOKENS = 5;

export interface SqlToken {
  type: string;
  pos: number;
  len: number;
  val: string;
  strOpen: string;
  strClose: string;
  count: number;
}

const newToken = (): SqlToken => ({
  type: '',
  pos: 0,
  len: 0,
  val: '',
  strOpen: '',
  strClose: '',
  count: 0,
});

function _copyToken(dst: SqlToken, src: SqlToken): void {
  dst.type = src.type;
  dst.pos = src.pos;
  dst.len = src.len;
  dst.val = src.val;
  dst.strOpen = src.strOpen;
  dst.strClose = src.strClose;
  dst.count = src.count;
}

function clearToken(t: SqlToken): void {
  t.type = '';
  t.pos = 0;
  t.len = 0;
  t.val = '';
  t.strOpen = '';
  t.strClose = '';
  t.count = 0;
}

function assign(t: SqlToken, type: string, pos: number, len: number, value: string): void {
  const last = len < TOKEN_SIZE ? len : TOKEN_SIZE - 1;
  t.type = type;
  t.pos = pos;
  t.len = last;
  t.val = value.slice(0, last);
}

const KEYWORDS = new Map<string, string>();
for (const line of KEYWORDS_TSV.split('\n')) {
  const tab = line.indexOf('\t');
  KEYWORDS.set(line.slice(0, tab), line.slice(tab + 1));
}
const FINGERPRINT_SET = new Set(FINGERPRINTS.split(' ').map((f) => f.toUpperCase()));

/** Keyword type of a word (case-insensitive), or '' when it is not a keyword. */
export function lookupWord(word: string): string {
  if (word.includes('\0')) return '';
  return KEYWORDS.get(asciiUpper(word)) ?? '';
}

function asciiUpper(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c >= 97 && c <= 122 ? String.fromCharCode(c - 32) : s[i];
  }
  return out;
}

/** Whether a fingerprint is in libinjection's attack set. */
export function isKnownFingerprint(fp: string): boolean {
  return fp.length > 0 && FINGERPRINT_SET.has(asciiUpper(fp));
}

/** JS text to its UTF-8 bytes as a byte string, the form the tokenizers read. */
export function toByteString(text: string): string {
  if (/^[\x00-\x7f]*$/.test(text)) return text;
  const bytes = new TextEncoder().encode(text);
  let out = '';
  for (let i = 0; i < bytes.length; i += 8192) {
    out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return out;
}

const isWhite = (c: string) => ' \t\n\v\f\r\xa0\0'.includes(c);

function cspn(s: string, start: number, end: number, reject: string): number {
  let i = start;
  while (i < end && !reject.includes(s[i] as string) && s[i] !== '\0') i++;
  return i - start;
}

function spn(s: string, start: number, end: number, accept: string): number {
  let i = start;
  while (i < end && accept.includes(s[i] as string)) i++;
  return i - start;
}

/** Index of c0 immediately followed by c1, searching [start, end), or -1. */
function memchr2(s: string, start: number, end: number, c0: string, c1: string): number {
  if (end - start < 2) return -1;
  let cur = start;
  const last = end - 1;
  for (; cur < last; cur++) {
    if (s[cur] === c0 && s[cur + 1] === c1) return cur;
  }
  return -1;
}

function memchr(s: string, start: number, end: number, c: string): number {
  const i = s.indexOf(c, start);
  return i === -1 || i >= end ? -1 : i;
}

type Parser = (sf: SqliState) => number;

/** Tokenizer and folding state for one input and one set of flags. */
export class SqliState {
  readonly s: string;
  readonly slen: number;
  flags: number;
  pos = 0;
  current: SqlToken = newToken();
  tokenvec: SqlToken[] = Array.from({ length: MAX_TOKENS + 3 }, newToken);
  fingerprint = '';
  statsCommentDdw = 0;
  statsCommentDdx = 0;
  statsCommentC = 0;
  statsCommentHash = 0;
  statsFolds = 0;
  statsTokens = 0;

  constructor(s: string, flags: number = FLAG_QUOTE_NONE | FLAG_SQL_ANSI) {
    this.s = s;
    this.slen = s.length;
    this.flags = flags === 0 ? FLAG_QUOTE_NONE | FLAG_SQL_ANSI : flags;
  }

  reset(flags: number): void {
    this.flags = flags === 0 ? FLAG_QUOTE_NONE | FLAG_SQL_ANSI : flags;
    this.pos = 0;
    this.current = newToken();
    this.tokenvec = Array.from({ length: MAX_TOKENS + 3 }, newToken);
    this.fingerprint = '';
    this.statsCommentDdw = 0;
    this.statsCommentDdx = 0;
    this.statsCommentC = 0;
    this.statsCommentHash = 0;
    this.statsFolds = 0;
    this.statsTokens = 0;
  }
}

const parseWhite: Parser = (sf) => sf.pos + 1;

const parseOperator1: Parser = (sf) => {
  assign(sf.current, 'o', sf.pos, 1, sf.s[sf.pos] as string);
  return sf.pos + 1;
};

const parseOther: Parser = (sf) => {
  assign(sf.current, '?', sf.pos, 1, sf.s[sf.pos] as string);
  return sf.pos + 1;
};

const parseChar: Parser = (sf) => {
  const c = sf.s[sf.pos] as string;
  assign(sf.current, c, sf.pos, 1, c);
  return sf.pos + 1;
};

const parseEolComment: Parser = (sf) => {
  const { s, slen, pos } = sf;
  const end = memchr(s, pos, slen, '\n');
  if (end === -1) {
    assign(sf.current, 'c', pos, slen - pos, s.slice(pos));
    return slen;
  }
  assign(sf.current, 'c', pos, end - pos, s.slice(pos, end));
  return end + 1;
};

const parseHash: Parser = (sf) => {
  sf.statsCommentHash += 1;
  if (sf.flags & FLAG_SQL_MYSQL) {
    sf.statsCommentHash += 1;
    return parseEolComment(sf);
  }
  assign(sf.current, 'o', sf.pos, 1, '#');
  return sf.pos + 1;
};

const parseDash: Parser = (sf) => {
  const { s, slen, pos } = sf;
  if (pos + 2 < slen && s[pos + 1] === '-' && isWhite(s[pos + 2] as string)) {
    return parseEolComment(sf);
  }
  if (pos + 2 === slen && s[pos + 1] === '-') return parseEolComment(sf);
  if (pos + 1 < slen && s[pos + 1] === '-' && sf.flags & FLAG_SQL_ANSI) {
    sf.statsCommentDdx += 1;
    return parseEolComment(sf);
  }
  assign(sf.current, 'o', pos, 1, '-');
  return pos + 1;
};

const parseSlash: Parser = (sf) => {
  const { s, slen, pos } = sf;
  if (pos + 1 === slen || s[pos + 1] !== '*') return parseOperator1(sf);
  const end = memchr2(s, pos + 2, slen, '*', '/');
  const clen = end === -1 ? slen - pos : end + 2 - pos;
  let ctype = 'c';
  // A nested "/*" inside the comment (PostgreSQL nests them) or a MySQL "/*!" comment, which
  // MySQL executes, make the rest unparseable: evil.
  if (end !== -1 && memchr2(s, pos + 2, pos + 2 + (end - (pos + 1)), '/', '*') !== -1) {
    ctype = 'X';
  } else if (pos + 2 < slen && s[pos + 2] === '!') {
    ctype = 'X';
  }
  assign(sf.current, ctype, pos, clen, s.slice(pos, pos + clen));
  return pos + clen;
};

const parseBackslash: Parser = (sf) => {
  const { s, slen, pos } = sf;
  if (pos + 1 < slen && s[pos + 1] === 'N') {
    assign(sf.current, '1', pos, 2, s.slice(pos, pos + 2));
    return pos + 2;
  }
  assign(sf.current, '\\', pos, 1, s[pos] as string);
  return pos + 1;
};

const parseOperator2: Parser = (sf) => {
  const { s, slen, pos } = sf;
  if (pos + 1 >= slen) return parseOperator1(sf);
  if (pos + 2 < slen && s[pos] === '<' && s[pos + 1] === '=' && s[pos + 2] === '>') {
    assign(sf.current, 'o', pos, 3, s.slice(pos, pos + 3));
    return pos + 3;
  }
  const two = s.slice(pos, pos + 2);
  const ch = lookupWord(two);
  if (ch !== '') {
    assign(sf.current, ch, pos, 2, two);
    return pos + 2;
  }
  if (s[pos] === ':') {
    assign(sf.current, ':', pos, 1, ':');
    return pos + 1;
  }
  return parseOperator1(sf);
};

function isBackslashEscaped(s: string, end: number, start: number): boolean {
  let i = end;
  while (i >= start && s[i] === '\\') i--;
  return (end - i) % 2 === 1;
}

function parseStringCore(
  s: string,
  len: number,
  pos: number,
  st: SqlToken,
  delim: string,
  offset: number,
): number {
  let q = memchr(s, pos + offset, len, delim);
  st.strOpen = offset > 0 ? delim : '';
  for (;;) {
    if (q === -1) {
      assign(st, 's', pos + offset, len - pos - offset, s.slice(pos + offset, len));
      st.strClose = '';
      return len;
    }
    if (isBackslashEscaped(s, q - 1, pos + offset)) {
      q = memchr(s, q + 1, len, delim);
      continue;
    }
    if (q + 1 < len && s[q + 1] === s[q]) {
      q = memchr(s, q + 2, len, delim);
      continue;
    }
    assign(st, 's', pos + offset, q - (pos + offset), s.slice(pos + offset, q));
    st.strClose = delim;
    return q + 1;
  }
}

const parseString: Parser = (sf) =>
  parseStringCore(sf.s, sf.slen, sf.pos, sf.current, sf.s[sf.pos] as string, 1);

const parseEstring: Parser = (sf) => {
  const { s, slen, pos } = sf;
  if (pos + 2 >= slen || s[pos + 1] !== "'") return parseWord(sf);
  return parseStringCore(s, slen, pos, sf.current, "'", 2);
};

const parseUstring: Parser = (sf) => {
  const { s, slen, pos } = sf;
  if (pos + 2 < slen && s[pos + 1] === '&' && s[pos + 2] === "'") {
    sf.pos += 2;
    const next = parseString(sf);
    sf.current.strOpen = 'u';
    if (sf.current.strClose === "'") sf.current.strClose = 'u';
    return next;
  }
  return parseWord(sf);
};

function parseQstringCore(sf: SqliState, offset: number): number {
  const { s, slen } = sf;
  const pos = sf.pos + offset;
  if (pos >= slen || (s[pos] !== 'q' && s[pos] !== 'Q') || pos + 2 >= slen || s[pos + 1] !== "'") {
    return parseWord(sf);
  }
  let ch = s[pos + 2] as string;
  const code = ch.charCodeAt(0);
  if (code < 33 || code > 127) return parseWord(sf);
  ch = ({ '(': ')', '[': ']', '{': '}', '<': '>' } as Record<string, string>)[ch] ?? ch;
  const end = memchr2(s, pos + 3, slen, ch, "'");
  if (end === -1) {
    assign(sf.current, 's', pos + 3, slen - pos - 3, s.slice(pos + 3));
    sf.current.strOpen = 'q';
    sf.current.strClose = '';
    return slen;
  }
  assign(sf.current, 's', pos + 3, end - pos - 3, s.slice(pos + 3, end));
  sf.current.strOpen = 'q';
  sf.current.strClose = 'q';
  return end + 2;
}

const parseQstring: Parser = (sf) => parseQstringCore(sf, 0);

const parseNqstring: Parser = (sf) => {
  const { s, slen, pos } = sf;
  if (pos + 2 < slen && s[pos + 1] === "'") return parseEstring(sf);
  return parseQstringCore(sf, 1);
};

function parseQuotedDigits(sf: SqliState, digits: string): number {
  const { s, slen, pos } = sf;
  if (pos + 2 >= slen || s[pos + 1] !== "'") return parseWord(sf);
  const wlen = spn(s, pos + 2, slen, digits);
  if (pos + 2 + wlen >= slen || s[pos + 2 + wlen] !== "'") return parseWord(sf);
  assign(sf.current, '1', pos, wlen + 3, s.slice(pos, pos + wlen + 3));
  return pos + 2 + wlen + 1;
}

const parseBstring: Parser = (sf) => parseQuotedDigits(sf, '01');
const parseXstring: Parser = (sf) => parseQuotedDigits(sf, '0123456789ABCDEFabcdef');

const parseBword: Parser = (sf) => {
  const { s, slen, pos } = sf;
  const end = memchr(s, pos, slen, ']');
  if (end === -1) {
    assign(sf.current, 'n', pos, slen - pos, s.slice(pos));
    return slen;
  }
  assign(sf.current, 'n', pos, end - pos + 1, s.slice(pos, end + 1));
  return end + 1;
};

const WORD_END = ' []{}<>:\\?=@!#~+-*/&|^%(),\';\t\n\v\f\r"\xa0';

function parseWord(sf: SqliState): number {
  const { s, slen, pos } = sf;
  const wlen = cspn(s, pos, slen, WORD_END);
  assign(sf.current, 'n', pos, wlen, s.slice(pos, pos + wlen));
  const val = sf.current.val;
  for (let i = 0; i < sf.current.len; i++) {
    const d = val[i];
    if (d === '.' || d === '`') {
      const ch = lookupWord(val.slice(0, i));
      if (ch !== '' && ch !== 'n') {
        clearToken(sf.current);
        assign(sf.current, ch, pos, i, s.slice(pos, pos + i));
        return pos + i;
      }
    }
  }
  if (wlen < TOKEN_SIZE) {
    const ch = lookupWord(val.slice(0, wlen));
    sf.current.type = ch === '' ? 'n' : ch;
  }
  return pos + wlen;
}

const parseTick: Parser = (sf) => {
  const next = parseStringCore(sf.s, sf.slen, sf.pos, sf.current, '`', 1);
  const ch = lookupWord(sf.current.val);
  sf.current.type = ch === 'f' ? 'f' : 'n';
  return next;
};

const parseVar: Parser = (sf) => {
  const { s, slen, pos } = sf;
  let pos1 = pos + 1;
  if (pos1 < slen && s[pos1] === '@') {
    pos1 += 1;
    sf.current.count = 2;
  } else {
    sf.current.count = 1;
  }
  if (pos1 < slen) {
    if (s[pos1] === '`') {
      sf.pos = pos1;
      const next = parseTick(sf);
      sf.current.type = 'v';
      return next;
    }
    if (s[pos1] === "'" || s[pos1] === '"') {
      sf.pos = pos1;
      const next = parseString(sf);
      sf.current.type = 'v';
      return next;
    }
  }
  const xlen = cspn(s, pos1, slen, " <>:\\?=@!#~+-*/&|^%(),';\t\n\v\f\r'`\"");
  if (xlen === 0) {
    assign(sf.current, 'v', pos, 0, '');
    return pos1;
  }
  assign(sf.current, 'v', pos, xlen, s.slice(pos1, pos1 + xlen));
  return pos1 + xlen;
};

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

const parseMoney: Parser = (sf) => {
  const { s, slen, pos } = sf;
  const cur = sf.current;
  if (pos + 1 === slen) {
    assign(cur, 'n', pos, 1, '$');
    return slen;
  }
  let xlen = spn(s, pos + 1, slen, '0123456789.,');
  if (xlen === 0) {
    if (s[pos + 1] === '$') {
      const end = memchr2(s, pos + 2, slen, '$', '$');
      if (end === -1) {
        assign(cur, 's', pos + 2, slen - (pos + 2), s.slice(pos + 2));
        cur.strOpen = '$';
        cur.strClose = '';
        return slen;
      }
      assign(cur, 's', pos + 2, end - (pos + 2), s.slice(pos + 2, end));
      cur.strOpen = '$';
      cur.strClose = '$';
      return end + 2;
    }
    // PostgreSQL $tag$ … $tag$ strings
    xlen = spn(s, pos + 1, slen, LETTERS);
    if (xlen === 0 || pos + xlen + 1 === slen || s[pos + xlen + 1] !== '$') {
      assign(cur, 'n', pos, 1, '$');
      return pos + 1;
    }
    const tag = s.slice(pos, pos + xlen + 2);
    const start = pos + xlen + 2;
    const end = s.indexOf(tag, start);
    if (end === -1) {
      assign(cur, 's', start, slen - start, s.slice(start));
      cur.strOpen = '$';
      cur.strClose = '';
      return slen;
    }
    assign(cur, 's', start, end - start, s.slice(start, end));
    cur.strOpen = '$';
    cur.strClose = '$';
    return end + xlen + 2;
  }
  if (xlen === 1 && s[pos + 1] === '.') return parseWord(sf);
  assign(cur, '1', pos, 1 + xlen, s.slice(pos, pos + 1 + xlen));
  return pos + 1 + xlen;
};

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

const parseNumber: Parser = (sf) => {
  const { s, slen } = sf;
  let pos = sf.pos;
  if (s[pos] === '0' && pos + 1 < slen) {
    const c1 = s[pos + 1];
    const digits =
      c1 === 'X' || c1 === 'x'
        ? '0123456789ABCDEFabcdef'
        : c1 === 'B' || c1 === 'b'
          ? '01'
          : undefined;
    if (digits !== undefined) {
      const xlen = spn(s, pos + 2, slen, digits);
      if (xlen === 0) {
        assign(sf.current, 'n', pos, 2, s.slice(pos, pos + 2));
        return pos + 2;
      }
      assign(sf.current, '1', pos, 2 + xlen, s.slice(pos, pos + 2 + xlen));
      return pos + 2 + xlen;
    }
  }
  const start = pos;
  while (pos < slen && isDigit(s[pos])) pos++;
  if (pos < slen && s[pos] === '.') {
    pos++;
    while (pos < slen && isDigit(s[pos])) pos++;
    if (pos - start === 1) {
      assign(sf.current, '.', start, 1, '.');
      return pos;
    }
  }
  let haveE = false;
  let haveExp = false;
  if (pos < slen && (s[pos] === 'E' || s[pos] === 'e')) {
    haveE = true;
    pos++;
    if (pos < slen && (s[pos] === '+' || s[pos] === '-')) pos++;
    while (pos < slen && isDigit(s[pos])) {
      haveExp = true;
      pos++;
    }
  }
  // Oracle's float/double suffixes: "1.4f", "1.4d"
  if (pos < slen && 'dDfF'.includes(s[pos] as string)) {
    const next = s[pos + 1];
    if (pos + 1 === slen) pos++;
    else if (isWhite(next as string) || next === ';') pos++;
    else if (next === 'u' || next === 'U') pos++;
  }
  assign(sf.current, haveE && !haveExp ? 'n' : '1', start, pos - start, s.slice(start, pos));
  return pos;
};

const PARSERS: Record<string, Parser> = {
  WHITE: parseWhite,
  BANG: parseOperator2,
  STR: parseString,
  HASH: parseHash,
  MONEY: parseMoney,
  OP1: parseOperator1,
  OP2: parseOperator2,
  LEFTPARENS: parseChar,
  RIGHTPARENS: parseChar,
  LEFTBRACE: parseChar,
  RIGHTBRACE: parseChar,
  COMMA: parseChar,
  SEMICOLON: parseChar,
  UNARY: parseOperator1,
  DASH: parseDash,
  NUM: parseNumber,
  SLASH: parseSlash,
  OTHER: parseOther,
  VAR: parseVar,
  WORD: parseWord,
  BSTRING: parseBstring,
  ESTRING: parseEstring,
  NQSTRING: parseNqstring,
  QSTRING: parseQstring,
  USTRING: parseUstring,
  XSTRING: parseXstring,
  BWORD: parseBword,
  BACK: parseBackslash,
  TICK: parseTick,
};

const CHAR_PARSERS: Parser[] = CHARMAP.map((name) => {
  const p = PARSERS[name];
  if (p === undefined) throw new Error(`libinjection table: no parser for CHAR_${name}`);
  return p;
});

/** Reads the next token into `sf.current`; false at the end of input. */
export function tokenize(sf: SqliState): boolean {
  const { s, slen } = sf;
  if (slen === 0) return false;
  const cur = sf.current;
  clearToken(cur);
  if (sf.pos === 0 && sf.flags & (FLAG_QUOTE_SINGLE | FLAG_QUOTE_DOUBLE)) {
    const delim = sf.flags & FLAG_QUOTE_SINGLE ? "'" : '"';
    sf.pos = parseStringCore(s, slen, 0, cur, delim, 0);
    sf.statsTokens += 1;
    return true;
  }
  while (sf.pos < slen) {
    const parser = CHAR_PARSERS[s.charCodeAt(sf.pos) & 0xff] as Parser;
    sf.pos = parser(sf);
    if (cur.type !== '') {
      sf.statsTokens += 1;
      return true;
    }
  }
  return false;
}
