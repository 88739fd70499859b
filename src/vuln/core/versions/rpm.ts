/**
 * RPM version order (rpmvercmp, with `~` and `^`), over [epoch:]version[-release]. Used for
 * Red Hat, Rocky, AlmaLinux, SUSE and openEuler advisories. Not a full NEVRA parser.
 */
import { cmpDigits, cmpStr, type Ordering } from './num.js';

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const isAlpha = (c: string | undefined) =>
  c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));

/** rpmvercmp on one segment. @example rpmvercmp('1.0~rc1', '1.0') === -1 */
export function rpmvercmp(a: string, b: string): Ordering {
  if (a === b) return 0;
  if (a === '' && b !== '') return -1;
  if (a !== '' && b === '') return 1;
  let i = 0;
  let j = 0;
  for (;;) {
    while (i < a.length && !isDigit(a[i]) && !isAlpha(a[i]) && a[i] !== '~' && a[i] !== '^') i++;
    while (j < b.length && !isDigit(b[j]) && !isAlpha(b[j]) && b[j] !== '~' && b[j] !== '^') j++;
    const at = a[i] === '~';
    const bt = b[j] === '~';
    if (at && bt) {
      i++;
      j++;
      continue;
    }
    if (at) return -1;
    if (bt) return 1;
    const ac = a[i] === '^';
    const bc = b[j] === '^';
    if (ac && bc) {
      i++;
      j++;
      continue;
    }
    if (ac) return j >= b.length ? 1 : -1;
    if (bc) return i >= a.length ? -1 : 1;
    if (i >= a.length || j >= b.length) break;
    const numeric = isDigit(a[i]);
    const test = numeric ? isDigit : isAlpha;
    let as = '';
    let bs = '';
    while (i < a.length && test(a[i])) as += a[i++];
    while (j < b.length && test(b[j])) bs += b[j++];
    if (bs === '') return numeric ? 1 : -1;
    const d = numeric ? cmpDigits(as, bs) : cmpStr(as, bs);
    if (d !== 0) return d;
  }
  const al = a.length - i;
  const bl = b.length - j;
  return al > bl ? 1 : al < bl ? -1 : 0;
}

export function parseRpm(s: string): { epoch: string; version: string; release: string } {
  let epoch = '0';
  let rest = s;
  const colon = s.indexOf(':');
  if (colon >= 0 && /^[0-9]*$/.test(s.slice(0, colon))) {
    epoch = s.slice(0, colon) || '0';
    rest = s.slice(colon + 1);
  }
  const dash = rest.indexOf('-');
  if (dash < 0) return { epoch, version: rest, release: '' };
  return { epoch, version: rest.slice(0, dash), release: rest.slice(dash) };
}

/** @example compareRpm('1:1.0-1.el8', '2.0-1') === 1 */
export function compareRpm(a: string, b: string): Ordering {
  const x = parseRpm(a);
  const y = parseRpm(b);
  return (
    rpmvercmp(x.epoch, y.epoch) ||
    rpmvercmp(x.version, y.version) ||
    rpmvercmp(x.release, y.release)
  );
}
