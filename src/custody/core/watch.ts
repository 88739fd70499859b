/**
 * The watcher's judgement, pure: is a transaction that spends our coins a recorded withdrawal,
 * a replacement (BIP125 fee bump) of one, or an unapproved outflow; is the watcher blind; and
 * what its heartbeat says about it. No IO and no clock: time comes in as a parameter.
 * Not the poll loop (`../watch.ts`) and not the store (`../watch-store.ts`).
 */
import type { ChainTx } from './chain.js';

/** A transaction Mamori recorded for approved withdrawals (a built or broadcast PSBT). */
export interface RecordedSpend {
  txid: string;
  /** Outpoints `txid:vout` it spends. */
  inputs: string[];
  outputs: { script: string; value: number }[];
  fee: number;
}

export type SpendVerdict =
  | { verdict: 'withdrawal'; matched: string }
  | { verdict: 'replacement'; matched: string }
  | { verdict: 'unapproved'; reason: string; matched?: string };

/**
 * A replacement may pay more fee than the transaction it replaces (that is the point of a bump),
 * but not without bound: fee above this many times the recorded fee is money leaving the wallet
 * that no approval covers, so it is judged unapproved.
 */
export const REPLACEMENT_FEE_FACTOR = 50;

export interface SpendView {
  /** Value of one of our coins, by outpoint `txid:vout`; undefined if not ours. */
  ourCoin(outpoint: string): number | undefined;
  /** Whether an output script is one of our wallets' addresses (change, sweep target). */
  isOwnScript(script: string): boolean;
  recorded: RecordedSpend[];
}

/**
 * Judge a transaction that spends at least one of our coins.
 * A replacement is recognised by its inputs (exactly the recorded transaction's) and must
 * still pay every recorded payee (non-own output) its exact amount; any other output must be
 * ours, and the fee may grow at most `REPLACEMENT_FEE_FACTOR` times.
 * @example judgeSpend(tx, { ourCoin, isOwnScript, recorded }).verdict === 'unapproved'
 */
export function judgeSpend(tx: ChainTx, view: SpendView): SpendVerdict {
  const exact = view.recorded.find((r) => r.txid === tx.txid);
  if (exact) return { verdict: 'withdrawal', matched: exact.txid };
  const ins = tx.vin.map((v) => `${v.txid}:${v.vout}`);
  const sameInputs = view.recorded.find(
    (r) => r.inputs.length === ins.length && ins.every((i) => r.inputs.includes(i)),
  );
  if (!sameInputs) {
    const overlap = view.recorded.find((r) => ins.some((i) => r.inputs.includes(i)));
    return overlap
      ? {
          verdict: 'unapproved',
          matched: overlap.txid,
          reason: `spends some inputs of recorded ${overlap.txid} but not exactly its inputs`,
        }
      : { verdict: 'unapproved', reason: 'matches no recorded withdrawal' };
  }
  const r = sameInputs;
  const left = tx.vout.map((o) => ({ script: o.script, value: o.value, used: false }));
  for (const p of r.outputs.filter((o) => !view.isOwnScript(o.script))) {
    const hit = left.find((o) => !o.used && o.script === p.script && o.value === p.value);
    if (!hit) {
      return {
        verdict: 'unapproved',
        matched: r.txid,
        reason: `replaces ${r.txid} without paying its payee ${p.script} ${p.value} sat`,
      };
    }
    hit.used = true;
  }
  const stranger = left.find((o) => !o.used && !view.isOwnScript(o.script));
  if (stranger) {
    return {
      verdict: 'unapproved',
      matched: r.txid,
      reason: `replaces ${r.txid} and adds a payment of ${stranger.value} sat to ${stranger.script}`,
    };
  }
  let inValue = 0;
  for (const i of ins) inValue += view.ourCoin(i) ?? 0;
  const fee = inValue - tx.vout.reduce((s, o) => s + o.value, 0);
  if (fee > Math.max(1, r.fee) * REPLACEMENT_FEE_FACTOR) {
    return {
      verdict: 'unapproved',
      matched: r.txid,
      reason: `replaces ${r.txid} with a fee of ${fee} sat, over ${REPLACEMENT_FEE_FACTOR}× its ${r.fee} sat`,
    };
  }
  return { verdict: 'replacement', matched: r.txid };
}

export type BlindReason = 'unreachable' | 'stalled' | 'tip-stale';

export interface BlindInput {
  now: number;
  /** When the watcher started (the first poll counts from here). */
  startedAt: number;
  /** When a poll last completed against the node; undefined if none has. */
  lastOkAt: number | undefined;
  /** The last poll's error, if the last poll failed. */
  lastError: string | undefined;
  /** When the node's tip last changed (or the watcher started). */
  tipChangedAt: number;
  blindAfterMs: number;
  /** 0 = off. */
  staleAfterMs: number;
}

/**
 * Whether the watcher cannot see the chain: no poll completed for `blindAfterMs` (the node is
 * unreachable, or stalled: it accepts but does not answer), or the node answers but its tip has
 * not moved for `staleAfterMs`.
 * @example blindness({ now: 31_000, startedAt: 0, lastOkAt: 0, lastError: 'refused', tipChangedAt: 0, blindAfterMs: 30_000, staleAfterMs: 0 })?.reason === 'unreachable'
 */
export function blindness(b: BlindInput): { reason: BlindReason; detail: string } | undefined {
  const since = b.lastOkAt ?? b.startedAt;
  if (b.now - since > b.blindAfterMs) {
    const secs = Math.round((b.now - since) / 1000);
    return b.lastError !== undefined
      ? { reason: 'unreachable', detail: `no answer from the node for ${secs} s: ${b.lastError}` }
      : { reason: 'stalled', detail: `a poll of the node has not completed for ${secs} s` };
  }
  if (b.staleAfterMs > 0 && b.now - b.tipChangedAt > b.staleAfterMs) {
    const mins = Math.round((b.now - b.tipChangedAt) / 60_000);
    return { reason: 'tip-stale', detail: `the node's tip has not moved for ${mins} min` };
  }
  return undefined;
}

/** What a watcher's heartbeat row says, as the store holds it. */
export interface Heartbeat {
  name: string;
  startedAt: string;
  stoppedAt: string | null;
  lastPollAt: string;
  lastOkAt: string | null;
  tipHeight: number | null;
  cursorHeight: number | null;
  blindSince: string | null;
  blindReason: string | null;
  blindAfterMs: number;
  polls: number;
  lastError: string | null;
}

export type WatcherState = 'never-run' | 'starting' | 'watching' | 'blind' | 'down' | 'stopped';

/** Slack for the heartbeat's write interval before a silent watcher counts as down. */
export const HEARTBEAT_SLACK_MS = 2_000;

/**
 * The watcher's state from its heartbeat: `down` when it has not written one for longer than
 * its own blind-after (plus slack), since nobody is then watching even though no alert says so;
 * `starting` until its first poll has reached the node.
 * @example watcherHealth(undefined, Date.now()).state === 'never-run'
 */
export function watcherHealth(hb: Heartbeat | undefined, now: number) {
  if (!hb) return { state: 'never-run' as WatcherState, ageMs: null, heartbeat: null };
  const ageMs = now - Date.parse(hb.lastPollAt);
  let state: WatcherState;
  if (hb.stoppedAt) state = 'stopped';
  else if (ageMs > hb.blindAfterMs + HEARTBEAT_SLACK_MS) state = 'down';
  else if (hb.blindSince) state = 'blind';
  else if (!hb.lastOkAt) state = 'starting';
  else state = 'watching';
  return { state, ageMs, heartbeat: hb };
}
