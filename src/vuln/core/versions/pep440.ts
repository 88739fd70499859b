/**
 * PEP 440 version order for PyPI (epoch, release, pre, post, dev, local), with the legacy
 * setuptools order for strings PEP 440 rejects (always below PEP 440 versions, as pip does).
 */
import { cmpDigitLists, cmpDigits, cmpStr, isDigits, type Ordering } from './num.js';

const PEP440 =
  /^\s*v?(?:(?:([0-9]+)!)?([0-9]+(?:\.[0-9]+)*)([-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?([0-9]+)?)?((?:-([0-9]+))|(?:[-_.]?(post|rev|r)[-_.]?([0-9]+)?))?([-_.]?(dev)[-_.]?([0-9]+)?)?)(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$/;

interface Part {
  letter: string;
  n: string;
}

export interface Pep440Version {
  epoch: string;
  release: string[];
  pre: Part | undefined;
  post: Part | undefined;
  dev: Part | undefined;
  local: string[];
  legacy: string[] | undefined;
}

function letterPart(letter: string | undefined, n: string | undefined): Part | undefined {
  if (letter) {
    let l = letter.toLowerCase();
    if (l === 'alpha') l = 'a';
    else if (l === 'beta') l = 'b';
    else if (l === 'c' || l === 'pre' || l === 'preview') l = 'rc';
    else if (l === 'rev' || l === 'r') l = 'post';
    return { letter: l, n: n || '0' };
  }
  if (n) return { letter: 'post', n };
  return undefined;
}

function legacyParts(s: string): string[] {
  const parts: string[] = [];
  const splits = [...(s.match(/(\d+|[a-z]+|\.|-)/g) ?? []), 'final'];
  for (let part of splits) {
    if (part === '' || part === '.') continue;
    if (part === 'pre' || part === 'preview' || part === 'rc') part = 'c';
    else if (part === '-') part = 'final-';
    else if (part === 'dev') part = '@';
    part = /^\d/.test(part) ? part.padStart(8, '0') : `*${part}`;
    if (part.startsWith('*')) {
      if (part < '*final')
        while (parts.length && parts[parts.length - 1] === '*final-') parts.pop();
      while (parts.length && parts[parts.length - 1] === '00000000') parts.pop();
    }
    parts.push(part);
  }
  return parts;
}

export function parsePep440(input: string): Pep440Version {
  const s = input.toLowerCase();
  const m = PEP440.exec(s);
  if (!m) {
    return {
      epoch: '0',
      release: [],
      pre: undefined,
      post: undefined,
      dev: undefined,
      local: [],
      legacy: legacyParts(s),
    };
  }
  return {
    epoch: m[1] ?? '0',
    release: m[2]!.split('.'),
    pre: letterPart(m[4], m[5]),
    post: letterPart(m[8], m[7] ?? m[9]),
    dev: letterPart(m[11], m[12]),
    local: m[13] ? m[13].split(/[._-]/) : [],
    legacy: undefined,
  };
}

function cmpOptional(a: Part | undefined, b: Part | undefined, missing: Ordering): Ordering {
  if (!a && !b) return 0;
  if (!a) return missing;
  if (!b) return -missing as Ordering;
  return cmpDigits(a.n, b.n);
}

/** Is this a version that sorts before any pre-release of its release (1.0.dev0 < 1.0a0)? */
function devOnly(v: Pep440Version): boolean {
  return !v.pre && !v.post && v.dev !== undefined;
}

function comparePre(x: Pep440Version, y: Pep440Version): Ordering {
  const xd = devOnly(x);
  const yd = devOnly(y);
  if (xd && yd) return 0;
  if (xd) return -1;
  if (yd) return 1;
  if (!x.pre && !y.pre) return 0;
  if (!x.pre) return 1;
  if (!y.pre) return -1;
  const a = x.pre.letter[0]!;
  const b = y.pre.letter[0]!;
  if (a !== b) return a < b ? -1 : 1;
  return cmpDigits(x.pre.n, y.pre.n);
}

function compareLocal(a: string[], b: string[]): Ordering {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const p = a[i]!;
    const q = b[i]!;
    const pn = isDigits(p);
    const qn = isDigits(q);
    const d = pn && qn ? cmpDigits(p, q) : !pn && !qn ? cmpStr(p, q) : pn ? 1 : -1;
    if (d !== 0) return d;
  }
  return a.length > b.length ? 1 : a.length < b.length ? -1 : 0;
}

export function comparePep440Parsed(x: Pep440Version, y: Pep440Version): Ordering {
  if (x.legacy || y.legacy) {
    if (!x.legacy) return 1;
    if (!y.legacy) return -1;
    return cmpStr(x.legacy.join(''), y.legacy.join(''));
  }
  return (
    cmpDigits(x.epoch, y.epoch) ||
    cmpDigitLists(x.release, y.release) ||
    comparePre(x, y) ||
    cmpOptional(x.post, y.post, -1) ||
    cmpOptional(x.dev, y.dev, 1) ||
    compareLocal(x.local, y.local)
  );
}

/** @example comparePep440('1.0.dev0', '1.0a1') === -1 */
export function comparePep440(a: string, b: string): Ordering {
  return comparePep440Parsed(parsePep440(a), parsePep440(b));
}
