/**
 * Helpers shared by the version comparators: arbitrary-length digit-string comparison (no
 * BigInt allocation) and sign normalisation. Not a comparator itself.
 */

/** -1, 0 or +1. */
export type Ordering = -1 | 0 | 1;

export function sign(n: number): Ordering {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

/** Compare two strings by UTF-16 code units (like Go's strings.Compare on ASCII). */
export function cmpStr(a: string, b: string): Ordering {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function isDigits(s: string): boolean {
  return s.length > 0 && /^[0-9]+$/.test(s);
}

/**
 * Compare two non-empty runs of ASCII digits by value, any length.
 * @example cmpDigits('010', '9') === 1
 */
export function cmpDigits(a: string, b: string): Ordering {
  const x = a.replace(/^0+/, '');
  const y = b.replace(/^0+/, '');
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return cmpStr(x, y);
}

/** Compare lists of digit strings, padding the shorter with "0". */
export function cmpDigitLists(a: readonly string[], b: readonly string[]): Ordering {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = cmpDigits(a[i] ?? '0', b[i] ?? '0');
    if (d !== 0) return d;
  }
  return 0;
}
