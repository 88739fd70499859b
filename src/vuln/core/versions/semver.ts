/**
 * SemVer 2.0 precedence (npm, crates.io, Go, Hex): numeric components compared by value,
 * pre-releases lower than the release, build metadata ignored. Lenient like OSV: a leading
 * "v", any number of numeric components (beyond three they join the pre-release).
 */
import { cmpDigitLists, cmpDigits, cmpStr, isDigits, type Ordering } from './num.js';

export interface SemverLike {
  components: string[];
  build: string;
}

/** Split into numeric components and the rest (pre-release + build). */
export function parseSemverLike(input: string, maxComponents = 3): SemverLike {
  const s = input.startsWith('v') ? input.slice(1) : input;
  const comps: string[] = [];
  let cur = '';
  let build = '';
  let i = 0;
  for (; i < s.length; i++) {
    const c = s[i]!;
    if (c >= '0' && c <= '9') {
      cur += c;
      continue;
    }
    if (cur !== '') {
      comps.push(cur);
      cur = '';
    }
    if (c === '.') continue;
    build = s.slice(i);
    break;
  }
  if (i >= s.length && cur !== '') comps.push(cur);
  if (comps.length > maxComponents) {
    const extra = comps.splice(maxComponents);
    build = extra.map((e) => `.${e.replace(/^0+(?=\d)/, '')}`).join('') + build;
  }
  return { components: comps, build };
}

function comparePrerelease(a: string, b: string): Ordering {
  let x = a.split('+')[0]!;
  let y = b.split('+')[0]!;
  if (x.startsWith('-')) x = x.slice(1);
  if (y.startsWith('-')) y = y.slice(1);
  if (x === '' && y !== '') return 1;
  if (x !== '' && y === '') return -1;
  const xs = x.split('.');
  const ys = y.split('.');
  const n = Math.min(xs.length, ys.length);
  for (let i = 0; i < n; i++) {
    const p = xs[i]!;
    const q = ys[i]!;
    const pn = isDigits(p);
    const qn = isDigits(q);
    const d = pn && qn ? cmpDigits(p, q) : !pn && !qn ? cmpStr(p, q) : pn ? -1 : 1;
    if (d !== 0) return d;
  }
  return xs.length > ys.length ? 1 : xs.length < ys.length ? -1 : 0;
}

/** @example compareSemver('1.0.0-alpha', '1.0.0') === -1 */
export function compareSemver(a: string, b: string): Ordering {
  const x = parseSemverLike(a);
  const y = parseSemverLike(b);
  return cmpDigitLists(x.components, y.components) || comparePrerelease(x.build, y.build);
}
