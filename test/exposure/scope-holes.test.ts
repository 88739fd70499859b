/**
 * Scope holes: IPv4-mapped IPv6 normalised to IPv4 before every rule, a declared subnet's
 * broadcast address never probed under a wider target, inet_aton forms and host names resolved
 * and then judged by the scope. Real listeners on loopback see what was (not) sent.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAddr, parseCidr, parseLooseIPv4 } from '../../src/exposure/core/cidr.js';
import { addScope, gateTargets, loadEngine, runScan } from '../../src/exposure/index.js';
import { resolveTargets } from '../../src/exposure/scope-store.js';
import { freshStore, type TestStore } from '../helpers/db.js';

describe('address forms', () => {
  it('reads IPv4-mapped IPv6 as IPv4, and a range over ::ffff:0:0/96 as all of IPv4', () => {
    expect(parseAddr('::ffff:127.0.0.200')).toEqual(parseAddr('127.0.0.200'));
    expect(parseAddr('::ffff:7f00:c8')).toEqual(parseAddr('127.0.0.200'));
    expect(parseCidr('::ffff:127.0.0.0/104')).toEqual(parseCidr('127.0.0.0/8'));
    expect(parseCidr('::ffff:0.0.0.0/96')).toEqual(parseCidr('0.0.0.0/0'));
    expect(parseCidr('::1')).toMatchObject({ family: 6, prefix: 128 });
  });
  it('reads the inet_aton forms as resolvers do', () => {
    const v = 0x7f000001n;
    for (const s of ['2130706433', '0x7f000001', '0177.0.0.1', '127.1', '127.0.1', '0x7f.1'])
      expect(parseLooseIPv4(s), s).toBe(v);
    for (const s of ['4294967296', '1.2.3.256', '08.1.1.1', 'a.b', '1.2.3.4.5', ''])
      expect(parseLooseIPv4(s), s).toBeUndefined();
  });
});

describe('the scope gate against mapped, loose and named targets', () => {
  let t: TestStore;
  const servers: Server[] = [];
  const seen = new Map<string, number>();
  const listen = async (host: string, port = 0) => {
    const s = createServer((c: Socket) => {
      seen.set(host, (seen.get(host) ?? 0) + 1);
      c.destroy();
    });
    await new Promise<void>((r) => s.listen(port, host, () => r()));
    servers.push(s);
    return (s.address() as { port: number }).port;
  };
  beforeAll(async () => {
    t = await freshStore('sqlite');
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    await t.cleanup();
  });

  it('refuses ::ffff:0.0.0.0/96 and ::/1 as it refuses 0.0.0.0/0', async () => {
    for (const cidr of ['0.0.0.0/0', '::ffff:0.0.0.0/96', '::/1', '::/0', '::/80'])
      await expect(
        addScope(t.store, { cidr, owner: 'x', allowCredentials: false }),
        cidr,
      ).rejects.toMatchObject({ code: 'E_SCOPE' });
    // a mapped range inside IPv4 is stored as the IPv4 range
    const row = await addScope(t.store, {
      cidr: '::ffff:127.0.44.0/126',
      owner: 'x',
      allowCredentials: false,
    });
    expect(row.cidr).toBe('127.0.44.0/30');
  });

  it('checks ::ffff:127.0.0.200 as 127.0.0.200: refused outside the scope, scanned as IPv4 inside it', async () => {
    const port = await listen('127.0.0.200');
    await expect(
      runScan(
        { targets: ['::ffff:127.0.0.200'], ports: [port], timeoutMs: 500, retries: 0 },
        { store: t.store, engine: loadEngine() },
      ),
    ).rejects.toMatchObject({ code: 'E_SCOPE' });
    expect(seen.get('127.0.0.200')).toBeUndefined();
    const inside = await listen('127.0.44.1', port);
    const s = await runScan(
      { targets: ['::ffff:127.0.44.1'], ports: [inside], timeoutMs: 500, retries: 0, grab: false },
      { store: t.store, engine: loadEngine() },
    );
    expect(s.targets).toEqual(['127.0.44.1/32']);
    expect(s.open.map((o) => o.ip)).toEqual(['127.0.44.1']);
    expect(seen.get('127.0.44.1')).toBe(1);
  });

  it("never probes a declared subnet's broadcast address under a wider target", async () => {
    await addScope(t.store, { cidr: '127.0.45.0/24', owner: 'x', allowCredentials: false });
    await addScope(t.store, { cidr: '127.0.45.0/28', owner: 'x', allowCredentials: false });
    const port = await listen('127.0.45.15'); // the /28's broadcast
    await listen('127.0.45.14', port);
    const s = await runScan(
      { targets: ['127.0.45.0/24'], ports: [port], timeoutMs: 300, retries: 0, grab: false },
      { store: t.store, engine: loadEngine() },
    );
    expect(s.probes).toBe(256 - 2); // neither the /24's nor the /28's broadcast
    expect(seen.get('127.0.45.15')).toBeUndefined();
    expect(seen.get('127.0.45.14')).toBe(1);
  });

  it('resolves decimal, hex, octal and short forms and host names, then lets the scope judge', async () => {
    for (const target of ['2130706433', '0x7f000001', '0177.0.0.1', '127.1', 'localhost'])
      await expect(gateTargets(t.store, [target]), target).rejects.toMatchObject({
        code: 'E_SCOPE',
      });
    // 127.0.44.1 in the forms: inside the scope
    for (const target of ['2130717697', '0x7f002c01', '0177.0.054.1', '127.0.11265']) {
      const g = await gateTargets(t.store, [target]);
      expect(g.targets, target).toEqual([parseCidr('127.0.44.1')]);
    }
    const named = await gateTargets(t.store, ['cam.lab.example'], {
      lookup: async () => ['127.0.44.2', '::ffff:127.0.44.1'],
    });
    expect(named.targets).toEqual([parseCidr('127.0.44.2'), parseCidr('127.0.44.1')]);
    await expect(
      gateTargets(t.store, ['cam.lab.example'], { lookup: async () => ['127.0.44.2', '10.0.0.1'] }),
    ).rejects.toMatchObject({ code: 'E_SCOPE' });
    // still input errors: a bad prefix, a mistyped dotted quad
    await expect(resolveTargets(['127.0.44.0/33'])).rejects.toMatchObject({ code: 'E_INPUT' });
    await expect(resolveTargets(['1.2.3.256'])).rejects.toMatchObject({ code: 'E_INPUT' });
  });
});
