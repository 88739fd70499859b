/**
 * A batch request decided as the cosigner decides it: each output in turn with the ones before
 * it in the velocity history; one rejected output rejects the batch and is named; approvals are
 * the largest k from approvers every output accepts; the latest time lock holds. And the payee
 * lists `withdraw request --payees` reads (CSV lines, sendmany JSON), with their bad input.
 */
import { describe, expect, it } from 'vitest';
import { parsePayees } from '../../src/custody/core/amount.js';
import { evaluate, evaluateBatch, type Policy } from '../../src/custody/core/policy.js';

const now = Date.parse('2026-12-04T12:00:00Z');
const [a, b, c] = ['bcrt1qa', 'bcrt1qb', 'bcrt1qc'];
const policy: Policy = {
  activationHours: 0,
  whitelist: [a, b].map((address) => ({ address, addedAt: '2026-12-01T00:00:00Z' })),
  rules: [
    { id: 'whitelist', when: { type: 'destination-not-whitelisted' }, action: { type: 'reject' } },
    {
      id: 'v24',
      when: { type: 'velocity-over', windowHours: 24, sats: 100 },
      action: { type: 'reject' },
    },
    {
      id: 'big',
      when: { type: 'amount-over', sats: 50 },
      action: { type: 'approvals', k: 2, approvers: ['x', 'y', 'z'], delayMinutes: 30 },
    },
    {
      id: 'small',
      when: { type: 'always' },
      action: { type: 'approvals', k: 1, approvers: ['y', 'z'] },
    },
  ],
};
const base = { now, history: [], balance: 1_000 };

describe('evaluateBatch', () => {
  it('one output is exactly evaluate', () => {
    expect(evaluateBatch(policy, { ...base, outputs: [{ address: a, amount: 60 }] })).toEqual(
      evaluate(policy, { ...base, to: a, amount: 60 }),
    );
  });

  it('counts the outputs before each one in its velocity, as the cosigner does', () => {
    const d = evaluateBatch(policy, {
      ...base,
      outputs: [
        { address: a, amount: 40 },
        { address: b, amount: 40 },
        { address: a, amount: 30 },
      ],
    });
    expect(d).toMatchObject({ outcome: 'rejected', rule: 'v24' });
    expect(d.reason).toMatch(/^output 3 of 3 \(bcrt1qa\)/);
  });

  it('rejects the whole batch for one address off the whitelist, naming it', () => {
    const d = evaluateBatch(policy, {
      ...base,
      outputs: [
        { address: a, amount: 1 },
        { address: c, amount: 1 },
      ],
    });
    expect(d.outcome).toBe('rejected');
    expect(d.reason).toMatch(/^output 2 of 2 \(bcrt1qc\).*whitelist/);
  });

  it('needs the largest k from the approvers all outputs accept, and the latest time lock', () => {
    const d = evaluateBatch(policy, {
      ...base,
      outputs: [
        { address: a, amount: 10 },
        { address: b, amount: 60 },
      ],
    });
    expect(d).toMatchObject({
      outcome: 'pending',
      rule: 'small+big',
      approvalsRequired: { k: 2, approvers: ['y', 'z'] },
      eligibleAt: new Date(now + 30 * 60_000).toISOString(),
    });
    expect(d.trace.some((t) => t.why.startsWith('output 2: '))).toBe(true);
  });

  it('refuses a batch whose outputs need approvers too different to share k', () => {
    const p: Policy = {
      ...policy,
      rules: policy.rules.map((r) =>
        r.id === 'small' ? { ...r, action: { type: 'approvals', k: 1, approvers: ['w'] } } : r,
      ),
    };
    const d = evaluateBatch(p, {
      ...base,
      outputs: [
        { address: a, amount: 10 },
        { address: b, amount: 60 },
      ],
    });
    expect(d.outcome).toBe('rejected');
    expect(d.reason).toMatch(/request them apart/);
  });
});

describe('parsePayees', () => {
  it('reads CSV lines with a header, comments and blank lines, and sendmany JSON', () => {
    expect(parsePayees('address,amount\n# batch 7\nbcrt1qa, 0.5\n\nbcrt1qb,0.00000001\n')).toEqual([
      { address: 'bcrt1qa', amount: 50_000_000n },
      { address: 'bcrt1qb', amount: 1n },
    ]);
    expect(parsePayees('{"bcrt1qa": 0.1, "bcrt1qb": "0.00012345"}')).toEqual([
      { address: 'bcrt1qa', amount: 10_000_000n },
      { address: 'bcrt1qb', amount: 12_345n },
    ]);
  });

  it('names the bad line, and refuses bad amounts and JSON', () => {
    expect(() => parsePayees('bcrt1qa,0.1\nbcrt1qb\n')).toThrow(/payee line 2/);
    expect(() => parsePayees('bcrt1qa,0.123456789')).toThrow(/line 1: .*8 decimals/);
    expect(() => parsePayees('bcrt1qa,-1')).toThrow(/line 1: not a BTC amount/);
    expect(() => parsePayees('{"bcrt1qa": true}')).toThrow(/not a number/);
    expect(() => parsePayees('{"bcrt1qa": 0.123456789}')).toThrow(/8 decimals/);
    expect(parsePayees('{"bcrt1qa": 1e-8}')).toEqual([{ address: 'bcrt1qa', amount: 1n }]);
    expect(() => parsePayees('{"bcrt1qa": 0.1')).toThrow(/not valid JSON/);
  });
});
