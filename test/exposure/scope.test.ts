import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  addrKey,
  cidrContains,
  formatAddr,
  formatCidr,
  parseAddr,
  parseCidr,
} from '../../src/exposure/core/cidr.js';
import { parsePorts } from '../../src/exposure/core/ports.js';
import { assertInScope, countTargets, expandTargets } from '../../src/exposure/core/scope.js';
import { addScope, gateTargets, listScope, removeScope } from '../../src/exposure/index.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';

describe('cidr', () => {
  it('round-trips IPv4 addresses and CIDRs', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 0, max: 32 }), (ip, prefix) => {
        const a = parseAddr(ip);
        expect(formatAddr(a)).toBe(ip);
        const mask = ((1n << 32n) - 1n) ^ ((1n << BigInt(32 - prefix)) - 1n);
        const base = formatAddr({ family: 4, value: a.value & mask });
        const c = parseCidr(`${base}/${prefix}`);
        expect(formatCidr(c)).toBe(`${base}/${prefix}`);
        expect(cidrContains(c, a)).toBe(true);
      }),
    );
  });
  it('round-trips IPv6 addresses through the canonical form', () => {
    fc.assert(
      fc.property(fc.ipV6(), (ip) => {
        const a = parseAddr(ip);
        const again = parseAddr(formatAddr(a));
        expect(again.value).toBe(a.value);
        expect(formatAddr(again)).toBe(formatAddr(a));
      }),
    );
  });
  it('orders address keys like the addresses', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.ipV4(), (x, y) => {
        const a = parseAddr(x);
        const b = parseAddr(y);
        expect(addrKey(a) < addrKey(b)).toBe(a.value < b.value);
      }),
    );
  });
  it.each([
    ['10.0.0/8', 'expected 4 octets', 7],
    ['10.0.0.256/8', 'over 255', 8],
    ['10.0.0.0/33', 'over /32', 10],
    ['10.0.0.1/8', 'host bits set', 9],
    ['10.0.x.0/24', 'not an octet', 6],
    ['1::2::3/64', 'second "::"', 5],
    ['fe80::zz/64', 'not a hex digit', 7],
    ['10.0.0.0/2a', 'bad prefix', 11],
  ])('rejects %s with the position', (input, why, pos) => {
    try {
      parseCidr(input);
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ code: 'E_INPUT', details: { position: pos } });
      expect((err as Error).message).toContain(why);
    }
  });
  it('parses port lists and points at errors', () => {
    expect(parsePorts('22,80-82')).toEqual([22, 80, 81, 82]);
    expect(parsePorts('1-65535')).toHaveLength(65535);
    expect(parsePorts('camera')).toContain(554);
    expect(parsePorts('top100')).toHaveLength(100);
    expect(() => parsePorts('22,,80')).toThrow(/position 4/);
    expect(() => parsePorts('22,70000')).toThrow(/out of 1-65535.*position 4/s);
    expect(() => parsePorts('80-22')).toThrow(/backwards/);
    expect(() => parsePorts('80,ssh')).toThrow(/position 4/);
  });
});

describe('scope gate', () => {
  const scope = [
    { cidr: '127.0.0.0/8', owner: 'lab', allowCredentials: false },
    { cidr: '198.18.0.0/16', owner: 'bench', allowCredentials: true },
  ];
  it('refuses every target outside the scope (property)', () => {
    fc.assert(
      fc.property(fc.ipV4(), (ip) => {
        const a = parseAddr(ip);
        const inside =
          (a.value >> 24n === 127n || a.value >> 16n === 0xc612n) && a.value !== 0xc612ffffn;
        let ok = true;
        try {
          assertInScope(scope, [ip]);
        } catch (err) {
          expect(err).toMatchObject({ code: 'E_SCOPE' });
          ok = false;
        }
        expect(ok).toBe(inside && !(a.value === 0x7fffffffn));
      }),
    );
  });
  it('refuses multicast, broadcast and ranges that straddle the edge', () => {
    const wide = [{ cidr: '0.0.0.0/0', owner: 'x', allowCredentials: false }];
    for (const t of ['224.0.0.1', '239.255.255.250', '255.255.255.255', '224.0.0.0/4', 'ff02::1']) {
      expect(() => assertInScope(wide, [t])).toThrow(expect.objectContaining({ code: 'E_SCOPE' }));
    }
    expect(() => assertInScope(scope, ['126.0.0.0/7'])).toThrow(/outside the declared scope/);
    expect(() => assertInScope(scope, ['198.18.255.255'])).toThrow(/broadcast/);
    expect(() => assertInScope(scope, ['127.0.0.1'], { credentials: true })).toThrow(
      /allow-credentials/,
    );
    expect(assertInScope(scope, ['198.18.1.0/24'], { credentials: true })).toHaveLength(1);
  });
  it('expands targets lazily without the broadcast address', () => {
    const t = [parseCidr('10.0.0.0/30'), parseCidr('10.0.0.0/30'), parseCidr('::1')];
    expect([...expandTargets(t)].map(formatAddr)).toEqual([
      '10.0.0.0',
      '10.0.0.1',
      '10.0.0.2',
      '::1',
    ]);
    expect(countTargets([parseCidr('198.18.0.0/16')])).toBe(65535);
  });
});

for (const backend of testBackends()) {
  describe(`scope store (${backend})`, () => {
    let t: TestStore;
    beforeEach(async () => {
      t = await freshStore(backend);
    });
    afterEach(() => t.cleanup());
    it('adds, lists, updates, removes and gates', async () => {
      await expect(gateTargets(t.store, ['127.0.0.1'])).rejects.toMatchObject({ code: 'E_SCOPE' });
      await addScope(t.store, { cidr: '127.0.0.0/8', owner: 'lab', allowCredentials: false });
      await addScope(t.store, { cidr: '127.0.0.0/8', owner: 'lab2', allowCredentials: true });
      await expect(
        addScope(t.store, { cidr: '224.0.0.0/24', owner: 'x', allowCredentials: false }),
      ).rejects.toMatchObject({ code: 'E_SCOPE' });
      const rows = await listScope(t.store);
      expect(rows).toMatchObject([{ cidr: '127.0.0.0/8', owner: 'lab2', allowCredentials: true }]);
      const g = await gateTargets(t.store, ['127.0.0.1', '127.1.0.0/16'], { credentials: true });
      expect(g.targets.map(formatCidr)).toEqual(['127.0.0.1/32', '127.1.0.0/16']);
      await expect(gateTargets(t.store, ['10.0.0.1'])).rejects.toMatchObject({ code: 'E_SCOPE' });
      await removeScope(t.store, '127.0.0.0/8');
      await expect(removeScope(t.store, '127.0.0.0/8')).rejects.toMatchObject({
        code: 'E_NOT_FOUND',
      });
    });
  });
}
