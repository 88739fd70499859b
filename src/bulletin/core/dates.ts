/**
 * Feed date parsing: RFC 822/1123 (with the obsolete zones and two-digit years feeds still use),
 * W3C-DTF / ISO 8601 (full, reduced and basic forms), and a few common sloppy variants.
 * Returns a UTC epoch in ms, or undefined. Not a general natural-language date parser.
 */

/** English month abbreviations (lower case) to month numbers. */
export const MONTHS: Record<string, number> = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  oct: 10,
  nov: 11,
  dec: 12,
};

const ZONES: Record<string, number> = {
  ut: 0,
  utc: 0,
  gmt: 0,
  z: 0,
  est: -5,
  edt: -4,
  cst: -6,
  cdt: -5,
  mst: -7,
  mdt: -6,
  pst: -8,
  pdt: -7,
  jst: 9,
  a: -1,
  n: 1,
  m: -12,
  y: 12,
};

function zoneOffsetMinutes(z: string | undefined): number | undefined {
  if (!z) return 0;
  const lz = z.toLowerCase();
  if (lz in ZONES) return ZONES[lz]! * 60;
  const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(z);
  if (!m) return undefined;
  const mins = Number(m[2]) * 60 + Number(m[3] ?? 0);
  return m[1] === '-' ? -mins : mins;
}

function utc(
  y: number,
  mo: number,
  d: number,
  h = 0,
  mi = 0,
  s = 0,
  offMin = 0,
): number | undefined {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 24 || mi > 59 || s > 61) return undefined;
  const t = Date.UTC(y, mo - 1, d, h, mi, s) - offMin * 60_000;
  return Number.isFinite(t) ? t : undefined;
}

/**
 * Parse a feed date into epoch milliseconds (UTC).
 * @example parseFeedDate('Thu, 01 Jan 2004 19:48:21 GMT') === Date.UTC(2004, 0, 1, 19, 48, 21)
 */
export function parseFeedDate(input: string): number | undefined {
  const s = input.trim();
  if (!s) return undefined;
  // W3C-DTF / ISO 8601 extended.
  let m =
    /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?)?)?$/i.exec(
      s,
    );
  if (m) {
    const off = zoneOffsetMinutes(m[7]);
    if (off === undefined) return undefined;
    return utc(
      Number(m[1]),
      Number(m[2] ?? 1),
      Number(m[3] ?? 1),
      Number(m[4] ?? 0),
      Number(m[5] ?? 0),
      Number(m[6] ?? 0),
      off,
    );
  }
  // ISO 8601 basic: 20031231T101455Z
  m =
    /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})?(?:[.,]\d+)?\s*(Z|[+-]\d{2}:?\d{2})?)?$/i.exec(
      s,
    );
  if (m) {
    const off = zoneOffsetMinutes(m[7]);
    if (off === undefined) return undefined;
    return utc(
      Number(m[1]),
      Number(m[2]),
      Number(m[3]),
      Number(m[4] ?? 0),
      Number(m[5] ?? 0),
      Number(m[6] ?? 0),
      off,
    );
  }
  // RFC 822: [Day,] DD Mon YY[YY] HH:MM[:SS] [zone]
  m =
    /^(?:[A-Za-z]{3,9},?\s*)?(\d{1,2})\s+([A-Za-z]{3,9})\.?\s+(\d{2,4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*([A-Za-z]{1,5}|[+-]\d{2}:?\d{2})?$/.exec(
      s,
    );
  if (m) {
    const mo = MONTHS[m[2]!.slice(0, 3).toLowerCase()];
    if (!mo) return undefined;
    let y = Number(m[3]);
    if (m[3]!.length === 2) y += y < 50 ? 2000 : 1900;
    const off = zoneOffsetMinutes(m[7]);
    if (off === undefined) return undefined;
    return utc(y, mo, Number(m[1]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0), off);
  }
  // asctime-like: Sun Jan  4 16:29:06 PST 2004 / Mon, Jan 4 2004 ...
  m =
    /^(?:[A-Za-z]{3,9},?\s+)?([A-Za-z]{3,9})\s+(\d{1,2}),?\s+(?:(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([A-Za-z]{1,5}|[+-]\d{4})?\s+)?(\d{4})$/.exec(
      s,
    );
  if (m) {
    const mo = MONTHS[m[1]!.slice(0, 3).toLowerCase()];
    if (!mo) return undefined;
    const off = zoneOffsetMinutes(m[6]);
    if (off === undefined) return undefined;
    return utc(
      Number(m[7]),
      mo,
      Number(m[2]),
      Number(m[3] ?? 0),
      Number(m[4] ?? 0),
      Number(m[5] ?? 0),
      off,
    );
  }
  // Japanese: 2024年3月5日 [12:34]
  m = /^(\d{4})年\s*(\d{1,2})月\s*(\d{1,2})日(?:\s*(\d{1,2})[:時](\d{2})分?)?/.exec(s);
  if (m)
    return utc(
      Number(m[1]),
      Number(m[2]),
      Number(m[3]),
      Number(m[4] ?? 0),
      Number(m[5] ?? 0),
      0,
      9 * 60,
    );
  return undefined;
}

/**
 * Python's `time.struct_time` as a tuple (feedparser's `*_parsed`): year, month, day, hour,
 * minute, second, weekday (Monday 0), day of year, DST flag (0).
 */
export function structTime(ms: number): number[] {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const yday =
    Math.floor((Date.UTC(y, d.getUTCMonth(), d.getUTCDate()) - Date.UTC(y, 0, 1)) / 86_400_000) + 1;
  return [
    y,
    d.getUTCMonth() + 1,
    d.getUTCDate(),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
    (d.getUTCDay() + 6) % 7,
    yday,
    0,
  ];
}
