import { describe, expect, it } from 'vitest';
import { addressVerdict, formatAllowPrivate, parseAllowPrivate } from './addresses.js';

describe('bulletin fetch address policy', () => {
  const refused: [string, string][] = [
    ['127.0.0.1', 'loopback'],
    ['127.10.20.30', 'loopback'],
    ['10.0.0.5', 'private'],
    ['172.16.3.4', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['100.100.100.200', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.0.192', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'linkLocal'],
    ['fd00:ec2::254', 'uniqueLocal'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:2', 'loopback'],
    ['::ffff:169.254.169.254', 'linkLocal'],
    ['::ffff:10.1.2.3', 'private'],
    ['[::1]', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'rfc6052'],
    ['2002:a9fe:a9fe::', '6to4'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'teredo'],
  ];
  for (const [ip, range] of refused)
    it(`refuses ${ip} (${range}) by default, allows it with --allow-private`, () => {
      expect(addressVerdict(ip, 'none')).toMatchObject({ allowed: false, range });
      expect(addressVerdict(ip, 'all')).toMatchObject({ allowed: true, range });
    });

  it('allows global unicast, IPv4 and IPv6 and IPv4-mapped', () => {
    for (const ip of ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946', '::ffff:8.8.8.8'])
      expect(addressVerdict(ip, 'none')).toMatchObject({ allowed: true, range: 'unicast' });
  });

  it('refuses what is not an address at all', () => {
    expect(addressVerdict('localhost', 'all').allowed).toBe(false);
    expect(addressVerdict('', 'none').allowed).toBe(false);
  });

  it('a CIDR allowance lets in its own network only (IPv4-mapped judged as IPv4)', () => {
    const allow = parseAllowPrivate('127.0.0.1, 10.20.0.0/16');
    expect(allow).toEqual(['127.0.0.1/32', '10.20.0.0/16']);
    expect(addressVerdict('127.0.0.1', allow).allowed).toBe(true);
    expect(addressVerdict('::ffff:127.0.0.1', allow).allowed).toBe(true);
    expect(addressVerdict('127.0.0.2', allow).allowed).toBe(false);
    expect(addressVerdict('10.20.9.9', allow).allowed).toBe(true);
    expect(addressVerdict('10.21.0.1', allow).allowed).toBe(false);
    expect(addressVerdict('169.254.169.254', allow).allowed).toBe(false);
    expect(addressVerdict('::1', allow).allowed).toBe(false);
  });

  it('parses and formats the stored allowance; a bad CIDR throws', () => {
    expect(parseAllowPrivate(null)).toBe('none');
    expect(parseAllowPrivate('*')).toBe('all');
    expect(formatAllowPrivate(parseAllowPrivate('fd00::/8'))).toBe('fd00::/8');
    expect(formatAllowPrivate('all')).toBe('*');
    expect(formatAllowPrivate('none')).toBeNull();
    expect(() => parseAllowPrivate('10.0.0.0/33')).toThrow(/CIDR/);
    expect(() => parseAllowPrivate('intranet')).toThrow(/CIDR/);
  });
});
