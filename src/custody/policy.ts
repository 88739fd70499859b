/**
 * The stored policy of each wallet: the head of its admin-signed chain, checked against its
 * signatures where it is used. Not the rule engine: see `core/policy.ts`.
 */

import { MamoriError } from '../shared/errors.js';
import { alert, appendAudit, type CustodyContext, type Db, inTx, type Trx } from './context.js';
import { network } from './core/network.js';
import {
  compilePolicy,
  emptyPolicy,
  type Policy,
  type PolicyFlags,
  parsePolicy,
  policyFlags,
} from './core/policy.js';
import { assertNotFrozen } from './freeze.js';
import { getWallet, listWallets } from './wallets.js';

export async function getPolicy(db: Trx | Db, walletId: number): Promise<Policy | undefined> {
  const r = await db
    .selectFrom('custody_policy')
    .select('rules')
    .where('wallet_id', '=', walletId)
    .executeTakeFirst();
  return r ? parsePolicy(JSON.parse(r.rules)) : undefined;
}

/**
 * Replace a wallet's policy: from flags (compiled onto the existing whitelist) or a document.
 * @example await setPolicy(ctx, 'hot', { flags: { limitSats: 1e8, approvers: ['a', 'b'], quorum: 2 } })
 */
export async function setPolicy(
  c: CustodyContext,
  walletName: string,
  input: { flags?: PolicyFlags; document?: unknown },
): Promise<Policy> {
  const policy = await inTx(c, async (trx, at, actor) => {
    await assertNotFrozen(trx, c);
    const w = await getWallet(trx, walletName);
    if (w.genesisHash) {
      throw new MamoriError(
        'E_POLICY',
        `wallet ${w.name} is bound to a trust root: its policy changes only by k admin signatures`,
        {
          hint: 'mamori custody policy propose|sign|apply',
          details: { reason: 'policy-under-signed' },
        },
      );
    }
    const net = network(w.network);
    const base = (await getPolicy(trx, w.id)) ?? emptyPolicy();
    // A partial update: the rules a flag does not name are kept.
    const policy = input.document
      ? parsePolicy(input.document)
      : compilePolicy(base, { ...policyFlags(base), ...input.flags }, at);
    const { addressScript } = await import('./core/descriptor.js');
    for (const e of policy.whitelist) addressScript(e.address, net); // wrong network → E_INPUT
    const text = JSON.stringify(policy);
    const done = await trx
      .updateTable('custody_policy')
      .set({ rules: text, updated_at: at })
      .where('wallet_id', '=', w.id)
      .executeTakeFirst();
    if (Number(done.numUpdatedRows) === 0) {
      await trx
        .insertInto('custody_policy')
        .values({ wallet_id: w.id, rules: text, updated_at: at })
        .execute();
    }
    if (policy.hotFloatCap !== undefined) {
      await trx
        .updateTable('custody_wallet')
        .set({ float_cap: policy.hotFloatCap })
        .where('id', '=', w.id)
        .execute();
    }
    await appendAudit(trx, at, actor, 'policy.set', { wallet: w.name, policy });
    return policy;
  });
  await alert(
    c,
    'notice',
    'custody.policy_change',
    `policy of ${walletName} was replaced (a wallet without a trust root: no admin signatures)`,
    'check that the change was expected (mamori custody policy show)',
    { wallet: walletName, policy },
  );
  return policy;
}

export async function showPolicies(c: CustodyContext, walletName?: string) {
  const ws = walletName ? [await getWallet(c, walletName)] : await listWallets(c);
  const out: { wallet: string; tier: string; policy: Policy | null }[] = [];
  for (const w of ws)
    out.push({ wallet: w.name, tier: w.tier, policy: (await getPolicy(c.store.db, w.id)) ?? null });
  return out;
}
