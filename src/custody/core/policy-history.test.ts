import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compactHistory, compilePolicy, emptyPolicy, evaluate } from './policy.js';

const now = Date.parse('2026-12-04T00:00:00Z');

describe('compactHistory', () => {
  it('decides exactly as the full history at now, with entries added at now', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            amount: fc.integer({ min: 1, max: 5_000_000 }),
            agoMs: fc.integer({ min: -600_000, max: 60 * 3600_000 }),
          }),
          { maxLength: 60 },
        ),
        fc.integer({ min: 1, max: 60_000_000 }),
        fc.integer({ min: 1, max: 90_000_000 }),
        fc.array(fc.integer({ min: 1, max: 3_000_000 }), { minLength: 1, maxLength: 5 }),
        (past, v1h, v24h, amounts) => {
          const policy = compilePolicy(
            emptyPolicy(),
            { velocity1hSats: v1h, velocity24hSats: v24h },
            new Date(now).toISOString(),
          );
          const full = past.map((p) => ({
            amount: p.amount,
            requestedAt: new Date(now - p.agoMs).toISOString(),
          }));
          let a = full;
          let b = compactHistory(policy, full, now);
          expect(b.length).toBeLessThanOrEqual(2);
          for (const amount of amounts) {
            const ctx = { to: 'x', amount, now, balance: 1e9 };
            expect(evaluate(policy, { ...ctx, history: b })).toEqual(
              evaluate(policy, { ...ctx, history: a }),
            );
            const added = { amount, requestedAt: new Date(now).toISOString() };
            a = [...a, added];
            b = [...b, added];
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps nothing when no rule counts velocity', () => {
    const policy = compilePolicy(emptyPolicy(), { limitSats: 5 }, new Date(now).toISOString());
    expect(
      compactHistory(policy, [{ amount: 1, requestedAt: new Date(now).toISOString() }], now),
    ).toEqual([]);
  });
});
