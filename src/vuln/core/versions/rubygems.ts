/**
 * RubyGems version order (Gem::Version#<=>): segments split on `.` and digit/letter
 * transitions, trailing zeros dropped, a letter segment marks a pre-release (lower).
 */
import { cmpDigits, cmpStr, isDigits, type Ordering } from './num.js';

function canonicalSegments(s: string): string[] {
  let canon = '';
  let checkPrevious = false;
  let previousWasDigit = true;
  for (const c of s) {
    if (c === '.') {
      checkPrevious = false;
      canon += '.';
      continue;
    }
    const digit = c >= '0' && c <= '9';
    if (checkPrevious && previousWasDigit !== digit) canon += '.';
    canon += c;
    previousWasDigit = digit;
    checkPrevious = true;
  }
  const segs = canon.split('.');
  const numbers: string[] = [];
  const build: string[] = [];
  for (const seg of segs) {
    if (build.length > 0 || !isDigits(seg)) build.push(seg);
    else numbers.push(seg);
  }
  const trim = (xs: string[]) => {
    let n = xs.length;
    while (n > 0 && /^0+$/.test(xs[n - 1]!)) n--;
    return xs.slice(0, n);
  };
  return [...trim(numbers), ...trim(build)];
}

/** @example compareRubyGems('1.2.4.beta', '1.2.4') === -1 */
export function compareRubyGems(a: string, b: string): Ordering {
  const x = canonicalSegments(a);
  const y = canonicalSegments(b);
  const n = Math.max(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const p = x[i] ?? '0';
    const q = y[i] ?? '0';
    const pn = isDigits(p);
    const qn = isDigits(q);
    if (pn && qn) {
      const d = cmpDigits(p, q);
      if (d !== 0) return d;
    } else if (!pn && !qn) {
      const d = cmpStr(p, q);
      if (d !== 0) return d;
    } else return pn ? 1 : -1;
  }
  return 0;
}
