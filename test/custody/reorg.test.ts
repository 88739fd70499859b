/**
 * The chain follower across a reorg on bcoin regtest: a confirmed deposit whose block is
 * invalidated is rolled back (no longer confirmed), the reorg is audited, and the new chain is
 * followed from the fork.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as custody from '../../src/custody/index.js';
import { freshStore, type TestStore } from '../helpers/db.js';

describe('chain follower across a reorg (bcoin regtest)', () => {
  let node: custody.RegtestNode;
  let t: TestStore;
  beforeAll(async () => {
    node = await custody.startRegtestNode({ port: 0 });
    t = await freshStore('sqlite');
  });
  afterAll(async () => {
    await node?.close();
    await t?.cleanup();
  });

  it('rolls back outputs of orphaned blocks and follows the new chain', async () => {
    const ctx = { store: t.store };
    const chain = custody.coreRpc(node.url);
    const k = await custody.newKey('regtest', 'a long passphrase', {
      scrypt: { N: 2 ** 12, r: 8, p: 1 },
    });
    await custody.createWallet(ctx, {
      name: 'w',
      tier: 'warm',
      threshold: 1,
      xpubs: [k.file.public.originXpub],
      network: 'regtest',
    });
    const a = await custody.newAddress(ctx, 'w');
    const tip0 = await chain.tipHeight();
    await node.fund(a.address, 70_000_000);
    await node.mine(1);
    await custody.syncChain(ctx, chain, { fromHeight: tip0 - 2 });
    expect((await custody.balances(ctx, 'w'))[0]).toMatchObject({ confirmed: 70_000_000 });
    // the block with our deposit is orphaned; the deposit goes back to the mempool
    const deposit = (
      await t.store.db.selectFrom('custody_utxo').select('txid').executeTakeFirstOrThrow()
    ).txid;
    const raw = await chain.call<string>('getrawtransaction', [deposit]);
    const orphan = await chain.blockHash(tip0 + 1);
    await node.rewind(tip0);
    expect(await chain.tipHeight()).toBe(tip0);
    await chain.broadcast(raw);
    const r = await custody.syncChain(ctx, chain);
    expect(r.reorg).toMatchObject({ forkHeight: tip0, dropped: 1 });
    expect((await custody.balances(ctx, 'w'))[0]).toMatchObject({
      confirmed: 0,
      unconfirmed: 70_000_000,
    });
    // the new chain, with a different first block (rewards to another address)
    await node.mine(1, 'bcrt1q7sgx6gscgtau57jduend6a8l445ahpk3dt3u5zu58rx5qm27lhkq9s85ce');
    await node.mine(1);
    expect(await chain.blockHash(tip0 + 1)).not.toBe(orphan);
    const r2 = await custody.syncChain(ctx, chain);
    expect(r2.reorg).toBeUndefined();
    expect(r2.blocks).toBe(2);
    expect((await custody.balances(ctx, 'w'))[0]).toMatchObject({
      confirmed: 70_000_000,
      unconfirmed: 0,
    });
    const audit = await t.store.db.selectFrom('custody_audit').select('action').execute();
    expect(audit.map((x) => x.action)).toContain('chain.reorg');
    expect((await custody.verifyAudit(ctx)).ok).toBe(true);
  });
});
