/**
 * The watcher: follows the chain and the mempool through the node adapter and, for any spend
 * of our coins that is not a PSBT Mamori built from approved withdrawals, raises a CRITICAL
 * alert (JSON line, the store's alert table, optional webhooks) and freezes all withdrawals.
 * Detection is by polling (default every 200 ms), so the freeze lands well inside one second of
 * the transaction reaching the node's mempool. Not a policy engine: it only compares spends
 * against what the policy already approved.
 */
import type { AlertSink } from '../alerts/index.js';
import { formatBtc } from './core/amount.js';
import type { ChainAdapter } from './core/chain.js';
import { type CustodyContext, freeze, syncChain } from './service.js';

export interface WatchEvent {
  type: 'sync' | 'unapproved-spend' | 'freeze' | 'deposit' | 'error';
  at: number;
  details: Record<string, unknown>;
}

export interface WatchOptions {
  sink: AlertSink;
  intervalMs?: number;
  signal?: AbortSignal;
  fromHeight?: number;
  onEvent?: (e: WatchEvent) => void;
  /** Stop after this many polls (tests, benchmarks). */
  maxPolls?: number;
}

/**
 * Poll until the signal aborts.
 * @example await watch(ctx, coreRpc(url), { sink, signal })
 */
export async function watch(
  c: CustodyContext,
  chain: ChainAdapter,
  o: WatchOptions,
): Promise<void> {
  const seen = new Set<string>();
  const interval = o.intervalMs ?? 200;
  let polls = 0;
  while (!o.signal?.aborted && (o.maxPolls === undefined || polls < o.maxPolls)) {
    polls++;
    try {
      await pollOnce(c, chain, o, seen);
    } catch (e) {
      o.onEvent?.({ type: 'error', at: Date.now(), details: { message: (e as Error).message } });
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, interval);
      o.signal?.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

/** One poll: sync, then judge every new spend of our coins. */
export async function pollOnce(
  c: CustodyContext,
  chain: ChainAdapter,
  o: WatchOptions,
  seen = new Set<string>(),
): Promise<{ unapproved: string[] }> {
  const r = await syncChain(c, chain, {
    seenMempool: seen,
    ...(o.fromHeight !== undefined ? { fromHeight: o.fromHeight } : {}),
  });
  for (const d of r.received) {
    o.onEvent?.({ type: 'deposit', at: Date.now(), details: { ...d } });
  }
  const bad = [...new Set(r.spent.filter((s) => !s.approved).map((s) => s.spentBy))];
  for (const txid of bad) {
    const outs = r.spent.filter((s) => s.spentBy === txid);
    const detectedAt = Date.now();
    o.onEvent?.({
      type: 'unapproved-spend',
      at: detectedAt,
      details: { txid, inputs: outs.length },
    });
    const state = await freeze(c, `unapproved spend of our coins in ${txid}`, txid);
    o.onEvent?.({ type: 'freeze', at: Date.now(), details: { txid, since: state.since } });
    await o.sink.raise({
      area: 'custody',
      kind: 'custody.unapproved_outflow',
      severity: 'critical',
      message: `unapproved spend of ${outs.length} of our coin(s) in ${txid}: custody frozen`,
      next: 'treat the spending keys as compromised; rotate cosigners, then unfreeze with the approvers quorum',
      details: { txid, coins: outs.map((s) => `${s.txid}:${s.vout}`), frozen: true },
    });
  }
  return { unapproved: bad };
}

export { formatBtc };
