/**
 * What the console charts and follows: balance snapshots kept where the chain is synced (per
 * wallet and tier, with the float cap of the time), the balance history per tier against the
 * hot cap, and each withdrawal's pipeline (requested → approved → built → signed → broadcast →
 * confirmations) from the store and the audit chain. Reads only, apart from the snapshot that
 * `syncChain` records. Not authority: the pipeline is the store's view of events; the cosigner
 * and the watcher verify signatures themselves.
 */

import { balances } from './balances.js';
import type { CustodyContext } from './context.js';
import { getState } from './freeze.js';

/** A wallet's balance is snapshotted when it changed, or at least this often while syncing. */
export const SNAPSHOT_EVERY_MS = 3_600_000;

/**
 * Record one snapshot per wallet whose balance or cap changed since its last one (or whose last
 * one is older than an hour). Called at the end of `syncChain`.
 */
export async function recordBalanceSnapshots(
  c: CustodyContext,
  height: number,
  at: string,
): Promise<number> {
  const bs = await balances(c);
  let written = 0;
  for (const b of bs) {
    const last = await c.store.db
      .selectFrom('custody_balance_snapshot')
      .select(['at', 'confirmed', 'unconfirmed', 'float_cap'])
      .where('wallet', '=', b.wallet)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    const same =
      last &&
      Number(last.confirmed) === b.confirmed &&
      Number(last.unconfirmed) === b.unconfirmed &&
      (last.float_cap === null ? null : Number(last.float_cap)) === b.floatCap &&
      Date.parse(at) - Date.parse(last.at) < SNAPSHOT_EVERY_MS;
    if (same) continue;
    await c.store.db
      .insertInto('custody_balance_snapshot')
      .values({
        at,
        height,
        wallet: b.wallet,
        tier: b.tier,
        confirmed: b.confirmed,
        unconfirmed: b.unconfirmed,
        float_cap: b.floatCap,
      })
      .execute();
    written++;
  }
  return written;
}

export interface BalancePoint {
  at: string;
  height: number;
  /** Confirmed plus unconfirmed, satoshi. */
  total: number;
}

export interface BalanceHistory {
  wallets: { wallet: string; tier: string; points: (BalancePoint & { confirmed: number })[] }[];
  /** Per tier: at each snapshot time, the sum of each wallet's latest snapshot then. */
  tiers: { tier: string; points: BalancePoint[] }[];
  /** The hot float cap at each snapshot time (sum of the hot wallets' caps), null when none. */
  hotCap: { at: string; cap: number | null }[];
}

/**
 * Balance history from the snapshots, the newest `limit` times.
 * @example const h = await balanceHistory({ store }); h.tiers.find((t) => t.tier === 'hot')
 */
export async function balanceHistory(
  c: CustodyContext,
  opts: { limit?: number } = {},
): Promise<BalanceHistory> {
  const limit = Math.min(Math.max(opts.limit ?? 200, 1), 2000);
  const rows = await c.store.db
    .selectFrom('custody_balance_snapshot')
    .selectAll()
    .orderBy('at')
    .orderBy('id')
    .execute();
  const wallets = new Map<string, BalanceHistory['wallets'][number]>();
  const latest = new Map<string, { tier: string; total: number; cap: number | null }>();
  const times: string[] = [];
  const tierPoints = new Map<string, BalancePoint[]>();
  const hotCap: BalanceHistory['hotCap'] = [];
  for (const r of rows) {
    const total = Number(r.confirmed) + Number(r.unconfirmed);
    const w = wallets.get(r.wallet) ?? { wallet: r.wallet, tier: r.tier, points: [] };
    w.points.push({ at: r.at, height: Number(r.height), confirmed: Number(r.confirmed), total });
    wallets.set(r.wallet, w);
    latest.set(r.wallet, {
      tier: r.tier,
      total,
      cap: r.float_cap === null ? null : Number(r.float_cap),
    });
    // One point per time: a later row of the same sync replaces the point made for that time.
    if (times.at(-1) === r.at) {
      for (const pts of tierPoints.values()) pts.pop();
      hotCap.pop();
    } else times.push(r.at);
    const sums = new Map<string, number>();
    let cap: number | null = null;
    for (const l of latest.values()) {
      sums.set(l.tier, (sums.get(l.tier) ?? 0) + l.total);
      if (l.tier === 'hot' && l.cap !== null) cap = (cap ?? 0) + l.cap;
    }
    for (const tier of new Set([...tierPoints.keys(), ...sums.keys()])) {
      const pts = tierPoints.get(tier) ?? [];
      pts.push({ at: r.at, height: Number(r.height), total: sums.get(tier) ?? 0 });
      tierPoints.set(tier, pts);
    }
    hotCap.push({ at: r.at, cap });
  }
  const keep = <T>(xs: T[]) => xs.slice(-limit);
  return {
    wallets: [...wallets.values()].map((w) => ({ ...w, points: keep(w.points) })),
    tiers: ['hot', 'warm', 'cold']
      .filter((t) => tierPoints.has(t))
      .map((tier) => ({ tier, points: keep(tierPoints.get(tier)!) })),
    hotCap: keep(hotCap),
  };
}

export type PipelineStage = 'requested' | 'approved' | 'built' | 'signed' | 'broadcast';

export interface PipelineRow {
  id: number;
  wallet: string;
  to: string;
  amount: number;
  status: string;
  /** When each stage was reached, or null when not (yet). `signed` is the hot key's signature. */
  stages: Record<PipelineStage, string | null>;
  txid: string | null;
  /** Confirmations as of the last sync; 0 in the mempool; null when not seen on chain. */
  confirmations: number | null;
}

/**
 * The newest `limit` withdrawals with the time of each stage and their confirmations.
 * @example const p = await withdrawalPipeline({ store }); p.rows[0].stages.broadcast
 */
export async function withdrawalPipeline(
  c: CustodyContext,
  opts: { limit?: number } = {},
): Promise<{ syncHeight: number | null; rows: PipelineRow[] }> {
  const limit = Math.min(Math.max(opts.limit ?? 50, 1), 500);
  const db = c.store.db;
  const ws = await db
    .selectFrom('custody_withdrawal')
    .innerJoin('custody_wallet', 'custody_wallet.id', 'custody_withdrawal.wallet_id')
    .leftJoin('custody_psbt', 'custody_psbt.id', 'custody_withdrawal.psbt_id')
    .select([
      'custody_withdrawal.id',
      'custody_wallet.name as wallet',
      'custody_withdrawal.to_address',
      'custody_withdrawal.amount',
      'custody_withdrawal.status',
      'custody_withdrawal.decision',
      'custody_withdrawal.requested_at',
      'custody_withdrawal.txid',
      'custody_psbt.created_at as built_at',
    ])
    .orderBy('custody_withdrawal.id', 'desc')
    .limit(limit)
    .execute();
  if (!ws.length)
    return { syncHeight: (await getState<number>(db, 'sync_height')) ?? null, rows: [] };
  const ids = ws.map((w) => Number(w.id));
  const approvals = await db
    .selectFrom('custody_approval')
    .select(['withdrawal_id', 'at'])
    .where('withdrawal_id', 'in', ids)
    .execute();
  const lastApproval = new Map<number, string>();
  for (const a of approvals) {
    const id = Number(a.withdrawal_id);
    if ((lastApproval.get(id) ?? '') < a.at) lastApproval.set(id, a.at);
  }
  const txids = ws.map((w) => w.txid).filter((t): t is string => Boolean(t));
  const events = new Map<string, { signed?: string; broadcast?: string }>();
  if (txids.length) {
    const audit = await db
      .selectFrom('custody_audit')
      .select(['at', 'action', 'data'])
      .where('action', 'in', ['psbt.sign-hot', 'broadcast'])
      .orderBy('seq')
      .execute();
    for (const e of audit) {
      const txid = (JSON.parse(e.data) as { txid?: string }).txid;
      if (!txid || !txids.includes(txid)) continue;
      const ev = events.get(txid) ?? {};
      if (e.action === 'psbt.sign-hot') ev.signed ??= e.at;
      else ev.broadcast ??= e.at;
      events.set(txid, ev);
    }
  }
  const spends = txids.length
    ? await db
        .selectFrom('custody_utxo')
        .select(['spent_txid', 'spent_height'])
        .where('spent_txid', 'in', txids)
        .execute()
    : [];
  const syncHeight = (await getState<number>(db, 'sync_height')) ?? null;
  const rows = ws.map((w): PipelineRow => {
    const id = Number(w.id);
    const passed = ['approved', 'built', 'broadcast'].includes(w.status);
    const ev = w.txid ? (events.get(w.txid) ?? {}) : {};
    const spend = w.txid ? spends.find((s) => s.spent_txid === w.txid) : undefined;
    let confirmations: number | null = null;
    if (spend) {
      confirmations =
        spend.spent_height === null || syncHeight === null
          ? 0
          : syncHeight - Number(spend.spent_height) + 1;
    }
    return {
      id,
      wallet: w.wallet,
      to: w.to_address,
      amount: Number(w.amount),
      status: w.status,
      stages: {
        requested: w.requested_at,
        approved: passed ? (lastApproval.get(id) ?? w.requested_at) : null,
        built: w.built_at ?? null,
        signed: ev.signed ?? null,
        broadcast: ev.broadcast ?? null,
      },
      txid: w.txid,
      confirmations,
    };
  });
  return { syncHeight, rows };
}
