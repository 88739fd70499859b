/**
 * The custody service on both backends without a chain: gap limit, duplicate names, self
 * approval, the policy time delay, policy documents, and the audit chain catching a deleted row.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as custody from '../../src/custody/index.js';
import { manualClock } from '../../src/shared/clock.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';

const XPUB =
  "[73c5da0a/48'/1'/0'/2']tpubDFH9dgzveyD8zTbPUFuLrGmCydNvxehyNdUXKJAQN8x4aZ4j6UZqGfnqFrD4NqyaTVGKbvEW54tsvPTK2UoSbCC1PJY8iCNiwTL3RWZEheQ";
const TO = 'bcrt1qft5p2uhsdcdc3l2ua4ap5qqfg4pjaqlp250x7us7a8qqhrxrxfsqseac85';

for (const backend of testBackends()) {
  describe(`custody service (${backend})`, () => {
    let t: TestStore;
    const clock = manualClock(Date.parse('2026-11-25T00:00:00Z'));
    let ctx: custody.CustodyContext;
    beforeEach(async () => {
      t = await freshStore(backend);
      ctx = { store: t.store, clock, actor: 'test' };
      await custody.createWallet(ctx, {
        name: 'w',
        tier: 'warm',
        threshold: 1,
        xpubs: [XPUB],
        network: 'regtest',
        gapLimit: 2,
      });
    });
    afterEach(async () => {
      await t.cleanup();
    });

    it('gap limit, duplicate names, the address index', async () => {
      expect((await custody.newAddress(ctx, 'w')).index).toBe(0);
      expect((await custody.newAddress(ctx, 'w')).index).toBe(1);
      await expect(custody.newAddress(ctx, 'w')).rejects.toMatchObject({ code: 'E_POLICY' });
      expect(await custody.listAddresses(ctx, 'w')).toHaveLength(2);
      await expect(
        custody.createWallet(ctx, {
          name: 'w',
          tier: 'cold',
          threshold: 1,
          xpubs: [XPUB],
          network: 'regtest',
        }),
      ).rejects.toMatchObject({ code: 'E_INPUT' });
      await expect(custody.getWallet(ctx, 'nope')).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
    });

    it('requester cannot approve; time delay holds the build; policy documents are checked', async () => {
      await custody.setPolicy(ctx, 'w', {
        flags: { approvers: ['alice', 'bob'], quorum: 1, delayMinutes: 60 },
      });
      const w = await custody.requestWithdrawal(ctx, 'w', TO, 5000n, 'alice');
      expect(w.status).toBe('pending');
      expect(w.eligibleAt).toBe('2026-11-25T01:00:00.000Z');
      await expect(custody.approveWithdrawal(ctx, w.id, 'alice')).rejects.toMatchObject({
        code: 'E_POLICY',
      });
      expect((await custody.approveWithdrawal(ctx, w.id, 'bob')).status).toBe('approved');
      await expect(
        custody.buildWithdrawals(ctx, { ids: [w.id], feeRate: 1 }),
      ).rejects.toMatchObject({
        code: 'E_POLICY',
        message: expect.stringMatching(/time-locked/),
      });
      clock.advance(61 * 60_000);
      // eligible now, but there are no coins: a clear E_INPUT, and nothing half-written
      await expect(
        custody.buildWithdrawals(ctx, { ids: [w.id], feeRate: 1 }),
      ).rejects.toMatchObject({
        code: 'E_INPUT',
        message: expect.stringMatching(/insufficient funds/),
      });
      expect((await custody.listWithdrawals(ctx))[0]!.status).toBe('approved');
      expect(await custody.listAddresses(ctx, 'w')).toHaveLength(0); // the change address rolled back
      await expect(
        custody.setPolicy(ctx, 'w', { document: { rules: [{ id: 'x' }], whitelist: [] } }),
      ).rejects.toMatchObject({
        code: 'E_INPUT',
      });
      await expect(
        custody.setPolicy(ctx, 'w', {
          flags: { whitelist: ['bc1qwu7hp9vckakyuw6htsy244qxtztrlyez4l7qlrpg68v6drgvj39qn4zazc'] },
        }),
      ).rejects.toMatchObject({ code: 'E_INPUT' });
    });

    it('the audit chain catches a deleted entry', async () => {
      await custody.newAddress(ctx, 'w');
      await custody.newAddress(ctx, 'w');
      expect((await custody.verifyAudit(ctx)).ok).toBe(true);
      await t.store.db.deleteFrom('custody_audit').where('seq', '=', 2).execute();
      const v = await custody.verifyAudit(ctx);
      expect(v.ok).toBe(false);
      expect(v.problems.map((p) => p.problem)).toContain('deleted-or-reordered');
    });
  });
}
