/**
 * Balances per wallet and per tier: the custody posture. Reads only, but for the hot float's
 * over-cap alert, which remembers whether it already warned.
 */

import { alert, type CustodyContext, TIERS, type Tier } from './context.js';
import { formatBtc } from './core/amount.js';
import { freezeState, getState, setState } from './freeze.js';
import { getWallet, listWallets } from './wallets.js';

export interface Balance {
  wallet: string;
  tier: Tier;
  confirmed: number;
  unconfirmed: number;
  total: number;
  floatCap: number | null;
}

export async function balances(c: CustodyContext, walletName?: string): Promise<Balance[]> {
  const ws = walletName ? [await getWallet(c, walletName)] : await listWallets(c);
  const out: Balance[] = [];
  for (const w of ws) {
    const rows = await c.store.db
      .selectFrom('custody_utxo')
      .select(['value', 'height'])
      .where('wallet_id', '=', w.id)
      .where('spent_txid', 'is', null)
      .execute();
    const confirmed = rows
      .filter((r) => r.height !== null)
      .reduce((s, r) => s + Number(r.value), 0);
    const unconfirmed = rows
      .filter((r) => r.height === null)
      .reduce((s, r) => s + Number(r.value), 0);
    out.push({
      wallet: w.name,
      tier: w.tier,
      confirmed,
      unconfirmed,
      total: confirmed + unconfirmed,
      floatCap: w.floatCap,
    });
  }
  return out;
}

export interface TierSummary {
  tier: Tier;
  wallets: number;
  confirmed: number;
  unconfirmed: number;
  total: number;
}

/** Per-tier totals and the hot float against its cap (the custody posture). */
export async function tiers(c: CustodyContext) {
  const bs = await balances(c);
  const summary: TierSummary[] = TIERS.map((tier) => {
    const of = bs.filter((b) => b.tier === tier);
    return {
      tier,
      wallets: of.length,
      confirmed: of.reduce((s, b) => s + b.confirmed, 0),
      unconfirmed: of.reduce((s, b) => s + b.unconfirmed, 0),
      total: of.reduce((s, b) => s + b.total, 0),
    };
  });
  const hot = bs.filter((b) => b.tier === 'hot');
  const capped = hot.filter((b) => b.floatCap !== null);
  const hotFloat = hot.reduce((s, b) => s + b.total, 0);
  const hotFloatCap = capped.length ? capped.reduce((s, b) => s + (b.floatCap ?? 0), 0) : null;
  const all = summary.reduce((s, t) => s + t.total, 0);
  const policies = await c.store.db.selectFrom('custody_policy').select('wallet_id').execute();
  return {
    tiers: summary,
    wallets: bs,
    hotFloat,
    hotFloatCap,
    overCap: hotFloatCap !== null && hotFloat > hotFloatCap,
    hotShare: all > 0 ? hotFloat / all : 0,
    policyCoverage: bs.length ? policies.length / bs.length : 0,
    frozen: (await freezeState(c)).frozen,
  };
}

/**
 * A WARNING when a hot wallet's float (confirmed and unconfirmed) goes over its cap: once per
 * episode, again only after the float was back under it. Called after a chain sync that moved
 * coins.
 * @example await alertFloatOverCap(ctx)
 */
export async function alertFloatOverCap(c: CustodyContext): Promise<void> {
  for (const b of await balances(c)) {
    if (b.tier !== 'hot' || b.floatCap === null) continue;
    const key = `float_over_cap:${b.wallet}`;
    const was = (await getState<boolean>(c.store.db, key)) ?? false;
    const over = b.total > b.floatCap;
    if (over === was) continue;
    await setState(c.store.db, key, over);
    if (!over) continue;
    await alert(
      c,
      'warning',
      'custody.float_over_cap',
      `hot wallet ${b.wallet} holds ${formatBtc(BigInt(b.total))} BTC, over its cap of ${formatBtc(BigInt(b.floatCap))} BTC`,
      `sweep the excess to cold: mamori custody sweep ${b.wallet} --to-tier cold`,
      { wallet: b.wallet, float: b.total, cap: b.floatCap },
    );
  }
}
