/**
 * The custody dashboard and JSON API in process (`createApp({ store })` + `app.request()`),
 * on both backends: an honest empty state, then tiers, withdrawals and the audit status.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as custody from '../../src/custody/index.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';
import { testApp } from '../helpers/web.js';

const XPUBS = [
  "[73c5da0a/48'/1'/0'/2']tpubDFH9dgzveyD8zTbPUFuLrGmCydNvxehyNdUXKJAQN8x4aZ4j6UZqGfnqFrD4NqyaTVGKbvEW54tsvPTK2UoSbCC1PJY8iCNiwTL3RWZEheQ",
];

for (const backend of testBackends()) {
  describe(`custody web (${backend})`, () => {
    let t: TestStore;
    beforeEach(async () => {
      t = await freshStore(backend);
    });
    afterEach(async () => {
      await t.cleanup();
    });
    it('empty state, then tiers, withdrawals and audit', async () => {
      const app = await testApp(t.store, 'test');
      let page = await (await app.request('/custody')).text();
      expect(page).toContain('No wallets yet.');
      const ctx = { store: t.store };
      await custody.createWallet(ctx, {
        name: 'cold1',
        tier: 'cold',
        threshold: 1,
        xpubs: XPUBS,
        network: 'regtest',
      });
      await custody.setPolicy(ctx, 'cold1', { flags: { approvers: ['alice', 'bob'], quorum: 2 } });
      const w = await custody.requestWithdrawal(
        ctx,
        'cold1',
        'bcrt1qft5p2uhsdcdc3l2ua4ap5qqfg4pjaqlp250x7us7a8qqhrxrxfsqseac85',
        1000n,
        'ops',
      );
      expect(w.status).toBe('pending');
      const tiers = await (await app.request('/api/v1/custody/tiers')).json();
      expect(tiers.tiers.find((x: { tier: string }) => x.tier === 'cold').wallets).toBe(1);
      const ws = await (await app.request('/api/v1/custody/withdrawals?status=pending')).json();
      expect(ws).toHaveLength(1);
      const audit = await (await app.request('/api/v1/custody/audit')).json();
      expect(audit).toMatchObject({ ok: true, count: 3 });
      page = await (await app.request('/custody')).text();
      expect(page).toContain('Hot float');
      expect(page).toContain('approvals');
    });
  });
}
