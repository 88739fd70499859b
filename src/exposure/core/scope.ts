/**
 * The scope gate: every target of a scan or an audit must lie inside ranges the operator has
 * declared, and never in multicast or broadcast space. Pure: the scope comes in as a list.
 * There is no option to skip it. Not the store of the scope: see ../store.ts.
 */
import { MamoriError } from '../../shared/errors.js';
import {
  type Addr,
  type Cidr,
  cidrContains,
  cidrForbiddenReason,
  cidrLast,
  forbiddenReason,
  formatAddr,
  formatCidr,
  parseCidr,
} from './cidr.js';

export interface ScopeEntry {
  cidr: string;
  owner: string;
  allowCredentials: boolean;
}

interface Interval {
  family: 4 | 6;
  lo: bigint;
  hi: bigint;
  allowCredentials: boolean;
}

function intervalsOf(entries: readonly ScopeEntry[], needCredentials: boolean): Interval[] {
  const list = entries
    .filter((e) => !needCredentials || e.allowCredentials)
    .map((e) => {
      const c = parseCidr(e.cidr);
      return {
        family: c.family,
        lo: c.base,
        hi: cidrLast(c),
        allowCredentials: e.allowCredentials,
      };
    })
    .sort((a, b) => a.family - b.family || (a.lo < b.lo ? -1 : a.lo > b.lo ? 1 : 0));
  const merged: Interval[] = [];
  for (const iv of list) {
    const last = merged[merged.length - 1];
    if (last && last.family === iv.family && iv.lo <= last.hi + 1n) {
      if (iv.hi > last.hi) last.hi = iv.hi;
    } else merged.push({ ...iv });
  }
  return merged;
}

/** Whether the whole range [lo, hi] lies in the union of the scope intervals. */
function covered(intervals: Interval[], family: 4 | 6, lo: bigint, hi: bigint): boolean {
  for (const iv of intervals) {
    if (iv.family === family && iv.lo <= lo && hi <= iv.hi) return true;
  }
  return false;
}

/**
 * Broadcast addresses of declared v4 subnets (prefix ≤ 30): never probed, also not when a wider
 * target covers them.
 */
export function directedBroadcasts(entries: readonly ScopeEntry[]): Set<bigint> {
  const out = new Set<bigint>();
  for (const e of entries) {
    const c = parseCidr(e.cidr);
    if (c.family === 4 && c.prefix <= 30) out.add(cidrLast(c));
  }
  return out;
}

export interface ScopeCheckOptions {
  /** Audit: the targets must lie in ranges added with --allow-credentials. */
  credentials?: boolean;
}

/**
 * Refuse (E_SCOPE) any target outside the scope, or in multicast/broadcast space. Targets are
 * CIDRs or single addresses; all are checked before the caller sends anything.
 * @example assertInScope([{ cidr: '127.0.0.0/8', owner: 'me', allowCredentials: false }], ['127.0.0.1'])
 */
export function assertInScope(
  entries: readonly ScopeEntry[],
  targets: readonly string[],
  options: ScopeCheckOptions = {},
): Cidr[] {
  const parsed = targets.map((t) => parseCidr(t));
  const intervals = intervalsOf(entries, options.credentials ?? false);
  const broadcasts = directedBroadcasts(entries);
  for (const [i, c] of parsed.entries()) {
    const forbidden = cidrForbiddenReason(c);
    if (forbidden) {
      throw new MamoriError('E_SCOPE', `refused: ${targets[i]} is ${forbidden} space`, {
        hint: 'multicast and broadcast addresses are never scanned',
        details: { target: targets[i], reason: forbidden },
      });
    }
    if (c.family === 4 && c.prefix === 32 && broadcasts.has(c.base)) {
      throw new MamoriError(
        'E_SCOPE',
        `refused: ${targets[i]} is the broadcast address of a declared range`,
        { details: { target: targets[i], reason: 'broadcast' } },
      );
    }
    if (!covered(intervals, c.family, c.base, cidrLast(c))) {
      const what = options.credentials
        ? 'not inside a range added with --allow-credentials'
        : 'outside the declared scope';
      throw new MamoriError('E_SCOPE', `refused: ${formatCidr(c)} is ${what}`, {
        hint: options.credentials
          ? 'mamori exposure scope add <cidr> --owner <you> --allow-credentials'
          : 'mamori exposure scope add <cidr> --owner <you>  (only ranges you own or may test)',
        details: { target: targets[i] },
      });
    }
  }
  return parsed;
}

/** Per-address re-check used right before each connect (defence in depth). */
export function addrAllowed(
  scope: readonly Cidr[],
  a: Addr,
  broadcasts: ReadonlySet<bigint> = new Set(),
): boolean {
  if (forbiddenReason(a)) return false;
  if (a.family === 4 && broadcasts.has(a.value)) return false;
  return scope.some((c) => cidrContains(c, a));
}

/**
 * Expand target CIDRs into addresses, lazily, skipping each v4 range's broadcast address and
 * the declared subnets' broadcast addresses (`broadcasts`).
 * @example [...expandTargets([parseCidr('10.0.0.0/30')])].length === 3
 */
export function* expandTargets(
  targets: readonly Cidr[],
  broadcasts: ReadonlySet<bigint> = new Set(),
): Generator<Addr> {
  const seen = new Set<string>();
  for (const c of targets) {
    const key = formatCidr(c);
    if (seen.has(key)) continue;
    seen.add(key);
    const last = cidrLast(c);
    const skipLast = c.family === 4 && c.prefix <= 30;
    for (let v = c.base; v <= last; v++) {
      if (skipLast && v === last) break;
      const a: Addr = { family: c.family, value: v };
      if (c.family === 4 && broadcasts.has(v)) continue;
      if (!forbiddenReason(a)) yield a;
    }
  }
}

export function countTargets(targets: readonly Cidr[]): number {
  let n = 0n;
  for (const c of targets) {
    const size = cidrLast(c) - c.base + 1n;
    n += c.family === 4 && c.prefix <= 30 ? size - 1n : size;
  }
  return Number(n);
}

export { formatAddr };
