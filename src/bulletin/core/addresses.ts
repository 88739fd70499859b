/**
 * Which addresses a bulletin fetch may connect to (the SSRF guard's decision, not its plumbing:
 * feeds.ts applies it to every address it connects to). Only global unicast is allowed by
 * default; loopback, private, link-local (cloud metadata at 169.254.169.254), unique-local,
 * CGNAT, multicast, unspecified, broadcast, reserved and the IPv6 ranges that embed an IPv4
 * address (6to4, Teredo, NAT64) are refused. An IPv4-mapped IPv6 address is judged as the IPv4
 * address it carries. Ranges come from ipaddr.js (the IANA special-purpose registries).
 * A source may allow private addresses: all of them (`*`) or a list of CIDRs.
 * Pure: no DNS, no sockets.
 */
import ipaddr from 'ipaddr.js';

/** What a source allows beyond global unicast: nothing, everything, or these networks. */
export type AllowPrivate = 'none' | 'all' | ReadonlyArray<string>;

export interface AddressVerdict {
  allowed: boolean;
  /** ipaddr.js range name of the (IPv4-normalized) address, e.g. `loopback`, `unicast`. */
  range: string;
  /** The address as judged (an IPv4-mapped IPv6 address as its IPv4 form). */
  address: string;
}

function parseAddr(ip: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  const bare = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  // A zone index (fe80::1%eth0) says nothing about the range; ipaddr.js keeps it aside.
  if (!ipaddr.isValid(bare)) return undefined;
  const a = ipaddr.parse(bare);
  if (a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress())
    return (a as ipaddr.IPv6).toIPv4Address();
  return a;
}

/**
 * Is a connection to this address allowed under a source's policy?
 * @example addressVerdict('169.254.169.254', 'none') → { allowed: false, range: 'linkLocal', … }
 */
export function addressVerdict(ip: string, allow: AllowPrivate): AddressVerdict {
  const a = parseAddr(ip);
  if (!a) return { allowed: false, range: 'invalid', address: ip };
  const range = a.range();
  const address = a.toString();
  if (range === 'unicast' || allow === 'all') return { allowed: true, range, address };
  if (allow === 'none') return { allowed: false, range, address };
  for (const cidr of allow) {
    const [net, bits] = ipaddr.parseCIDR(cidr);
    if (net.kind() === a.kind() && a.match(net, bits)) return { allowed: true, range, address };
  }
  return { allowed: false, range, address };
}

/**
 * Parse the stored/flag form of a source's allowance: null or '' → none, `*` → all, otherwise
 * comma-separated CIDRs (a bare address is its /32 or /128). Throws on a malformed CIDR.
 * @example parseAllowPrivate('127.0.0.1/32,10.0.0.0/8') → ['127.0.0.1/32', '10.0.0.0/8']
 */
export function parseAllowPrivate(text: string | null | undefined): AllowPrivate {
  const t = (text ?? '').trim();
  if (!t) return 'none';
  if (t === '*') return 'all';
  return t.split(',').map((part) => {
    const p = part.trim();
    const withBits = p.includes('/') ? p : `${p}/${ipaddr.IPv6.isValid(p) ? 128 : 32}`;
    if (!ipaddr.isValidCIDR(withBits)) throw new Error(`not a CIDR: ${JSON.stringify(p)}`);
    const [net, bits] = ipaddr.parseCIDR(withBits);
    return `${net.toString()}/${bits}`;
  });
}

/** The stored form of an allowance (inverse of parseAllowPrivate). */
export function formatAllowPrivate(allow: AllowPrivate): string | null {
  if (allow === 'none') return null;
  if (allow === 'all') return '*';
  return allow.length ? allow.join(',') : null;
}
