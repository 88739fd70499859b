/**
 * Alpine apk version order: number{.number}{letter}{_suffix{number}}{~hash}{-r#}, with
 * suffix weights alpha < beta < pre < rc < (none) < cvs < svn < git < hg < p. Invalid
 * versions compare as strings among themselves and below valid ones (as apk 3.x does).
 */
import { cmpDigits, cmpStr, type Ordering } from './num.js';

const SUFFIXES = ['alpha', 'beta', 'pre', 'rc', '', 'cvs', 'svn', 'git', 'hg', 'p'];

interface ApkVersion {
  original: string;
  numbers: string[];
  letter: string;
  suffixes: { weight: number; n: string }[];
  build: string;
  remainder: string;
  invalid: boolean;
}

export function parseApk(s: string): ApkVersion {
  const v: ApkVersion = {
    original: s,
    numbers: [],
    letter: '',
    suffixes: [],
    build: '0',
    remainder: '',
    invalid: false,
  };
  let rest = s;
  const nums = /^(?:\d+\.?)*/.exec(rest)?.[0] ?? '';
  if (nums) {
    v.numbers = nums.split('.');
    rest = rest.slice(nums.length);
  }
  if (/^[a-z]/.test(rest)) {
    v.letter = rest[0]!;
    rest = rest.slice(1);
  }
  const re = /_(alpha|beta|pre|rc|cvs|svn|git|hg|p)(\d*)/g;
  for (const m of rest.matchAll(re)) {
    v.suffixes.push({ weight: SUFFIXES.indexOf(m[1]!), n: m[2] || '0' });
    if (rest.startsWith(m[0])) rest = rest.slice(m[0].length);
  }
  const hash = /^~[0-9a-f]+/.exec(rest)?.[0];
  if (hash) rest = rest.slice(hash.length);
  if (rest !== '') {
    const b = /^-r(\d*)/.exec(rest);
    if (!b) v.invalid = true;
    else {
      v.build = b[1] || '0';
      rest = rest.slice(b[0].length);
    }
  }
  v.remainder = rest;
  return v;
}

function cmpNumber(a: string, ai: number, b: string, bi: number): Ordering {
  if (ai !== 0 && bi !== 0 && (a[0] === '0' || b[0] === '0')) return cmpStr(a, b);
  return cmpDigits(a, b);
}

/** @example compareApk('1.2.3_rc1-r0', '1.2.3-r0') === -1 */
export function compareApk(a: string, b: string): Ordering {
  const x = parseApk(a);
  const y = parseApk(b);
  if (x.invalid && y.invalid) return cmpStr(x.original, y.original);
  const n = Math.max(x.numbers.length, y.numbers.length);
  for (let i = 0; i < n; i++) {
    const xa = x.numbers[i];
    const ya = y.numbers[i];
    const d = cmpNumber(xa ?? '0', xa === undefined ? 0 : i, ya ?? '0', ya === undefined ? 0 : i);
    if (d !== 0) return d;
  }
  if (x.letter === '' && y.letter !== '') return -1;
  if (x.letter !== '' && y.letter === '') return 1;
  const l = cmpStr(x.letter, y.letter);
  if (l !== 0) return l;
  const m = Math.max(x.suffixes.length, y.suffixes.length);
  for (let i = 0; i < m; i++) {
    const xs = x.suffixes[i] ?? { weight: 4, n: '0' };
    const ys = y.suffixes[i] ?? { weight: 4, n: '0' };
    if (xs.weight !== ys.weight) return xs.weight < ys.weight ? -1 : 1;
    const d = cmpDigits(xs.n, ys.n);
    if (d !== 0) return d;
  }
  const bd = cmpDigits(x.build, y.build);
  if (bd !== 0) return bd;
  if (x.remainder === '' && y.remainder !== '') return 1;
  if (x.remainder !== '' && y.remainder === '') return -1;
  return 0;
}
