/**
 * Tier discipline as a pure simulation: deposits land hot; whatever rises above the hot float
 * cap is swept to cold; a payment the hot float cannot cover is preceded by a refill from warm,
 * and every refill is put to the warm wallet's policy (which must ask for approvals). Used to
 * replay real hot-wallet traces (bustabit) and to size caps. Not the chain: no transactions.
 */
import type { Decision, Policy } from './policy.js';
import { evaluate } from './policy.js';

export interface TraceEvent {
  /** Satoshi: positive = deposit, negative = payment. */
  value: number;
}

export interface TierSimOptions {
  hotFloatCap: number;
  /** After a sweep or refill the hot float is brought to this level (≤ cap). */
  hotTarget: number;
  warmStart: number;
  /** The warm wallet's policy, evaluated for each refill (destination: the hot wallet). */
  warmPolicy: Policy;
  hotAddress: string;
  /** Approvers who sign off refills when the policy asks (k of them are used). */
  approve: (d: Decision) => boolean;
  startMs: number;
}

export interface TierSimResult {
  events: number;
  deposits: number;
  payments: number;
  sweeps: number;
  swept: number;
  refills: number;
  refilled: number;
  refillDecisions: Record<string, number>;
  maxHotFloat: number;
  capBreaches: number;
  unpaid: number;
  hot: number;
  warm: number;
  cold: number;
}

/**
 * @example simulateTiers(events, { hotFloatCap: 5e8, hotTarget: 2e8, warmStart: 1e10, warmPolicy, hotAddress, approve: () => true, startMs: 0 })
 */
export function simulateTiers(events: TraceEvent[], o: TierSimOptions): TierSimResult {
  let hot = 0;
  let warm = o.warmStart;
  let cold = 0;
  const r: TierSimResult = {
    events: events.length,
    deposits: 0,
    payments: 0,
    sweeps: 0,
    swept: 0,
    refills: 0,
    refilled: 0,
    refillDecisions: {},
    maxHotFloat: 0,
    capBreaches: 0,
    unpaid: 0,
    hot: 0,
    warm: 0,
    cold: 0,
  };
  const history: { amount: number; requestedAt: string }[] = [];
  events.forEach((e, i) => {
    const now = o.startMs + i * 600_000; // one event every ten minutes
    if (e.value > 0) {
      r.deposits++;
      hot += e.value;
      if (hot > o.hotFloatCap) {
        const amount = hot - o.hotTarget;
        hot -= amount;
        cold += amount;
        r.sweeps++;
        r.swept += amount;
      }
    } else {
      r.payments++;
      const pay = -e.value;
      if (hot < pay) {
        const amount = Math.min(warm, Math.min(o.hotFloatCap, pay + o.hotTarget) - hot);
        const d = evaluate(o.warmPolicy, {
          to: o.hotAddress,
          amount,
          now,
          history,
          balance: warm,
        });
        r.refillDecisions[`${d.outcome}:${d.rule}`] =
          (r.refillDecisions[`${d.outcome}:${d.rule}`] ?? 0) + 1;
        const ok = d.outcome === 'approved' || (d.outcome === 'pending' && o.approve(d));
        if (ok && amount > 0) {
          warm -= amount;
          hot += amount;
          r.refills++;
          r.refilled += amount;
          history.push({ amount, requestedAt: new Date(now).toISOString() });
        }
      }
      if (hot >= pay) hot -= pay;
      else r.unpaid++;
    }
    if (hot > o.hotFloatCap) r.capBreaches++;
    r.maxHotFloat = Math.max(r.maxHotFloat, hot);
  });
  return { ...r, hot, warm, cold };
}
