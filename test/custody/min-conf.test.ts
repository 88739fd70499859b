/**
 * Coin selection on a real bcoin regtest node and a real store (SQLite, and PostgreSQL when
 * MAMORI_TEST_PG is set): a block reward mined to the wallet is not spent before 100
 * confirmations (the node would refuse it: bad-txns-premature-spend-of-coinbase), a deposit from
 * outside waits for --min-conf confirmations (default 1), and what is built is accepted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegtestNode } from '../../src/custody/index.js';
import * as custody from '../../src/custody/index.js';
import { manualClock } from '../../src/shared/clock.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';

const PASS = 'correct horse battery';
const FAST = { N: 2 ** 12, r: 8, p: 1 };
const payee = 'bcrt1q7sgx6gscgtau57jduend6a8l445ahpk3dt3u5zu58rx5qm27lhkq9s85ce';

for (const backend of testBackends()) {
  describe(`custody coin selection: coinbase maturity and --min-conf (${backend})`, () => {
    let node: RegtestNode;
    let t: TestStore;
    let chain: ReturnType<typeof custody.coreRpc>;
    let ctx: custody.CustodyContext;
    let keys: Awaited<ReturnType<typeof custody.newKey>>[];
    const clock = manualClock(Date.now());

    beforeAll(async () => {
      node = await custody.startRegtestNode({ port: 0 });
      chain = custody.coreRpc(node.url);
      t = await freshStore(backend);
      ctx = { store: t.store, clock, actor: 'test' };
      keys = [];
      for (let i = 0; i < 3; i++) {
        keys.push(await custody.newKey('regtest', PASS, { scrypt: FAST }));
      }
      await custody.createWallet(ctx, {
        name: 'hot',
        tier: 'hot',
        threshold: 2,
        xpubs: keys.map((k) => k.file.public.originXpub),
        network: 'regtest',
      });
      await custody.setPolicy(ctx, 'hot', { flags: { limitSats: 10_000_000_000 } });
    }, 120_000);
    afterAll(async () => {
      await node?.close();
      await t?.cleanup();
    });

    /** Sign with two cosigner keys and broadcast through Mamori. */
    const signAndSend = async (psbt: string) => {
      const tx = custody.decodePsbt(psbt);
      for (const k of keys.slice(0, 2)) {
        const m = await custody.unlockKeyFile(k.file, PASS);
        custody.signPsbt(tx, m);
        m.wipePrivateData();
      }
      return custody.broadcast(ctx, chain, custody.encodePsbt(tx));
    };
    const inputsOf = (psbt: string) =>
      custody
        .inspectPsbt(custody.decodePsbt(psbt), custody.network('regtest'))
        .inputs.map((i) => i.outpoint);

    it('never spends an immature coinbase, and a deposit only with --min-conf confirmations', {
      timeout: 240_000,
    }, async () => {
      const reward = await custody.newAddress(ctx, 'hot', 'block rewards');
      const [rewardBlock] = await node.mine(1, reward.address);
      expect(rewardBlock).toBeDefined();
      await node.mine(5);
      await custody.syncChain(ctx, chain, { fromHeight: 430 });
      const coinbase = await t.store.db
        .selectFrom('custody_utxo')
        .selectAll()
        .where('address', '=', reward.address)
        .executeTakeFirstOrThrow();
      expect(Number(coinbase.coinbase)).toBe(1);
      const coinbaseOutpoint = `${coinbase.txid}:${coinbase.vout}`;
      const [b] = await custody.balances(ctx, 'hot');
      expect(b!.confirmed).toBe(Number(coinbase.value)); // the balance shows it, selection does not

      // a third-party deposit, still in the mempool
      const dep = await custody.newAddress(ctx, 'hot', 'customer');
      await node.fund(dep.address, 30_000_000);
      await custody.syncChain(ctx, chain);
      const w1 = await custody.requestWithdrawal(ctx, 'hot', payee, 10_000_000n, 'ops');
      expect(w1.status).toBe('approved');
      // default --min-conf 1: the deposit waits, the coinbase (6 confirmations) waits
      const refused = await custody.buildWithdrawals(ctx, { ids: [w1.id], feeRate: 2, chain }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(refused).toMatchObject({
        code: 'E_INPUT',
        details: { reason: 'coins-not-spendable' },
      });
      expect(String((refused as { hint?: string }).hint)).toMatch(/immature coinbase: 6 of 100/);
      expect(String((refused as { hint?: string }).hint)).toMatch(/deposit with 0 of 1/);
      // --min-conf 0: the deposit may go, the coinbase still never
      const zero = await custody.buildWithdrawals(ctx, {
        ids: [w1.id],
        feeRate: 2,
        chain,
        minConf: 0,
      });
      expect(inputsOf(zero.psbt)).not.toContain(coinbaseOutpoint);
      expect(inputsOf(zero.psbt)).toHaveLength(1);
      const sent = await signAndSend(zero.psbt);
      expect(sent.txid).toBe(zero.txid);
      await node.mine(1);
      await custody.syncChain(ctx, chain);

      // more than the deposit's change: only the coinbase could pay, and it has 7 of 100
      const w2 = await custody.requestWithdrawal(ctx, 'hot', payee, 100_000_000n, 'ops');
      await expect(
        custody.buildWithdrawals(ctx, { ids: [w2.id], feeRate: 2, chain, minConf: 0 }),
      ).rejects.toMatchObject({ code: 'E_INPUT', details: { reason: 'coins-not-spendable' } });
      // 99 confirmations: still held back (the node would refuse it as premature)
      await node.mine(92);
      await custody.syncChain(ctx, chain);
      await expect(
        custody.buildWithdrawals(ctx, { ids: [w2.id], feeRate: 2, chain }),
      ).rejects.toMatchObject({ details: { reason: 'coins-not-spendable' } });
      // 100 confirmations: mature; it is selected and the node accepts the spend
      await node.mine(1);
      await custody.syncChain(ctx, chain);
      const built = await custody.buildWithdrawals(ctx, { ids: [w2.id], feeRate: 2, chain });
      expect(inputsOf(built.psbt)).toContain(coinbaseOutpoint);
      const sent2 = await signAndSend(built.psbt);
      expect(sent2.txid).toBe(built.txid);
    });
  });
}
