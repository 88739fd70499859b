/**
 * The pure policy engine (ordered rules, every decision explained) and the bustabit hot-wallet
 * trace replayed through the tiers: the hot float never exceeds its cap and every refill from
 * warm goes through the warm policy's approvals.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseBtc } from '../../src/custody/core/amount.js';
import { canonicalJson, entryHash, GENESIS, verifyChain } from '../../src/custody/core/audit.js';
import { compilePolicy, emptyPolicy, evaluate, quorum } from '../../src/custody/core/policy.js';
import { simulateTiers } from '../../src/custody/core/tiers.js';
import { vector } from '../helpers/vectors.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const A = 'bcrt1qft5p2uhsdcdc3l2ua4ap5qqfg4pjaqlp250x7us7a8qqhrxrxfsqseac85';

describe('policy engine', () => {
  const p = compilePolicy(
    emptyPolicy(),
    {
      whitelist: [A],
      limitSats: 100_000_000,
      velocity1hSats: 120_000_000,
      velocity24hSats: 300_000_000,
      maxSharePercent: 50,
      approvers: ['alice', 'bob', 'carol'],
      quorum: 2,
      approvalAboveSats: 10_000_000,
      delayMinutes: 30,
    },
    new Date(T0).toISOString(),
  );
  const ctx = { to: A, amount: 1_000_000, now: T0 + 49 * 3600_000, history: [], balance: 1e9 };

  it('compiles flags into ordered rules and denies by default', () => {
    expect(p.rules.map((r) => r.id)).toEqual([
      'whitelist',
      'limit',
      'velocity-1h',
      'velocity-24h',
      'max-share',
      'approvals',
      'allow',
    ]);
    expect(evaluate(emptyPolicy(), ctx)).toMatchObject({
      outcome: 'rejected',
      rule: 'default-deny',
    });
  });
  it('whitelist activation delay (48 h by default)', () => {
    const d = evaluate(p, { ...ctx, now: T0 + 3600_000 });
    expect(d).toMatchObject({ outcome: 'rejected', rule: 'whitelist' });
    expect(d.reason).toMatch(/becomes active at 2026-01-03T00:00:00.000Z/);
    expect(evaluate(p, { ...ctx, to: 'bcrt1qother' }).rule).toBe('whitelist');
  });
  it('allow with a time delay, approvals above a threshold, limits, velocity, share', () => {
    const small = evaluate(p, ctx);
    expect(small).toMatchObject({ outcome: 'approved', rule: 'allow' });
    expect(small.eligibleAt).toBe(new Date(ctx.now + 30 * 60_000).toISOString());
    const mid = evaluate(p, { ...ctx, amount: 50_000_000 });
    expect(mid).toMatchObject({
      outcome: 'pending',
      rule: 'approvals',
      approvalsRequired: { k: 2 },
    });
    expect(evaluate(p, { ...ctx, amount: 100_000_001 }).rule).toBe('limit');
    const recent = [
      { amount: 90_000_000, requestedAt: new Date(ctx.now - 1800_000).toISOString() },
    ];
    expect(evaluate(p, { ...ctx, amount: 40_000_000, history: recent }).rule).toBe('velocity-1h');
    const older = [{ amount: 90_000_000, requestedAt: new Date(ctx.now - 7200_000).toISOString() }];
    expect(evaluate(p, { ...ctx, amount: 40_000_000, history: older }).rule).toBe('approvals');
    expect(evaluate(p, { ...ctx, amount: 60_000_000, balance: 100_000_000 }).rule).toBe(
      'max-share',
    );
    // every decision is explained: one trace line per rule tried, in order
    const d = evaluate(p, { ...ctx, amount: 60_000_000, balance: 100_000_000 });
    expect(d.trace.map((t) => [t.rule, t.matched])).toEqual([
      ['whitelist', false],
      ['limit', false],
      ['velocity-1h', false],
      ['velocity-24h', false],
      ['max-share', true],
    ]);
    expect(d.trace.every((t) => t.why.length > 5)).toBe(true);
  });
  it('quorum counts only distinct named approvers', () => {
    const req = { k: 2, approvers: ['alice', 'bob', 'carol'] };
    expect(quorum(req, ['alice', 'alice']).met).toBe(false);
    expect(quorum(req, ['alice', 'mallory']).met).toBe(false);
    expect(quorum(req, ['alice', 'carol']).met).toBe(true);
  });
  it('amounts: exact satoshi, too many decimals refused', () => {
    expect(parseBtc('0.00000001')).toBe(1n);
    expect(parseBtc('20999999.9769')).toBe(2_099_999_997_690_000n);
    expect(() => parseBtc('0.000000001')).toThrow(/8 decimals/);
    expect(() => parseBtc('-1')).toThrow();
    expect(() => parseBtc('1e3')).toThrow();
  });
});

describe('audit chain (pure)', () => {
  const mk = (n: number) => {
    const out = [];
    let prev = GENESIS;
    for (let i = 1; i <= n; i++) {
      const e = {
        seq: i,
        at: `2026-01-01T00:00:0${i}Z`,
        actor: 'a',
        action: 'x',
        data: canonicalJson({ i }),
        prev_hash: prev,
      };
      const hash = entryHash(e);
      out.push({ ...e, hash });
      prev = hash;
    }
    return out;
  };
  it('detects edit, delete and reorder', () => {
    expect(verifyChain(mk(5)).ok).toBe(true);
    const edited = mk(5);
    edited[2] = { ...edited[2]!, data: '{"i":99}' };
    expect(verifyChain(edited).problems).toEqual([
      expect.objectContaining({ seq: 3, problem: 'edited' }),
    ]);
    const deleted = mk(5).filter((e) => e.seq !== 2);
    expect(verifyChain(deleted).problems.map((p) => p.problem)).toContain('deleted-or-reordered');
    const r = mk(5);
    const reordered = [r[0]!, r[2]!, r[1]!, r[3]!, r[4]!];
    expect(verifyChain(reordered).ok).toBe(false);
  });
});

describe('bustabit hot-wallet trace through the tiers', () => {
  const events = (
    JSON.parse(
      readFileSync(vector('bitcoin/hot-wallet/bustabit-2019-2020-tiny-hot-wallet.json'), 'utf8'),
    ) as {
      value: string;
    }[]
  ).map((e) => ({
    value: e.value.startsWith('-')
      ? -Number(parseBtc(e.value.slice(1)))
      : Number(parseBtc(e.value)),
  }));
  it('keeps the hot float under its cap; every refill follows the warm policy', () => {
    expect(events).toHaveLength(6250);
    expect(events.filter((e) => e.value > 0)).toHaveLength(4469);
    const warmPolicy = compilePolicy(
      emptyPolicy(),
      { whitelist: [A], activationHours: 0, approvers: ['alice', 'bob', 'carol'], quorum: 2 },
      new Date(T0 - 1000).toISOString(),
    );
    const approvals: number[] = [];
    const cap = 1_500_000_000; // 15 BTC: above the largest single payment (12 BTC)
    const r = simulateTiers(events, {
      hotFloatCap: cap,
      hotTarget: 1_300_000_000,
      warmStart: 2_000_000_000_000,
      warmPolicy,
      hotAddress: A,
      approve: (d) => {
        approvals.push(d.approvalsRequired!.k);
        return quorum(d.approvalsRequired!, ['alice', 'bob']).met;
      },
      startMs: T0,
    });
    expect(r.deposits + r.payments).toBe(6250);
    expect(r.capBreaches).toBe(0);
    expect(r.maxHotFloat).toBeLessThanOrEqual(cap);
    expect(r.sweeps).toBeGreaterThan(0);
    expect(r.refills).toBeGreaterThan(0);
    expect(Object.keys(r.refillDecisions)).toEqual(['pending:approvals']);
    expect(approvals).toHaveLength(r.refills);
    expect(r.unpaid).toBe(0);
    // value is conserved across the tiers
    const net = events.reduce((s, e) => s + e.value, 0);
    expect(r.hot + r.warm + r.cold).toBe(2_000_000_000_000 + net);
  });
});
