/**
 * Custody's smaller alerts through the shared sink, on a real bcoin regtest node and a real
 * store (SQLite, and PostgreSQL when MAMORI_TEST_PG is set): a new wallet and a policy change
 * are notices; a refused request to an address not on the whitelist (the 2018 "test transfer")
 * and a hot float over its cap are warnings, the latter once per episode.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlertSink, recentAlerts, SEVERITY_RANK } from '../../src/alerts/index.js';
import type { RegtestNode } from '../../src/custody/index.js';
import * as custody from '../../src/custody/index.js';
import { manualClock } from '../../src/shared/clock.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';

const PASS = 'correct horse battery';
const FAST = { N: 2 ** 12, r: 8, p: 1 };
const payee = 'bcrt1q7sgx6gscgtau57jduend6a8l445ahpk3dt3u5zu58rx5qm27lhkq9s85ce';
const stranger = 'bcrt1qft5p2uhsdcdc3l2ua4ap5qqfg4pjaqlp250x7us7a8qqhrxrxfsqseac85';

describe('alert severities', () => {
  it('adds notice and warning between the old levels without moving them', () => {
    const old = ['info', 'low', 'medium', 'high', 'critical'] as const;
    for (let i = 1; i < old.length; i++) {
      expect(SEVERITY_RANK[old[i]!]).toBeGreaterThan(SEVERITY_RANK[old[i - 1]!]);
    }
    expect(SEVERITY_RANK.notice).toBeGreaterThan(SEVERITY_RANK.info);
    expect(SEVERITY_RANK.notice).toBeLessThan(SEVERITY_RANK.low);
    expect(SEVERITY_RANK.warning).toBeGreaterThan(SEVERITY_RANK.medium);
    expect(SEVERITY_RANK.warning).toBeLessThan(SEVERITY_RANK.high);
  });
});

for (const backend of testBackends()) {
  describe(`custody alerts (${backend})`, () => {
    let node: RegtestNode;
    let t: TestStore;
    let chain: ReturnType<typeof custody.coreRpc>;
    let ctx: custody.CustodyContext;
    const lines: { kind: string; severity: string; details?: Record<string, unknown> }[] = [];
    const clock = manualClock(Date.now());
    const of = (kind: string) => lines.filter((l) => l.kind === kind);

    beforeAll(async () => {
      node = await custody.startRegtestNode({ port: 0 });
      chain = custody.coreRpc(node.url);
      t = await freshStore(backend);
      const alerts = createAlertSink({ store: t.store, write: (l) => lines.push(JSON.parse(l)) });
      ctx = { store: t.store, clock, actor: 'test', alerts };
    }, 120_000);
    afterAll(async () => {
      await node?.close();
      await t?.cleanup();
    });

    it('notices for a new wallet and a policy change; warnings for a test transfer and a float over cap', {
      timeout: 180_000,
    }, async () => {
      const keys = [];
      for (let i = 0; i < 3; i++)
        keys.push(await custody.newKey('regtest', PASS, { scrypt: FAST }));
      await custody.createWallet(ctx, {
        name: 'hot',
        tier: 'hot',
        threshold: 2,
        xpubs: keys.map((k) => k.file.public.originXpub),
        network: 'regtest',
      });
      expect(of('custody.new_wallet')).toMatchObject([{ severity: 'notice' }]);
      expect(of('custody.policy_change')).toHaveLength(0);
      await custody.setPolicy(ctx, 'hot', {
        flags: { whitelist: [payee], limitSats: 500_000_000, hotFloatCap: 50_000_000 },
      });
      expect(of('custody.policy_change')).toMatchObject([{ severity: 'notice' }]);

      // a refused request to an address not on the whitelist: a warning; a refusal for another
      // reason (over the limit, to a whitelisted address) is not this alert
      clock.advance(49 * 3600_000);
      const over = await custody.requestWithdrawal(ctx, 'hot', payee, 600_000_000n, 'ops');
      expect(over.status).toBe('rejected');
      expect(of('custody.refused_unknown_address')).toHaveLength(0);
      const test = await custody.requestWithdrawal(ctx, 'hot', stranger, 10_000n, 'ops');
      expect(test.decision.rule).toBe('whitelist');
      expect(of('custody.refused_unknown_address')).toMatchObject([
        { severity: 'warning', details: { to: stranger } },
      ]);

      // under the cap: nothing; over it: one warning; still over: no second one
      const a = await custody.newAddress(ctx, 'hot');
      await node.fund(a.address, 30_000_000);
      await custody.syncChain(ctx, chain, { fromHeight: 430 });
      expect(of('custody.float_over_cap')).toHaveLength(0);
      await node.fund(a.address, 30_000_000);
      await custody.syncChain(ctx, chain);
      expect(of('custody.float_over_cap')).toMatchObject([
        { severity: 'warning', details: { wallet: 'hot', float: 60_000_000, cap: 50_000_000 } },
      ]);
      await node.fund(a.address, 10_000_000);
      await node.mine(1);
      await custody.syncChain(ctx, chain);
      expect(of('custody.float_over_cap')).toHaveLength(1);
      // the sink stored them with their severities
      const stored = await recentAlerts(t.store, 50);
      const sev = (k: string) => stored.filter((r) => r.kind === k).map((r) => r.severity);
      expect(sev('custody.float_over_cap')).toEqual(['warning']);
      expect(sev('custody.new_wallet')).toEqual(['notice']);
    });
  });
}
