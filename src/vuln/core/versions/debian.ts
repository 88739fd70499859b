/**
 * Debian (dpkg) version order, as deb-version(7) and dpkg's verrevcmp define it:
 * [epoch:]upstream[-revision]; `~` sorts before everything, even the end of the string;
 * letters sort before non-letters. Not a validator: dpkg's syntax checks live in the parsers.
 */
import { cmpDigits, type Ordering } from './num.js';

interface DebianVersion {
  epoch: string;
  upstream: string;
  revision: string;
}

export function parseDebian(input: string): DebianVersion {
  let s = input.trim();
  let epoch = '0';
  const colon = s.indexOf(':');
  if (colon >= 0) {
    epoch = s.slice(0, colon);
    s = s.slice(colon + 1);
    if (!/^[0-9]*$/.test(epoch)) epoch = '0';
    if (epoch === '') epoch = '0';
  }
  const dash = s.lastIndexOf('-');
  if (dash >= 0) return { epoch, upstream: s.slice(0, dash), revision: s.slice(dash + 1) };
  return { epoch, upstream: s, revision: '0' };
}

function order(c: number | undefined): number {
  if (c === undefined) return 0;
  if (c === 0x7e) return -1; // ~
  if (c >= 0x30 && c <= 0x39) return 0;
  if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) return c;
  return c + 256;
}

/** dpkg's verrevcmp on one part (upstream or revision). */
export function verrevcmp(a: string, b: string): Ordering {
  let i = 0;
  let j = 0;
  const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
  while (i < a.length || j < b.length) {
    while (
      (i < a.length && !isDigit(a.charCodeAt(i))) ||
      (j < b.length && !isDigit(b.charCodeAt(j)))
    ) {
      const ac = order(i < a.length && !isDigit(a.charCodeAt(i)) ? a.charCodeAt(i) : undefined);
      const bc = order(j < b.length && !isDigit(b.charCodeAt(j)) ? b.charCodeAt(j) : undefined);
      if (ac !== bc) return ac < bc ? -1 : 1;
      i++;
      j++;
    }
    let da = '';
    let db = '';
    while (i < a.length && isDigit(a.charCodeAt(i))) da += a[i++];
    while (j < b.length && isDigit(b.charCodeAt(j))) db += b[j++];
    const d = cmpDigits(da || '0', db || '0');
    if (d !== 0) return d;
  }
  return 0;
}

/** @example compareDebian('1:1.0', '2.0') === 1 */
export function compareDebian(a: string, b: string): Ordering {
  const x = parseDebian(a);
  const y = parseDebian(b);
  return (
    cmpDigits(x.epoch, y.epoch) ||
    verrevcmp(x.upstream, y.upstream) ||
    verrevcmp(x.revision, y.revision)
  );
}
