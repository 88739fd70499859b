/**
 * Sweeps of the hot float above its cap to an own colder wallet listed in the signed policy.
 */
import { MamoriError } from '../shared/errors.js';
import { issueAddress } from './addresses.js';
import { balances } from './balances.js';
import { appendAudit, type CustodyContext, forged, inTx, type Tier } from './context.js';
import { formatBtc } from './core/amount.js';
import { canonicalJson } from './core/audit.js';
import type { Decision } from './core/policy.js';
import { assertNotFrozen } from './freeze.js';
import { verifiedPolicyOf, walletRef } from './trust.js';
import { getWallet, type WalletRow, walletRow } from './wallets.js';
import { type WithdrawalRow, withdrawalRow } from './withdrawals.js';

/**
 * Move the hot float above its cap to a fresh address of a colder wallet: an internal transfer,
 * recorded as an approved withdrawal (rule `sweep-to-<tier>`) ready for `withdraw build`.
 * Refilling hot from warm is an ordinary withdrawal from warm and needs warm's approvals.
 */
export async function sweep(
  c: CustodyContext,
  hotName: string,
  toTier: Tier = 'cold',
  opts: { toWallet?: string } = {},
): Promise<{
  swept: number;
  withdrawal?: WithdrawalRow;
  to?: string;
  floatCap: number;
  float: number;
}> {
  const hot = await getWallet(c, hotName);
  if (hot.tier !== 'hot')
    throw new MamoriError('E_INPUT', `wallet "${hotName}" is ${hot.tier}, not hot`);
  if (toTier === 'hot')
    throw new MamoriError('E_INPUT', 'sweep goes to a colder tier (warm or cold)');
  // A bound wallet's cap and own wallets come from its verified signed policy only.
  const signed = hot.genesisHash ? (await verifiedPolicyOf(c, hot)).vp : undefined;
  if (signed) hot.floatCap = signed.policy.hotFloatCap ?? null;
  if (hot.floatCap === null) {
    throw new MamoriError('E_INPUT', `wallet "${hotName}" has no hot float cap`, {
      hint: 'set one with: mamori custody policy set <wallet> --hot-cap <BTC>',
    });
  }
  const [b] = await balances(c, hotName);
  const float = b!.total;
  const excess = float - hot.floatCap;
  if (excess <= 0) return { swept: 0, floatCap: hot.floatCap, float };
  return inTx(c, async (trx, at, actor) => {
    await assertNotFrozen(trx, c);
    let target: WalletRow | undefined;
    if (signed) {
      const own = signed.ownWallets.filter(
        (o) => o.tier === toTier && (!opts.toWallet || o.name === opts.toWallet),
      );
      if (!own.length) {
        throw new MamoriError(
          'E_POLICY',
          `the signed policy of ${hot.name} lists no own ${toTier} wallet${opts.toWallet ? ` named ${opts.toWallet}` : ''} to sweep to`,
          { details: { reason: 'sweep-not-own-wallet' } },
        );
      }
      target = await getWallet(trx, own[0]!.name);
      if (canonicalJson(walletRef(target)) !== canonicalJson(own[0])) {
        throw forged(
          `wallet ${target.name}`,
          new MamoriError('E_POLICY', 'its descriptor is not the one the signed policy lists', {
            details: { reason: 'sweep-not-own-wallet' },
          }),
        );
      }
    } else if (opts.toWallet) target = await getWallet(trx, opts.toWallet);
    else {
      const r = await trx
        .selectFrom('custody_wallet')
        .selectAll()
        .where('tier', '=', toTier)
        .where('network', '=', hot.network)
        .orderBy('id')
        .executeTakeFirst();
      target = r ? walletRow(r) : undefined;
    }
    if (!target || target.tier !== toTier || target.network !== hot.network) {
      throw new MamoriError('E_NOT_FOUND', `no ${toTier} wallet on ${hot.network} to sweep to`);
    }
    const addr = await issueAddress(trx, target, 0, `sweep from ${hot.name}`, at);
    const decision: Decision = {
      outcome: 'approved',
      rule: `sweep-to-${toTier}`,
      reason: `hot float ${formatBtc(BigInt(float))} exceeds its cap ${formatBtc(BigInt(hot.floatCap!))}: ${formatBtc(BigInt(excess))} to our own ${toTier} wallet "${target.name}"`,
      trace: [],
    };
    const row = await trx
      .insertInto('custody_withdrawal')
      .values({
        wallet_id: hot.id,
        to_address: addr.address,
        amount: excess,
        status: 'approved',
        decision: JSON.stringify(decision),
        requested_by: 'sweep',
        requested_at: at,
        eligible_at: null,
        psbt_id: null,
        txid: null,
        statement: canonicalJson({
          sweep: {
            address: addr.address,
            amount: excess,
            wallet: target.name,
            branch: 0,
            index: addr.index,
          },
        }),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await appendAudit(trx, at, actor, 'sweep', {
      id: Number(row.id),
      from: hot.name,
      to: target.name,
      address: addr.address,
      amount: excess,
    });
    return {
      swept: excess,
      withdrawal: await withdrawalRow(trx, Number(row.id)),
      to: addr.address,
      floatCap: hot.floatCap!,
      float,
    };
  });
}
