/**
 * The withdrawal policy engine: ordered rules, first match wins (Fireblocks' model), deny when
 * nothing matches. Conditions: destination (not) on the whitelist after its activation delay,
 * amount over a limit, rolling 1 h / 24 h velocity, share of the wallet balance; actions: allow
 * (optionally after a time delay), require k-of-n named approvals, reject. Every decision
 * carries the rule that decided and why each earlier rule did not match. Pure: the caller
 * passes the clock, the history and the balance. Not the store: see `../service.ts`.
 */
import { MamoriError } from '../../shared/errors.js';
import { formatBtc } from './amount.js';

export type Condition =
  | { type: 'always' }
  | { type: 'destination-not-whitelisted' }
  | { type: 'destination-whitelisted' }
  | { type: 'amount-over'; sats: number }
  | { type: 'velocity-over'; windowHours: number; sats: number }
  | { type: 'share-over'; percent: number };

export type Action =
  | { type: 'reject' }
  | { type: 'allow'; delayMinutes?: number }
  | { type: 'approvals'; k: number; approvers: string[]; delayMinutes?: number };

export interface Rule {
  id: string;
  when: Condition;
  action: Action;
}

export interface WhitelistEntry {
  address: string;
  label?: string;
  /** ISO-8601 UTC time it was added; active after `activationHours`. */
  addedAt: string;
}

export interface Policy {
  rules: Rule[];
  whitelist: WhitelistEntry[];
  /** Default 48 h. */
  activationHours: number;
  /** Hot float cap in satoshi (hot tier only). */
  hotFloatCap?: number;
}

export interface PastWithdrawal {
  amount: number;
  requestedAt: string;
  /** `Date.parse(requestedAt)`, when the caller has it (a batch adds one entry per output). */
  at?: number;
}

export interface WithdrawalContext {
  to: string;
  amount: number;
  /** Epoch ms. */
  now: number;
  /** Withdrawals that count towards velocity (approved, pending, built, broadcast). */
  history: PastWithdrawal[];
  /** Confirmed + unconfirmed wallet balance in satoshi. */
  balance: number;
}

export type Outcome = 'approved' | 'pending' | 'rejected';

export interface RuleTrace {
  rule: string;
  matched: boolean;
  why: string;
}

export interface Decision {
  outcome: Outcome;
  /** The rule that decided, or `default-deny`. */
  rule: string;
  reason: string;
  trace: RuleTrace[];
  approvalsRequired?: { k: number; approvers: string[] };
  /** ISO time before which the withdrawal may not be signed. */
  eligibleAt?: string;
}

export const DEFAULT_ACTIVATION_HOURS = 48;

export function emptyPolicy(): Policy {
  return { rules: [], whitelist: [], activationHours: DEFAULT_ACTIVATION_HOURS };
}

function whitelistState(p: Policy, to: string, now: number): { active: boolean; why: string } {
  const e = p.whitelist.find((w) => w.address === to);
  if (!e) return { active: false, why: `${to} is not on the whitelist` };
  const activeAt = Date.parse(e.addedAt) + p.activationHours * 3600_000;
  if (activeAt > now) {
    return {
      active: false,
      why: `${to} was whitelisted at ${e.addedAt} and becomes active at ${new Date(activeAt).toISOString()} (${p.activationHours} h delay)`,
    };
  }
  return { active: true, why: `${to} is whitelisted${e.label ? ` (${e.label})` : ''} and active` };
}

function test(p: Policy, c: Condition, ctx: WithdrawalContext): { matched: boolean; why: string } {
  switch (c.type) {
    case 'always':
      return { matched: true, why: 'always matches' };
    case 'destination-not-whitelisted': {
      const w = whitelistState(p, ctx.to, ctx.now);
      return { matched: !w.active, why: w.why };
    }
    case 'destination-whitelisted': {
      const w = whitelistState(p, ctx.to, ctx.now);
      return { matched: w.active, why: w.why };
    }
    case 'amount-over':
      return {
        matched: ctx.amount > c.sats,
        why: `amount ${formatBtc(BigInt(ctx.amount))} ${ctx.amount > c.sats ? '>' : '≤'} limit ${formatBtc(BigInt(c.sats))}`,
      };
    case 'velocity-over': {
      const since = ctx.now - c.windowHours * 3600_000;
      const spent = ctx.history
        .filter((h) => (h.at ?? Date.parse(h.requestedAt)) > since)
        .reduce((s, h) => s + h.amount, 0);
      const total = spent + ctx.amount;
      return {
        matched: total > c.sats,
        why: `${c.windowHours} h outflow with this one ${formatBtc(BigInt(total))} ${total > c.sats ? '>' : '≤'} ${formatBtc(BigInt(c.sats))}`,
      };
    }
    case 'share-over': {
      const share = ctx.balance > 0 ? (ctx.amount / ctx.balance) * 100 : 100;
      return {
        matched: share > c.percent,
        why: `${share.toFixed(2)}% of the wallet balance ${formatBtc(BigInt(ctx.balance))} ${share > c.percent ? '>' : '≤'} ${c.percent}%`,
      };
    }
  }
}

/**
 * Decide one withdrawal request.
 * @example evaluate(policy, { to, amount: 10_000, now: Date.now(), history: [], balance: 1e8 }).outcome
 */
export function evaluate(p: Policy, ctx: WithdrawalContext): Decision {
  const trace: RuleTrace[] = [];
  for (const r of p.rules) {
    const t = test(p, r.when, ctx);
    trace.push({ rule: r.id, matched: t.matched, why: t.why });
    if (!t.matched) continue;
    const a = r.action;
    if (a.type === 'reject') {
      return { outcome: 'rejected', rule: r.id, reason: `rejected by ${r.id}: ${t.why}`, trace };
    }
    const delay = a.delayMinutes ?? 0;
    const eligibleAt = delay > 0 ? new Date(ctx.now + delay * 60_000).toISOString() : undefined;
    if (a.type === 'allow') {
      return {
        outcome: 'approved',
        rule: r.id,
        reason: `allowed by ${r.id}: ${t.why}${eligibleAt ? `; signable after ${eligibleAt}` : ''}`,
        trace,
        ...(eligibleAt ? { eligibleAt } : {}),
      };
    }
    return {
      outcome: 'pending',
      rule: r.id,
      reason: `needs ${a.k} of ${a.approvers.length} approvals (${a.approvers.join(', ')}) by ${r.id}: ${t.why}`,
      trace,
      approvalsRequired: { k: a.k, approvers: a.approvers },
      ...(eligibleAt ? { eligibleAt } : {}),
    };
  }
  return {
    outcome: 'rejected',
    rule: 'default-deny',
    reason: p.rules.length
      ? 'no rule matched: denied by default'
      : 'no policy set: denied by default',
    trace,
  };
}

/**
 * Decide a batch request (one statement, several payees) exactly as the cosigner will: each
 * output in turn, the ones before it counted in the velocity history. Any output rejected
 * rejects the batch. Approvals: one set of signatures must satisfy every output, so the batch
 * needs the largest k from the approvers every such output accepts (a batch whose outputs want
 * approvals from sets too disjoint for that is rejected: request those outputs apart). The
 * batch is signable when its latest output is.
 * @example evaluateBatch(policy, { outputs: [{ address, amount: 10_000 }], now, history: [], balance })
 */
export function evaluateBatch(
  p: Policy,
  ctx: Omit<WithdrawalContext, 'to' | 'amount'> & {
    outputs: { address: string; amount: number }[];
  },
): Decision {
  const history = [...ctx.history];
  const at = new Date(ctx.now).toISOString();
  const parts: Decision[] = [];
  for (const [i, o] of ctx.outputs.entries()) {
    const d = evaluate(p, { ...ctx, to: o.address, amount: o.amount, history });
    history.push({ amount: o.amount, requestedAt: at, at: ctx.now });
    if (ctx.outputs.length === 1) return d;
    // a batch keeps, per output, the rules that matched (its full trace would be outputs × rules)
    const trace = d.trace
      .filter((t) => t.matched)
      .map((t) => ({ ...t, why: `output ${i + 1}: ${t.why}` }));
    if (d.outcome === 'rejected') {
      return {
        ...d,
        reason: `output ${i + 1} of ${ctx.outputs.length} (${o.address}): ${d.reason}`,
        trace,
      };
    }
    parts.push({ ...d, trace });
  }
  const rule = [...new Set(parts.map((d) => d.rule))].join('+');
  const trace = parts.flatMap((d) => d.trace);
  const eligible = parts
    .map((d) => d.eligibleAt)
    .filter((x): x is string => Boolean(x))
    .sort();
  const timing = eligible.length ? { eligibleAt: eligible[eligible.length - 1]! } : {};
  const asks = parts.flatMap((d) => (d.approvalsRequired ? [d.approvalsRequired] : []));
  if (!asks.length) {
    return {
      outcome: 'approved',
      rule,
      reason: `all ${parts.length} outputs allowed by ${rule}`,
      trace,
      ...timing,
    };
  }
  const k = Math.max(...asks.map((a) => a.k));
  const approvers = asks[0]!.approvers.filter((a) => asks.every((x) => x.approvers.includes(a)));
  if (approvers.length < k) {
    return {
      outcome: 'rejected',
      rule,
      reason: `the outputs need approvals from different approvers (${k} of ${approvers.length} in common): request them apart`,
      trace,
    };
  }
  return {
    outcome: 'pending',
    rule,
    reason: `${parts.length} outputs: needs ${k} of ${approvers.length} approvals (${approvers.join(', ')}) by ${rule}`,
    trace,
    approvalsRequired: { k, approvers },
    ...timing,
  };
}

/** Check a pending decision's approvals: who counts, and whether the quorum is met. */
export function quorum(
  required: { k: number; approvers: string[] },
  approvals: string[],
): { met: boolean; counted: string[] } {
  const counted = [...new Set(approvals.filter((a) => required.approvers.includes(a)))];
  return { met: counted.length >= required.k, counted };
}

export interface PolicyFlags {
  whitelist?: string[];
  activationHours?: number;
  limitSats?: number;
  velocity1hSats?: number;
  velocity24hSats?: number;
  maxSharePercent?: number;
  approvers?: string[];
  quorum?: number;
  approvalAboveSats?: number;
  delayMinutes?: number;
  hotFloatCap?: number;
}

/**
 * Compile the `policy set` flags into ordered rules: whitelist, limit, velocity, share →
 * reject; above the approval threshold → k-of-n; everything else → allow (after the delay).
 * @example compilePolicy(emptyPolicy(), { limitSats: 1e8, approvers: ['a','b'], quorum: 2 }, now)
 */
export function compilePolicy(base: Policy, f: PolicyFlags, nowIso: string): Policy {
  const rules: Rule[] = [];
  const whitelist = [...base.whitelist];
  for (const a of f.whitelist ?? []) {
    if (!whitelist.some((w) => w.address === a)) whitelist.push({ address: a, addedAt: nowIso });
  }
  const delay = f.delayMinutes ? { delayMinutes: f.delayMinutes } : {};
  if (whitelist.length > 0 || f.whitelist) {
    rules.push({
      id: 'whitelist',
      when: { type: 'destination-not-whitelisted' },
      action: { type: 'reject' },
    });
  }
  if (f.limitSats !== undefined) {
    rules.push({
      id: 'limit',
      when: { type: 'amount-over', sats: f.limitSats },
      action: { type: 'reject' },
    });
  }
  if (f.velocity1hSats !== undefined) {
    rules.push({
      id: 'velocity-1h',
      when: { type: 'velocity-over', windowHours: 1, sats: f.velocity1hSats },
      action: { type: 'reject' },
    });
  }
  if (f.velocity24hSats !== undefined) {
    rules.push({
      id: 'velocity-24h',
      when: { type: 'velocity-over', windowHours: 24, sats: f.velocity24hSats },
      action: { type: 'reject' },
    });
  }
  if (f.maxSharePercent !== undefined) {
    rules.push({
      id: 'max-share',
      when: { type: 'share-over', percent: f.maxSharePercent },
      action: { type: 'reject' },
    });
  }
  if (f.approvers?.length) {
    const k = f.quorum ?? f.approvers.length;
    if (k < 1 || k > f.approvers.length) {
      throw new MamoriError('E_INPUT', `quorum ${k} is not between 1 and ${f.approvers.length}`);
    }
    rules.push({
      id: 'approvals',
      when: f.approvalAboveSats
        ? { type: 'amount-over', sats: f.approvalAboveSats }
        : { type: 'always' },
      action: { type: 'approvals', k, approvers: f.approvers, ...delay },
    });
  }
  rules.push({ id: 'allow', when: { type: 'always' }, action: { type: 'allow', ...delay } });
  return {
    rules,
    whitelist,
    activationHours: f.activationHours ?? base.activationHours,
    ...(f.hotFloatCap !== undefined
      ? { hotFloatCap: f.hotFloatCap }
      : base.hotFloatCap !== undefined
        ? { hotFloatCap: base.hotFloatCap }
        : {}),
  };
}

/**
 * The flags a compiled policy was made from (the inverse of `compilePolicy` for its own rules),
 * so that a change names only what changes: rules not named are kept.
 * @example compilePolicy(base, { ...policyFlags(base), hotFloatCap: 1e5 }, now)
 */
export function policyFlags(p: Policy): PolicyFlags {
  const f: PolicyFlags = { activationHours: p.activationHours };
  if (p.hotFloatCap !== undefined) f.hotFloatCap = p.hotFloatCap;
  for (const r of p.rules) {
    const w = r.when;
    const a = r.action;
    if (r.id === 'whitelist') f.whitelist = [];
    else if (r.id === 'limit' && w.type === 'amount-over') f.limitSats = w.sats;
    else if (r.id === 'velocity-1h' && w.type === 'velocity-over') f.velocity1hSats = w.sats;
    else if (r.id === 'velocity-24h' && w.type === 'velocity-over') f.velocity24hSats = w.sats;
    else if (r.id === 'max-share' && w.type === 'share-over') f.maxSharePercent = w.percent;
    else if (r.id === 'approvals' && a.type === 'approvals') {
      f.approvers = a.approvers;
      f.quorum = a.k;
      if (w.type === 'amount-over') f.approvalAboveSats = w.sats;
      if (a.delayMinutes) f.delayMinutes = a.delayMinutes;
    } else if (r.id === 'allow' && a.type === 'allow' && a.delayMinutes) {
      f.delayMinutes = a.delayMinutes;
    }
  }
  return f;
}

/** Check a policy document (from a file or the store). */
export function parsePolicy(doc: unknown): Policy {
  const p = doc as Policy;
  if (!p || !Array.isArray(p.rules) || !Array.isArray(p.whitelist)) {
    throw new MamoriError('E_INPUT', 'policy: needs "rules" and "whitelist" arrays');
  }
  const conds = [
    'always',
    'destination-not-whitelisted',
    'destination-whitelisted',
    'amount-over',
    'velocity-over',
    'share-over',
  ];
  const acts = ['reject', 'allow', 'approvals'];
  p.rules.forEach((r, i) => {
    if (!r?.id || !conds.includes(r.when?.type) || !acts.includes(r.action?.type)) {
      throw new MamoriError('E_INPUT', `policy: rule ${i + 1} is not valid`);
    }
    if (
      r.action.type === 'approvals' &&
      (!(r.action.k >= 1) || r.action.k > r.action.approvers.length)
    ) {
      throw new MamoriError('E_INPUT', `policy: rule ${r.id} needs 1 ≤ k ≤ number of approvers`);
    }
  });
  return { ...p, activationHours: p.activationHours ?? DEFAULT_ACTIVATION_HOURS };
}

/** Union of the approvers of every approval rule, and the largest k: the unfreeze quorum. */
export function approverQuorum(policies: Policy[]): { k: number; approvers: string[] } | undefined {
  let k = 0;
  const approvers = new Set<string>();
  for (const p of policies)
    for (const r of p.rules)
      if (r.action.type === 'approvals') {
        k = Math.max(k, r.action.k);
        for (const a of r.action.approvers) approvers.add(a);
      }
  return k ? { k, approvers: [...approvers] } : undefined;
}

export interface VelocityAnomaly {
  lastHour: number;
  baselineHourly: number;
  factor: number;
}

/**
 * Outflow in the last hour against the hourly average of the 7 days before it: an anomaly
 * when it is more than `factor` times the baseline (and there is a baseline to speak of).
 * @example velocityAnomaly(history, Date.now()) // undefined when normal
 */
export function velocityAnomaly(
  history: PastWithdrawal[],
  now: number,
  factor = 3,
): VelocityAnomaly | undefined {
  const hour = 3600_000;
  let lastHour = 0;
  let before = 0;
  let oldest = now;
  for (const h of history) {
    const t = Date.parse(h.requestedAt);
    if (t > now - hour && t <= now) lastHour += h.amount;
    else if (t > now - 7 * 24 * hour && t <= now - hour) {
      before += h.amount;
      oldest = Math.min(oldest, t);
    }
  }
  const spanHours = (now - hour - oldest) / hour;
  if (spanHours < 24 || before === 0) return undefined; // no baseline yet
  const baselineHourly = before / Math.min(spanHours, 7 * 24 - 1);
  return lastHour > factor * baselineHourly ? { lastHour, baselineHourly, factor } : undefined;
}

/**
 * A short history that decides exactly as the full one at `now`: the velocity rules only ever
 * sum amounts inside their windows, so the past is kept as one entry per window band (the sum
 * of that band, at the latest time in it). `evaluate(p, { history: compactHistory(p, h, now) })`
 * gives the same decision, reason and trace as with `h`, at this `now` and with entries added
 * at `now`. The cosigner uses it against a ledger of thousands of lines.
 * @example evaluate(policy, { ...ctx, history: compactHistory(policy, history, ctx.now) })
 */
export function compactHistory(
  p: Policy,
  history: PastWithdrawal[],
  now: number,
): PastWithdrawal[] {
  const windows = [
    ...new Set(
      p.rules.flatMap((r) => (r.when.type === 'velocity-over' ? [r.when.windowHours] : [])),
    ),
  ].sort((a, b) => b - a);
  if (!windows.length) return [];
  const since = windows.map((w) => now - w * 3600_000);
  const bands = windows.map(() => ({ amount: 0, at: Number.NEGATIVE_INFINITY, iso: '' }));
  for (const h of history) {
    const t = Date.parse(h.requestedAt);
    // the smallest window that counts it: windows are largest first, so `since` rises
    let band = -1;
    for (let i = 0; i < since.length && t > since[i]!; i++) band = i;
    if (band < 0) continue;
    const b = bands[band]!;
    b.amount += h.amount;
    if (t > b.at) {
      b.at = t;
      b.iso = h.requestedAt;
    }
  }
  return bands
    .filter((b) => b.iso)
    .map((b) => ({ amount: b.amount, requestedAt: b.iso, at: b.at }));
}
