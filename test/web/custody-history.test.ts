/**
 * Balance snapshots and the Custody page's balance chart, in process on a real bcoin regtest
 * node and a real store: snapshots are kept where the chain is synced (per wallet, with its
 * cap), an idle sync adds none, the per-tier series and the hot cap equal what the tiers API
 * says at each point, and the chart's numbers equal the history API's. Also the refusals of
 * the passkey routes: a viewer on approve, a token on passkeys.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as custody from '../../src/custody/index.js';
import { manualClock } from '../../src/shared/clock.js';
import { freshStore, type TestStore } from '../helpers/db.js';
import { testApp } from '../helpers/web.js';

const PASS = 'correct horse battery';
const FAST = { N: 2 ** 12, r: 8, p: 1 };

describe('custody balance history and chart (bcoin regtest)', () => {
  let node: custody.RegtestNode;
  let t: TestStore;
  const clock = manualClock(Date.parse('2026-12-01T00:00:00Z'));
  let ctx: custody.CustodyContext;

  beforeAll(async () => {
    node = await custody.startRegtestNode({ port: 0 });
    t = await freshStore('sqlite');
    ctx = { store: t.store, clock, actor: 'test' };
  }, 60_000);
  afterAll(async () => {
    await node?.close();
    await t?.cleanup();
  });

  it('snapshots on sync, none when idle; chart and cap equal the API', async () => {
    const keys: Awaited<ReturnType<typeof custody.newKey>>[] = [];
    for (let i = 0; i < 3; i++) keys.push(await custody.newKey('regtest', PASS, { scrypt: FAST }));
    const xpub = (i: number) => keys[i]!.file.public.originXpub;
    await custody.createWallet(ctx, {
      name: 'hot1',
      tier: 'hot',
      threshold: 2,
      xpubs: [xpub(0), xpub(1)],
      network: 'regtest',
    });
    await custody.createWallet(ctx, {
      name: 'cold1',
      tier: 'cold',
      threshold: 1,
      xpubs: [xpub(2)],
      network: 'regtest',
    });
    await custody.setPolicy(ctx, 'hot1', { flags: { hotFloatCap: 100_000_000 } });
    const chain = custody.coreRpc(node.url);
    const hotAddr = await custody.newAddress(ctx, 'hot1');
    const coldAddr = await custody.newAddress(ctx, 'cold1');
    await node.fund(hotAddr.address, 50_000_000);
    await node.fund(coldAddr.address, 200_000_000);
    await node.mine(1);
    clock.advance(60_000);
    await custody.syncChain(ctx, chain, { fromHeight: 430 });
    const first = await custody.balanceHistory(ctx);
    expect(first.wallets.map((w) => [w.wallet, w.points.length])).toEqual([
      ['hot1', 1],
      ['cold1', 1],
    ]);
    // an idle sync (nothing moved) records nothing
    clock.advance(60_000);
    await custody.syncChain(ctx, chain);
    expect((await custody.balanceHistory(ctx)).wallets.map((w) => w.points.length)).toEqual([1, 1]);
    await node.fund(hotAddr.address, 70_000_000);
    await node.mine(1);
    clock.advance(60_000);
    await custody.syncChain(ctx, chain);
    const h = await custody.balanceHistory(ctx);
    const hot = h.tiers.find((x) => x.tier === 'hot')!;
    const cold = h.tiers.find((x) => x.tier === 'cold')!;
    expect(hot.points.map((p) => p.total)).toEqual([50_000_000, 120_000_000]);
    expect(cold.points.map((p) => p.total)).toEqual([200_000_000, 200_000_000]);
    expect(h.hotCap.map((p) => p.cap)).toEqual([100_000_000, 100_000_000]);
    const tiers = await custody.tiers(ctx);
    expect(tiers.hotFloat).toBe(hot.points.at(-1)!.total);
    expect(tiers.overCap).toBe(true);

    const app = await testApp(t.store, 'test', 'viewer');
    const api = await (await app.request('/api/v1/custody/balance-history')).json();
    expect(api).toEqual(JSON.parse(JSON.stringify(h)));
    const page = await (await app.request('/custody')).text();
    const drawn = (series: string) => {
      const part = page.split(`data-series="${series}"`)[1]!.split('</g></g>')[0]!;
      return [...part.matchAll(/data-value="(\d+)"/g)].map((m) => Number(m[1]));
    };
    expect(drawn('hot')).toEqual(hot.points.map((p) => p.total));
    expect(drawn('cold')).toEqual(cold.points.map((p) => p.total));
    expect([...page.matchAll(/data-cap-value="(\d+)"/g)].map((m) => Number(m[1]))).toEqual([
      100_000_000, 100_000_000,
    ]);
  }, 180_000);

  it('refuses a viewer on approve and a token on passkeys, with clear bodies', async () => {
    const viewer = await testApp(t.store, 'test', 'viewer');
    const challenge = await viewer.request('/api/v1/custody/withdrawals/1/challenge');
    expect(challenge.status).toBe(403);
    expect(await challenge.json()).toMatchObject({ error: { code: 'E_POLICY' } });
    const approver = await testApp(t.store, 'test', 'approver');
    const keys = await approver.request('/api/v1/passkeys');
    expect(keys.status).toBe(403);
    expect(await keys.json()).toMatchObject({ error: { details: { reason: 'not-a-user' } } });
    const options = await approver.request('/api/v1/passkeys/options', { method: 'POST' });
    expect(options.status).toBe(403);
    const queue = await (await viewer.request('/api/v1/custody/approvals')).json();
    expect(queue).toEqual({ withdrawals: [] });
  });
});
