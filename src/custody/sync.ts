/**
 * Chain sync: our outputs and the spends of them, reorgs.
 */
import { isoUtc } from '../shared/clock.js';
import { appendAudit, type CustodyContext, inTx, now } from './context.js';
import type { ChainAdapter } from './core/chain.js';
import { getState, setState } from './freeze.js';
import { recordBalanceSnapshots } from './history.js';

export interface SyncResult {
  height: number;
  blocks: number;
  /** Set when the node's chain no longer has blocks we had synced: the fork height. */
  reorg?: { forkHeight: number; dropped: number };
  received: { txid: string; vout: number; value: number; wallet: string }[];
  spent: { txid: string; vout: number; spentBy: string; approved: boolean }[];
}

/**
 * Follow the chain from the last synced height and the mempool: record our outputs and the
 * spends of them. Returns what changed (the watcher decides whether a spend is approved).
 */
export async function syncChain(
  c: CustodyContext,
  chain: ChainAdapter,
  opts: { mempool?: boolean; fromHeight?: number; seenMempool?: Set<string> } = {},
): Promise<SyncResult> {
  const addrRows = await c.store.db
    .selectFrom('custody_address')
    .innerJoin('custody_wallet', 'custody_wallet.id', 'custody_address.wallet_id')
    .select([
      'custody_address.script',
      'custody_address.address',
      'custody_wallet.id as wid',
      'custody_wallet.name',
    ])
    .execute();
  const byScript = new Map(addrRows.map((a) => [a.script, a]));
  const tip = await chain.tipHeight();
  // A new store starts at --from-height, else from genesis on a short (regtest) chain, else a day back.
  let last =
    (await getState<number>(c.store.db, 'sync_height')) ??
    (opts.fromHeight !== undefined ? opts.fromHeight - 1 : tip <= 2000 ? -1 : tip - 145);
  const result: SyncResult = { height: tip, blocks: 0, received: [], spent: [] };
  const at = isoUtc(now(c));
  // Reorg: walk back from what we synced until our block hash matches the node's again,
  // then forget what the orphaned blocks told us (outputs and spends above the fork).
  const hashes = (await getState<Record<string, string>>(c.store.db, 'sync_hashes')) ?? {};
  let fork = Math.min(last, tip);
  while (fork >= 0 && hashes[fork] !== undefined && hashes[fork] !== (await chain.blockHash(fork)))
    fork--;
  if (fork < last && last >= 0 && Object.keys(hashes).length) {
    await inTx(c, async (trx, at2, actor) => {
      const dropped = await trx
        .deleteFrom('custody_utxo')
        .where('height', '>', fork)
        .executeTakeFirst();
      await trx
        .updateTable('custody_utxo')
        .set({ spent_txid: null, spent_height: null })
        .where('spent_height', '>', fork)
        .execute();
      await setState(trx, 'sync_height', fork);
      for (const h of Object.keys(hashes)) if (Number(h) > fork) delete hashes[h];
      await setState(trx, 'sync_hashes', hashes);
      result.reorg = { forkHeight: fork, dropped: Number(dropped.numDeletedRows) };
      await appendAudit(trx, at2, actor, 'chain.reorg', { from: last, forkHeight: fork });
    });
    last = fork;
  }
  const approvedTxids = new Set(
    (
      await c.store.db
        .selectFrom('custody_psbt')
        .select('txid')
        .where('status', 'in', ['built', 'broadcast'])
        .execute()
    ).map((r) => r.txid),
  );
  const apply = async (txs: import('./core/chain.js').ChainTx[], height: number | null) => {
    for (const t of txs) {
      for (const v of t.vin) {
        const u = await c.store.db
          .selectFrom('custody_utxo')
          .select(['id', 'spent_txid'])
          .where('txid', '=', v.txid)
          .where('vout', '=', v.vout)
          .executeTakeFirst();
        if (!u) continue;
        if (u.spent_txid !== t.txid || height !== null) {
          await c.store.db
            .updateTable('custody_utxo')
            .set({ spent_txid: t.txid, spent_height: height })
            .where('id', '=', u.id)
            .execute();
        }
        if (u.spent_txid !== t.txid) {
          result.spent.push({
            txid: v.txid,
            vout: v.vout,
            spentBy: t.txid,
            approved: approvedTxids.has(t.txid),
          });
        }
      }
      for (const o of t.vout) {
        const a = byScript.get(o.script);
        if (!a) continue;
        const exists = await c.store.db
          .selectFrom('custody_utxo')
          .select(['id', 'height'])
          .where('txid', '=', t.txid)
          .where('vout', '=', o.n)
          .executeTakeFirst();
        if (exists) {
          if (exists.height === null && height !== null) {
            await c.store.db
              .updateTable('custody_utxo')
              .set({ height })
              .where('id', '=', exists.id)
              .execute();
          }
          continue;
        }
        await c.store.db
          .insertInto('custody_utxo')
          .values({
            wallet_id: Number(a.wid),
            txid: t.txid,
            vout: o.n,
            value: o.value,
            address: a.address,
            height,
            spent_txid: null,
            spent_height: null,
            seen_at: at,
          })
          .execute();
        result.received.push({ txid: t.txid, vout: o.n, value: o.value, wallet: a.name });
      }
    }
  };
  for (let h = Math.max(0, last + 1); h <= tip; h++) {
    const b = await chain.blockAt(h);
    await apply(b.txs, h);
    hashes[h] = b.hash;
    result.blocks++;
  }
  if (result.blocks) {
    for (const h of Object.keys(hashes)) if (Number(h) < tip - 100) delete hashes[h];
    await setState(c.store.db, 'sync_hashes', hashes);
    await setState(c.store.db, 'sync_height', tip);
  }
  if (opts.mempool !== false) {
    const seen = opts.seenMempool ?? new Set<string>();
    for (const txid of await chain.mempoolTxids()) {
      if (seen.has(txid)) continue;
      seen.add(txid);
      await apply([await chain.tx(txid)], null);
    }
  }
  // Only when something moved: an idle watcher poll costs no store writes.
  if (result.blocks || result.received.length || result.spent.length || result.reorg) {
    await recordBalanceSnapshots(c, tip, at);
  }
  return result;
}
