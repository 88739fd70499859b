/**
 * Maven version order (ComparableVersion as the Maven spec describes it): tokens split on
 * `.`, `-` and digit/letter transitions, trailing null values trimmed, qualifiers
 * alpha < beta < milestone < rc < snapshot < "" < sp < unknown (alphabetical).
 */
import { cmpDigits, cmpStr, isDigits, type Ordering } from './num.js';

interface Token {
  prefix: string;
  value: string;
  isNull: boolean;
}

const KEYWORDS = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];

function keywordIndex(k: string): number {
  const i = KEYWORDS.indexOf(k);
  return i < 0 ? KEYWORDS.length : i;
}

function prefixOrder(t: Token): number {
  const num = isDigits(t.value);
  if (num) return t.prefix === '-' ? 2 : 3;
  return t.prefix === '-' ? 1 : 0;
}

function tokenLess(v: Token, w: Token): boolean {
  if (v.prefix === w.prefix) {
    const vn = isDigits(v.value);
    const wn = isDigits(w.value);
    if (vn && wn) return cmpDigits(v.value, w.value) < 0;
    if (vn && !v.isNull) return false;
    if (wn && !w.isNull) return true;
    const li = keywordIndex(v.value);
    const ri = keywordIndex(w.value);
    if (li === KEYWORDS.length && ri === KEYWORDS.length) return v.value < w.value;
    return li < ri;
  }
  return prefixOrder(v) < prefixOrder(w);
}

function nullToken(t: Token): Token {
  if (t.prefix === '.') return { prefix: '.', value: t.value === 'sp' ? '' : '0', isNull: true };
  return { prefix: '-', value: '', isNull: true };
}

export function parseMaven(input: string): Token[] {
  const tokens: Token[] = [];
  const raw = input.split(/([.-])/);
  for (let i = 0; i < raw.length; i += 2) {
    let prefix = i === 0 ? '' : raw[i - 1]!;
    const piece = raw[i]!;
    const parts = piece.match(/\d+|\D+/g) ?? [''];
    parts.forEach((part, j) => {
      if (j > 0) prefix = '-';
      let cur = part.toLowerCase();
      if (cur === '') cur = '0';
      if (cur === 'cr') cur = 'rc';
      if (cur === 'ga' || cur === 'final' || cur === 'release') cur = '';
      if (j < parts.length - 1) {
        if (cur === 'a') cur = 'alpha';
        else if (cur === 'b') cur = 'beta';
        else if (cur === 'm') cur = 'milestone';
      }
      if (isDigits(cur)) cur = cur.replace(/^0+(?=\d)/, '');
      tokens.push({ prefix, value: cur, isNull: false });
    });
  }
  let i = tokens.length - 1;
  while (i > 0) {
    const t = tokens[i]!;
    if (t.value === '0' || t.value === '' || t.value === 'final' || t.value === 'ga') {
      tokens.splice(i, 1);
      i--;
      continue;
    }
    while (i >= 0 && tokens[i]!.prefix !== '-') i--;
    i--;
  }
  return tokens;
}

/** @example compareMaven('1.0-alpha-1', '1.0') === -1 */
export function compareMaven(a: string, b: string): Ordering {
  const x = parseMaven(a);
  const y = parseMaven(b);
  const n = Math.max(x.length, y.length);
  let allEqual = x.length === y.length;
  for (let i = 0; i < n; i++) {
    const l = i >= x.length ? nullToken(y[i]!) : x[i]!;
    const r = i >= y.length ? nullToken(x[i]!) : y[i]!;
    if (l.prefix === r.prefix && l.value === r.value) continue;
    allEqual = false;
    if (tokenLess(l, r)) return -1;
    return 1;
  }
  void allEqual;
  void cmpStr;
  return 0;
}
