/**
 * The watcher: follows the chain and the mempool through the node adapter with its own cursor
 * (`custody_watch`), independent of the one `balance --node` and the other syncs move, and judges
 * every spend of our coins (`core/watch.ts`): a recorded withdrawal, a replacement (RBF) of one,
 * or an unapproved outflow, which freezes all withdrawals and raises a CRITICAL alert. It fails
 * closed: a node it cannot reach, or one that stops answering for `blindAfterMs`, raises a
 * CRITICAL "watcher blind" alert (once per episode, then a recovery notice), and a node never
 * reached at start is an `E_NETWORK` error. Its heartbeat is in the store for `tiers` and the
 * posture API. Not a policy engine: it only compares spends against what was recorded.
 */
import type { AlertSink } from '../alerts/index.js';
import { isoUtc, sleep, systemClock } from '../shared/clock.js';
import { MamoriError } from '../shared/errors.js';
import { formatBtc } from './core/amount.js';
import type { ChainAdapter, ChainTx } from './core/chain.js';
import { velocityAnomaly } from './core/policy.js';
import { type BlindReason, blindness, judgeSpend, type RecordedSpend } from './core/watch.js';
import { type CustodyContext, freeze, listWallets, syncChain } from './service.js';
import { spendIsSigned } from './signed.js';
import {
  type Cursor,
  claimSpend,
  coinsAtRisk,
  ensureWatchRow,
  initialCursorHeight,
  judgedSpend,
  loadCursor,
  markAlerted,
  ownScripts,
  recordedSpends,
  saveCursor,
  startHeartbeat,
  writeHeartbeat,
} from './watch-store.js';

export interface WatchEvent {
  type:
    | 'sync'
    | 'unapproved-spend'
    | 'freeze'
    | 'deposit'
    | 'withdrawal'
    | 'replacement'
    | 'reorg'
    | 'blind'
    | 'recovered'
    | 'error';
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
  /** No completed poll for this long is a "watcher blind" alert (default 30 s). */
  blindAfterMs?: number;
  /** The node's tip not moving for this long is also blind (default 2 h; 0 = off). */
  staleAfterMs?: number;
  /** The watcher's name: its cursor and heartbeat row (default `default`). */
  name?: string;
  /** How often the heartbeat is written at most (default 1 s); state changes write at once. */
  heartbeatMs?: number;
}

export const DEFAULT_BLIND_AFTER_MS = 30_000;
export const DEFAULT_STALE_AFTER_MS = 2 * 3600_000;

/** What one watcher remembers between polls; bounded by the node's mempool, not by time. */
export interface PollMemo {
  name: string;
  /** Mempool txids the watcher has judged (pruned to the current mempool every poll). */
  seen: Set<string>;
  /** Mempool txids the shared sync has applied (pruned the same way). */
  syncSeen: Set<string>;
  cursor?: Cursor;
  lastTip?: { height: number; hash: string };
}

export function newPollMemo(name = 'default'): PollMemo {
  return { name, seen: new Set(), syncSeen: new Set() };
}

// Callers of the earlier `pollOnce(c, chain, o, seen)` pass a Set; keep their memo with it.
const legacyMemos = new WeakMap<Set<string>, PollMemo>();

export interface PollResult {
  /** Txids of unapproved spends alerted in this poll. */
  unapproved: string[];
  tip: number;
  /** True when nothing changed on the node since the last poll (no store work was done). */
  idle: boolean;
}

/**
 * A view of the node for one poll: each answer is asked once, so the shared sync and the
 * watcher's own scan read the same blocks and mempool transactions without fetching them twice.
 */
function pollView(chain: ChainAdapter): ChainAdapter {
  const once = <K, V>(m: Map<K, Promise<V>>, k: K, f: () => Promise<V>) => {
    let p = m.get(k);
    if (!p) {
      p = f();
      m.set(k, p);
    }
    return p;
  };
  const tip = new Map<0, Promise<number>>();
  const mempool = new Map<0, Promise<string[]>>();
  const hashes = new Map<number, Promise<string>>();
  const blocks = new Map<number, Promise<{ hash: string; txs: ChainTx[] }>>();
  const txs = new Map<string, Promise<ChainTx>>();
  return {
    kind: chain.kind,
    tipHeight: () => once(tip, 0, () => chain.tipHeight()),
    blockHash: (h) => once(hashes, h, () => chain.blockHash(h)),
    blockAt: (h) => once(blocks, h, () => chain.blockAt(h)),
    mempoolTxids: () => once(mempool, 0, () => chain.mempoolTxids()),
    tx: (id) => once(txs, id, () => chain.tx(id)),
    broadcast: (hex) => chain.broadcast(hex),
    feeRate: () => chain.feeRate(),
  };
}

function keepOnly(set: Set<string>, current: Set<string>): void {
  for (const t of set) if (!current.has(t)) set.delete(t);
}

/**
 * One poll: sync the shared store, then judge every spend of our coins in the blocks above the
 * watcher's own cursor and in the mempool. An idle node (same tip, no new mempool transaction)
 * costs three node calls and no store work.
 * @example const r = await pollOnce(ctx, chain, { sink }); r.unapproved
 */
export async function pollOnce(
  c: CustodyContext,
  chain: ChainAdapter,
  o: WatchOptions,
  memoOrSeen?: PollMemo | Set<string>,
): Promise<PollResult> {
  let memo: PollMemo;
  if (memoOrSeen instanceof Set) {
    memo = legacyMemos.get(memoOrSeen) ?? newPollMemo(o.name);
    legacyMemos.set(memoOrSeen, memo);
  } else memo = memoOrSeen ?? newPollMemo(o.name);
  const db = c.store.db;
  const now = () => (c.clock ?? systemClock).now();
  const view = pollView(chain);
  const tip = await view.tipHeight();
  const tipHash = await view.blockHash(tip);
  const mempool = await view.mempoolTxids();
  const inMempool = new Set(mempool);
  if (
    memo.lastTip?.height === tip &&
    memo.lastTip.hash === tipHash &&
    memo.cursor?.height === tip &&
    mempool.every((t) => memo.seen.has(t))
  ) {
    keepOnly(memo.seen, inMempool);
    return { unapproved: [], tip, idle: true };
  }
  const r = await syncChain(c, view, {
    seenMempool: memo.syncSeen,
    ...(o.fromHeight !== undefined ? { fromHeight: o.fromHeight } : {}),
  });
  keepOnly(memo.syncSeen, inMempool);
  for (const d of r.received) {
    o.onEvent?.({ type: 'deposit', at: now(), details: { ...d } });
  }
  if (!memo.cursor) {
    await ensureWatchRow(db, memo.name, isoUtc(now()), o.blindAfterMs ?? DEFAULT_BLIND_AFTER_MS);
    memo.cursor = await loadCursor(db, memo.name);
  }
  const cursor = memo.cursor;
  if (cursor.height === null) cursor.height = await initialCursorHeight(db, tip, o.fromHeight);
  // A reorg below the cursor: step back to where our hashes agree with the node's again.
  let h = Math.min(cursor.height, tip);
  while (h >= 0 && cursor.hashes[h] !== undefined && cursor.hashes[h] !== (await view.blockHash(h)))
    h--;
  if (h < cursor.height) {
    o.onEvent?.({ type: 'reorg', at: now(), details: { from: cursor.height, to: h } });
    for (const k of Object.keys(cursor.hashes)) if (Number(k) > h) delete cursor.hashes[k];
    cursor.height = h;
  }
  const coins = await coinsAtRisk(db, cursor.height);
  let recorded: (RecordedSpend & { bound: boolean })[] | undefined;
  const unapproved: string[] = [];
  let approvedNow = 0;
  const judge = async (tx: ChainTx, height: number | null) => {
    const ours = tx.vin.map((v) => `${v.txid}:${v.vout}`).filter((k) => coins.has(k));
    if (!ours.length) return;
    const prior = await judgedSpend(db, tx.txid);
    if (prior && !(prior.verdict === 'unapproved' && prior.alerted_at === null)) return;
    recorded ??= await recordedSpends(db);
    // Only the rows this spend could match have their signatures checked, not every PSBT ever
    // built: verifying evidence costs a Schnorr check per payee and approval.
    const related = await signedSpends(
      c,
      recorded.filter((x) => x.txid === tx.txid || x.inputs.some((i) => ours.includes(i))),
    );
    const own = await ownScripts(db, [
      ...tx.vout.map((x) => x.script),
      ...related.flatMap((x) => x.outputs.map((y) => y.script)),
    ]);
    const v = judgeSpend(tx, {
      ourCoin: (k) => coins.get(k),
      isOwnScript: (s) => own.has(s),
      recorded: related,
    });
    const at = now();
    const claim = await claimSpend(db, {
      txid: tx.txid,
      verdict: v.verdict,
      matchedTxid: v.matched ?? null,
      reason: v.verdict === 'unapproved' ? v.reason : null,
      coins: ours,
      height,
      at: isoUtc(at),
    });
    if (v.verdict !== 'unapproved') {
      if (!claim.fresh) return;
      approvedNow++;
      o.onEvent?.({
        type: v.verdict,
        at,
        details: { txid: tx.txid, matched: v.matched, inputs: ours.length, height },
      });
      if (v.verdict === 'replacement') {
        await o.sink.raise({
          area: 'custody',
          kind: 'custody.withdrawal_replaced',
          severity: 'info',
          message: `${tx.txid} replaces our recorded withdrawal ${v.matched} (same inputs, same payees)`,
          next: 'nothing to do if a fee bump was intended',
          details: { txid: tx.txid, replaces: v.matched, height },
        });
      }
      return;
    }
    if (!claim.owed) return;
    o.onEvent?.({
      type: 'unapproved-spend',
      at,
      details: { txid: tx.txid, inputs: ours.length, height, reason: v.reason },
    });
    const state = await freeze(c, `unapproved spend of our coins in ${tx.txid}`, tx.txid);
    o.onEvent?.({ type: 'freeze', at: now(), details: { txid: tx.txid, since: state.since } });
    await o.sink.raise({
      area: 'custody',
      kind: 'custody.unapproved_outflow',
      severity: 'critical',
      message: `unapproved spend of ${ours.length} of our coin(s) in ${tx.txid}: custody frozen`,
      next: 'treat the spending keys as compromised; rotate cosigners, then unfreeze with the approvers quorum',
      details: {
        txid: tx.txid,
        coins: ours,
        frozen: true,
        height,
        reason: v.reason,
        ...(v.matched ? { matched: v.matched } : {}),
      },
    });
    await markAlerted(db, tx.txid, isoUtc(now()));
    unapproved.push(tx.txid);
  };
  let saved = cursor.height;
  for (let b = cursor.height + 1; b <= tip; b++) {
    if (coins.size) {
      const block = await view.blockAt(b);
      for (const tx of block.txs) await judge(tx, b);
      cursor.hashes[b] = block.hash;
    } else if (b === tip) cursor.hashes[b] = tipHash;
    cursor.height = b;
    if (b - saved >= 100) {
      await saveCursor(db, memo.name, cursor);
      saved = b;
    }
  }
  if (saved !== cursor.height || !cursor.hashes[tip]) {
    cursor.hashes[tip] = tipHash;
    await saveCursor(db, memo.name, cursor);
  }
  for (const txid of mempool) {
    if (memo.seen.has(txid)) continue;
    if (coins.size) await judge(await view.tx(txid), null);
    memo.seen.add(txid);
  }
  keepOnly(memo.seen, inMempool);
  memo.lastTip = { height: tip, hash: tipHash };
  if (approvedNow) await velocityCheck(c, o);
  return { unapproved, tip, idle: false };
}

/** Approved outflows far above a wallet's usual hourly rate (high, no freeze). */
async function velocityCheck(c: CustodyContext, o: WatchOptions): Promise<void> {
  for (const w of await listWallets(c)) {
    const rows = await c.store.db
      .selectFrom('custody_withdrawal')
      .select(['amount', 'requested_at'])
      .where('wallet_id', '=', w.id)
      .where('status', 'in', ['broadcast', 'built'])
      .execute();
    const a = velocityAnomaly(
      rows.map((x) => ({ amount: Number(x.amount), requestedAt: x.requested_at })),
      (c.clock ?? systemClock).now(),
    );
    if (a) {
      await o.sink.raise({
        area: 'custody',
        kind: 'custody.velocity_anomaly',
        severity: 'high',
        message: `wallet ${w.name}: ${formatBtc(BigInt(a.lastHour))} BTC out in the last hour, over ${a.factor}× its hourly baseline ${formatBtc(BigInt(Math.round(a.baselineHourly)))}`,
        next: 'check the recent withdrawals and who approved them; freeze if unexpected',
        details: { wallet: w.name, ...a },
      });
    }
  }
}

function nodeUnreachable(e: unknown): e is MamoriError {
  return e instanceof MamoriError && (e.code === 'E_NETWORK' || e.code === 'E_DEPENDENCY');
}

/**
 * Poll until the signal aborts (or `maxPolls`). Throws `E_NETWORK` (exit 3) when the node is not
 * reached by the first poll, after raising the blind alert.
 * @example await watch(ctx, coreRpc(url), { sink, signal, blindAfterMs: 30_000 })
 */
export async function watch(
  c: CustodyContext,
  chain: ChainAdapter,
  o: WatchOptions,
): Promise<void> {
  const name = o.name ?? 'default';
  const interval = o.intervalMs ?? 200;
  const blindAfterMs = o.blindAfterMs ?? DEFAULT_BLIND_AFTER_MS;
  const staleAfterMs = o.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const heartbeatMs = o.heartbeatMs ?? 1000;
  const db = c.store.db;
  const now = () => (c.clock ?? systemClock).now();
  const memo = newPollMemo(name);
  const st = {
    startedAt: now(),
    lastOkAt: undefined as number | undefined,
    lastError: undefined as string | undefined,
    tip: undefined as number | undefined,
    tipChangedAt: now(),
    blind: undefined as { since: number; reason: BlindReason; detail: string } | undefined,
    polls: 0,
    lastBeat: 0,
  };
  await startHeartbeat(db, name, isoUtc(st.startedAt), blindAfterMs);
  // The blind check runs from a timer too (a hung node call never returns to the loop), so
  // alerts and heartbeats go through one queue.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = queue.then(fn);
    queue = p.catch(() => undefined);
    return p;
  };
  const report = (e: unknown) =>
    o.onEvent?.({ type: 'error', at: now(), details: { message: (e as Error).message } });
  // Not queued itself: called from queued work (a queued call waiting on the queue would hang).
  const writeBeat = async (force: boolean) => {
    const t = now();
    if (!force && t - st.lastBeat < heartbeatMs) return;
    st.lastBeat = t;
    await writeHeartbeat(db, name, {
      lastPollAt: isoUtc(t),
      lastOkAt: st.lastOkAt === undefined ? null : isoUtc(st.lastOkAt),
      tipHeight: st.tip ?? null,
      tipChangedAt: isoUtc(st.tipChangedAt),
      blindSince: st.blind ? isoUtc(st.blind.since) : null,
      blindReason: st.blind ? `${st.blind.reason}: ${st.blind.detail}` : null,
      polls: st.polls,
      lastError: st.lastError ?? null,
    });
  };
  const beat = (force: boolean) => serial(() => writeBeat(force)).catch(report);
  const goBlind = async (b: { reason: BlindReason; detail: string }) => {
    if (st.blind) return;
    st.blind = { since: now(), ...b };
    o.onEvent?.({ type: 'blind', at: st.blind.since, details: { ...b } });
    await o.sink.raise({
      area: 'custody',
      kind: 'custody.watcher_blind',
      severity: 'critical',
      message: `custody watcher blind (${b.reason}): ${b.detail}`,
      next: 'spends of our coins are not being judged until it recovers: restore the node (and its peers), or freeze withdrawals',
      details: {
        watcher: name,
        reason: b.reason,
        lastOkAt: st.lastOkAt === undefined ? null : isoUtc(st.lastOkAt),
        tipHeight: st.tip ?? null,
        blindAfterMs,
      },
    });
    await writeBeat(true);
  };
  const check = () =>
    serial(async () => {
      const b = blindness({
        now: now(),
        startedAt: st.startedAt,
        lastOkAt: st.lastOkAt,
        lastError: st.lastError,
        tipChangedAt: st.tipChangedAt,
        blindAfterMs,
        staleAfterMs,
      });
      if (b && !st.blind) await goBlind(b);
      else if (!b && st.blind) {
        const was = st.blind;
        st.blind = undefined;
        const secs = Math.round((now() - was.since) / 1000);
        o.onEvent?.({ type: 'recovered', at: now(), details: { reason: was.reason, secs } });
        await o.sink.raise({
          area: 'custody',
          kind: 'custody.watcher_recovered',
          severity: 'info',
          message: `custody watcher sees the chain again after ${secs} s blind (${was.reason}); spends in that time are judged now`,
          details: {
            watcher: name,
            reason: was.reason,
            blindSince: isoUtc(was.since),
            tip: st.tip,
          },
        });
        await writeBeat(true);
      }
    }).catch(report);
  const timer = setInterval(() => void check(), Math.max(20, Math.min(1000, blindAfterMs / 4)));
  try {
    while (!o.signal?.aborted && (o.maxPolls === undefined || st.polls < o.maxPolls)) {
      st.polls++;
      let failed = false;
      try {
        const r = await pollOnce(c, chain, o, memo);
        st.lastOkAt = now();
        st.lastError = undefined;
        if (r.tip !== st.tip) {
          st.tip = r.tip;
          st.tipChangedAt = st.lastOkAt;
        }
      } catch (e) {
        failed = true;
        const message = (e as Error).message;
        if (st.lastOkAt === undefined && nodeUnreachable(e)) {
          st.lastError = message;
          await serial(() => goBlind({ reason: 'unreachable', detail: message }));
          throw new MamoriError(e.code, `the watcher cannot reach the node: ${message}`, {
            cause: e,
            hint: 'check --node and that the node is running; nothing is being watched',
          });
        }
        // One error line per episode, not one per poll.
        if (message !== st.lastError) report(e);
        st.lastError = message;
      }
      await check();
      await beat(false);
      if (o.maxPolls !== undefined && st.polls >= o.maxPolls) break;
      await sleep(
        failed ? Math.max(interval, Math.min(1000, blindAfterMs / 4)) : interval,
        o.signal,
      );
    }
  } finally {
    clearInterval(timer);
    await queue;
    const t = isoUtc(now());
    await writeHeartbeat(db, name, {
      lastPollAt: t,
      stoppedAt: t,
      polls: st.polls,
      lastError: st.lastError ?? null,
      ...(st.lastOkAt !== undefined ? { lastOkAt: isoUtc(st.lastOkAt) } : {}),
      ...(st.tip !== undefined ? { tipHeight: st.tip } : {}),
    }).catch(report);
  }
}

export { formatBtc };

/**
 * The recorded withdrawals the watcher may take as approved. A wallet bound to a trust root
 * counts only a PSBT whose signed evidence still verifies (spendIsSigned): a row written into
 * the store by whoever holds the server does not make a spend legitimate. Wallets with no trust
 * root have no signatures to check, and keep the store's word (docs/custody.md says so).
 */
async function signedSpends(
  ctx: CustodyContext,
  rows: (RecordedSpend & { bound: boolean })[],
): Promise<RecordedSpend[]> {
  const out: RecordedSpend[] = [];
  for (const { bound, ...spend } of rows)
    if (!bound || (await spendIsSigned(ctx, spend.txid))) out.push(spend);
  return out;
}
