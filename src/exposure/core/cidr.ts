/**
 * IP addresses and CIDR ranges as bigints (IPv4 and IPv6), with parse errors that point at the
 * character that is wrong. Pure: no sockets, no DNS. Not a general IP library: only what scope
 * checks, target expansion and the `net:` search filter need.
 */
import { MamoriError } from '../../shared/errors.js';

export type Family = 4 | 6;

export interface Addr {
  family: Family;
  /** 32-bit (v4) or 128-bit (v6) value. */
  value: bigint;
}

export interface Cidr {
  family: Family;
  /** First address of the range (host bits zero). */
  base: bigint;
  prefix: number;
}

const BITS: Record<Family, number> = { 4: 32, 6: 128 };

function fail(input: string, pos: number, why: string): never {
  throw new MamoriError(
    'E_INPUT',
    `${why} at position ${pos + 1}: "${input}"\n  ${' '.repeat(pos + 1)}^`,
    {
      hint: 'use a.b.c.d/n (IPv4) or x:x::x/n (IPv6)',
      details: { input, position: pos + 1 },
    },
  );
}

/** Parse a dotted IPv4 address; `offset` shifts the reported position. */
function parseV4(s: string, whole: string, offset: number): bigint {
  const parts = s.split('.');
  if (parts.length !== 4) {
    const pos = parts.length > 4 ? s.split('.', 4).join('.').length : s.length;
    fail(whole, offset + pos, parts.length > 4 ? 'too many octets' : 'expected 4 octets');
  }
  let value = 0n;
  let pos = offset;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) {
      const bad = p === '' ? 0 : Math.max(0, p.search(/\D/));
      fail(whole, pos + (p.length > 3 && /^\d+$/.test(p) ? 3 : bad), 'not an octet');
    }
    if (p.length > 1 && p.startsWith('0')) fail(whole, pos, 'leading zero in octet (ambiguous)');
    const n = Number(p);
    if (n > 255) fail(whole, pos, `octet ${n} is over 255`);
    value = (value << 8n) | BigInt(n);
    pos += p.length + 1;
  }
  return value;
}

function parseV6(s: string, whole: string, offset: number): bigint {
  const bad = s.search(/[^0-9a-fA-F:.]/);
  if (bad >= 0) fail(whole, offset + bad, 'not a hex digit');
  const dbl = s.indexOf('::');
  if (dbl >= 0 && s.indexOf('::', dbl + 1) >= 0) {
    fail(whole, offset + s.indexOf('::', dbl + 1), 'second "::"');
  }
  const groups: bigint[] = [];
  const parseSide = (side: string, sideOffset: number): bigint[] => {
    if (side === '') return [];
    const out: bigint[] = [];
    const pieces = side.split(':');
    let pos = sideOffset;
    pieces.forEach((piece, i) => {
      if (piece.includes('.')) {
        if (i !== pieces.length - 1) fail(whole, pos, 'embedded IPv4 must come last');
        const v4 = parseV4(piece, whole, pos);
        out.push(v4 >> 16n, v4 & 0xffffn);
      } else {
        if (piece === '') fail(whole, pos, 'empty group');
        if (piece.length > 4) fail(whole, pos + 4, 'group longer than 4 hex digits');
        out.push(BigInt(`0x${piece}`));
      }
      pos += piece.length + 1;
    });
    return out;
  };
  if (dbl >= 0) {
    const left = parseSide(s.slice(0, dbl), offset);
    const right = parseSide(s.slice(dbl + 2), offset + dbl + 2);
    const missing = 8 - left.length - right.length;
    if (missing < 1) fail(whole, offset + dbl, '"::" with 8 groups already');
    groups.push(...left, ...Array.from({ length: missing }, () => 0n), ...right);
  } else {
    groups.push(...parseSide(s, offset));
    if (groups.length !== 8) fail(whole, offset + s.length, 'expected 8 groups');
  }
  if (groups.length > 8) fail(whole, offset + s.length, 'too many groups');
  return groups.reduce((acc, g) => (acc << 16n) | g, 0n);
}

/**
 * Parse one IP address (v4 or v6, optional [brackets] for v6).
 * @example parseAddr('127.0.0.1').value === 0x7f000001n
 */
export function parseAddr(input: string): Addr {
  let s = input.trim();
  let offset = input.indexOf(s);
  if (s === '') fail(input, 0, 'empty address');
  if (s.startsWith('[') && s.endsWith(']')) {
    s = s.slice(1, -1);
    offset += 1;
  }
  if (s.includes(':')) return normaliseMapped({ family: 6, value: parseV6(s, input, offset) });
  return { family: 4, value: parseV4(s, input, offset) };
}

const MAPPED_PREFIX = 0xffffn << 32n;

/** An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 address: every rule sees that. */
function normaliseMapped(a: Addr): Addr {
  return a.family === 6 && a.value >> 32n === 0xffffn
    ? { family: 4, value: a.value & 0xffffffffn }
    : a;
}

/**
 * The classic inet_aton forms a resolver accepts for IPv4 besides dotted quads: decimal
 * (2130706433), hex (0x7f000001), octal parts (0177.0.0.1) and short forms (127.1). They name
 * an address like any other; the scope decides, not the parser.
 * @example parseLooseIPv4('127.1') === 0x7f000001n
 */
export function parseLooseIPv4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length < 1 || parts.length > 4) return undefined;
  const values: bigint[] = [];
  for (const p of parts) {
    if (/^0x[0-9a-f]+$/i.test(p)) values.push(BigInt(p));
    else if (/^0[0-7]*$/.test(p)) values.push(BigInt(`0o${p.slice(1) || '0'}`));
    else if (/^[1-9]\d*$/.test(p)) values.push(BigInt(p));
    else return undefined;
  }
  const last = values.pop()!;
  if (values.some((v) => v > 255n)) return undefined;
  const lastBits = BigInt(8 * (4 - values.length));
  if (last >= 1n << lastBits) return undefined;
  let v = 0n;
  for (const x of values) v = (v << 8n) | x;
  return (v << lastBits) | last;
}

/**
 * Parse a CIDR (`10.0.0.0/8`, `::1/128`) or a single address (a /32 or /128). Host bits must be
 * zero, so a typo such as 10.0.0.1/8 is caught instead of silently widened.
 * @example formatCidr(parseCidr('198.18.0.0/15')) === '198.18.0.0/15'
 */
export function parseCidr(input: string): Cidr {
  const slash = input.indexOf('/');
  const addrPart = slash >= 0 ? input.slice(0, slash) : input;
  const addr = parseAddr(addrPart);
  let prefix = slash >= 0 && addrPart.includes(':') ? 128 : BITS[addr.family];
  if (slash >= 0) {
    const p = input.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) fail(input, slash + 1 + Math.max(0, p.search(/\D/)), 'bad prefix');
    prefix = Number(p);
  }
  // parseAddr already turned a mapped address into IPv4; a mapped *range* is turned here
  const family = slash >= 0 && addrPart.includes(':') ? 6 : addr.family;
  const value = family === 6 && addr.family === 4 ? MAPPED_PREFIX | addr.value : addr.value;
  const max = BITS[family];
  if (prefix > max) fail(input, slash + 1, `prefix /${prefix} is over /${max}`);
  const hostMask = (1n << BigInt(max - prefix)) - 1n;
  if ((value & hostMask) !== 0n) {
    fail(
      input,
      slash >= 0 ? slash : input.length,
      `host bits set (did you mean ${formatCidr({ family, base: value & ~hostMask, prefix })}?)`,
    );
  }
  if (family === 6 && prefix >= 96 && value >> 32n === 0xffffn)
    return { family: 4, base: value & 0xffffffffn, prefix: prefix - 96 };
  return { family, base: value, prefix };
}

export function cidrSize(c: Cidr): bigint {
  return 1n << BigInt(BITS[c.family] - c.prefix);
}

export function cidrLast(c: Cidr): bigint {
  return c.base + cidrSize(c) - 1n;
}

export function cidrContains(c: Cidr, a: Addr): boolean {
  return c.family === a.family && a.value >= c.base && a.value <= cidrLast(c);
}

/** Whether `inner` lies wholly inside `outer`. */
export function cidrCovers(outer: Cidr, inner: Cidr): boolean {
  return (
    outer.family === inner.family &&
    inner.prefix >= outer.prefix &&
    inner.base >= outer.base &&
    cidrLast(inner) <= cidrLast(outer)
  );
}

export function formatAddr(a: Addr): string {
  if (a.family === 4) {
    const v = Number(a.value);
    return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((a.value >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952: compress the longest run (≥ 2) of zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

export function formatCidr(c: Cidr): string {
  return `${formatAddr({ family: c.family, value: c.base })}/${c.prefix}`;
}

/**
 * A sortable, fixed-width key for an address: 32 hex digits, IPv4 mapped into ::ffff:0:0/96,
 * so `net:` filters become a string range on both SQLite and PostgreSQL.
 */
export function addrKey(a: Addr): string {
  const v = a.family === 4 ? (0xffffn << 32n) | a.value : a.value;
  return v.toString(16).padStart(32, '0');
}

export function cidrKeyRange(c: Cidr): { lo: string; hi: string } {
  return {
    lo: addrKey({ family: c.family, value: c.base }),
    hi: addrKey({ family: c.family, value: cidrLast(c) }),
  };
}

/**
 * Addresses no scan may ever send to, whatever the scope says: multicast, limited broadcast,
 * the unspecified address. (A subnet's directed broadcast is refused by scope expansion.)
 */
export function forbiddenReason(a: Addr): string | undefined {
  if (a.family === 4) {
    if (a.value >> 28n === 0xen) return 'multicast';
    if (a.value === 0xffffffffn) return 'broadcast';
    if (a.value === 0n) return 'unspecified address';
    return undefined;
  }
  if (a.value >> 120n === 0xffn) return 'multicast';
  if (a.value === 0n) return 'unspecified address';
  const mapped = a.value >> 32n === 0xffffn;
  if (mapped) return forbiddenReason({ family: 4, value: a.value & 0xffffffffn });
  return undefined;
}

/** Whether a CIDR overlaps the multicast or broadcast space at all. */
export function cidrForbiddenReason(c: Cidr): string | undefined {
  if (c.family === 4) {
    const mc: Cidr = { family: 4, base: 0xe0000000n, prefix: 4 };
    if (cidrCovers(mc, c) || cidrCovers(c, mc)) return 'multicast';
    if (cidrLast(c) === 0xffffffffn) return 'broadcast';
    return undefined;
  }
  const mc6: Cidr = { family: 6, base: 0xffn << 120n, prefix: 8 };
  if (cidrCovers(mc6, c) || cidrCovers(c, mc6)) return 'multicast';
  // a range over ::ffff:0:0/96 holds all of IPv4 (0.0.0.0/0), multicast and broadcast included
  const mapped: Cidr = { family: 6, base: MAPPED_PREFIX, prefix: 96 };
  if (cidrCovers(c, mapped)) return 'IPv4-mapped multicast and broadcast (all of IPv4)';
  return undefined;
}
