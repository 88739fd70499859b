import { describe, expect, it } from 'vitest';
import type { ChainTx } from './chain.js';
import {
  blindness,
  type Heartbeat,
  judgeSpend,
  REPLACEMENT_FEE_FACTOR,
  type RecordedSpend,
  watcherHealth,
} from './watch.js';

const OURS = new Map([
  ['aa:0', 100_000],
  ['bb:1', 50_000],
]);
const CHANGE = '0020c0';
const PAYEE = '0014aa';
const THIEF = '0014ee';
const recorded: RecordedSpend = {
  txid: 'r1',
  inputs: ['aa:0', 'bb:1'],
  outputs: [
    { script: PAYEE, value: 120_000 },
    { script: CHANGE, value: 29_000 },
  ],
  fee: 1_000,
};
const view = {
  ourCoin: (k: string) => OURS.get(k),
  isOwnScript: (s: string) => s === CHANGE,
  recorded: [recorded],
};
const tx = (txid: string, vin: string[], vout: [string, number][]): ChainTx => ({
  txid,
  vin: vin.map((v) => ({ txid: v.split(':')[0]!, vout: Number(v.split(':')[1]) })),
  vout: vout.map(([script, value], n) => ({ n, script, value })),
});

describe('judgeSpend', () => {
  it('the recorded transaction itself is a withdrawal', () => {
    expect(judgeSpend(tx('r1', ['aa:0', 'bb:1'], []), view)).toEqual({
      verdict: 'withdrawal',
      matched: 'r1',
    });
  });
  it('same inputs, same payee, less change (a fee bump) is a replacement', () => {
    const bump = tx(
      'r2',
      ['bb:1', 'aa:0'],
      [
        [CHANGE, 26_000],
        [PAYEE, 120_000],
      ],
    );
    expect(judgeSpend(bump, view)).toEqual({ verdict: 'replacement', matched: 'r1' });
    // change dropped entirely is still ours to decide
    expect(judgeSpend(tx('r3', ['aa:0', 'bb:1'], [[PAYEE, 120_000]]), view).verdict).toBe(
      'replacement',
    );
  });
  const bad: [string, ChainTx, RegExp][] = [
    [
      'payee swapped',
      tx(
        'x',
        ['aa:0', 'bb:1'],
        [
          [THIEF, 120_000],
          [CHANGE, 29_000],
        ],
      ),
      /payee/,
    ],
    [
      'payee paid less',
      tx(
        'x',
        ['aa:0', 'bb:1'],
        [
          [PAYEE, 119_000],
          [CHANGE, 29_000],
        ],
      ),
      /payee/,
    ],
    [
      'an extra output to a stranger',
      tx(
        'x',
        ['aa:0', 'bb:1'],
        [
          [PAYEE, 120_000],
          [THIEF, 20_000],
          [CHANGE, 9_000],
        ],
      ),
      /adds a payment/,
    ],
    ['a subset of the inputs', tx('x', ['aa:0'], [[PAYEE, 99_000]]), /not exactly its inputs/],
    ['an unrelated spend', tx('x', ['cc:0'], [[THIEF, 1]]), /no recorded withdrawal/],
  ];
  for (const [name, t, why] of bad) {
    it(`unapproved: ${name}`, () => {
      const v = judgeSpend(t, view);
      expect(v.verdict).toBe('unapproved');
      expect(v.verdict === 'unapproved' && v.reason).toMatch(why);
    });
  }
});

describe('judgeSpend: the fee of a replacement is bounded', () => {
  it(`fee over ${REPLACEMENT_FEE_FACTOR}× the recorded one is unapproved`, () => {
    const cheap = { ...view, recorded: [{ ...recorded, fee: 100 }] };
    // change dropped: 30,000 sat to the miners, 300× the recorded 100 sat
    const v = judgeSpend(tx('x', ['aa:0', 'bb:1'], [[PAYEE, 120_000]]), cheap);
    expect(v.verdict).toBe('unapproved');
    expect(v.verdict === 'unapproved' && v.reason).toMatch(/fee of 30000 sat/);
  });
});

describe('blindness', () => {
  const base = {
    now: 0,
    startedAt: 0,
    lastOkAt: 0 as number | undefined,
    lastError: undefined as string | undefined,
    tipChangedAt: 0,
    blindAfterMs: 30_000,
    staleAfterMs: 3_600_000,
  };
  it('sees while polls complete within blind-after', () => {
    expect(blindness({ ...base, now: 30_000 })).toBeUndefined();
  });
  it('unreachable when polls fail past blind-after; stalled when none completes', () => {
    expect(blindness({ ...base, now: 30_001, lastError: 'refused' })?.reason).toBe('unreachable');
    expect(blindness({ ...base, now: 30_001 })?.reason).toBe('stalled');
    expect(blindness({ ...base, lastOkAt: undefined, now: 30_001 })?.reason).toBe('stalled');
  });
  it('tip-stale when the tip does not move, unless switched off', () => {
    const t = { ...base, now: 3_600_001, lastOkAt: 3_600_000 };
    expect(blindness(t)?.reason).toBe('tip-stale');
    expect(blindness({ ...t, staleAfterMs: 0 })).toBeUndefined();
  });
});

describe('watcherHealth', () => {
  const hb: Heartbeat = {
    name: 'default',
    startedAt: '2026-12-03T00:00:00.000Z',
    stoppedAt: null,
    lastPollAt: '2026-12-03T00:00:10.000Z',
    lastOkAt: '2026-12-03T00:00:10.000Z',
    tipHeight: 500,
    cursorHeight: 500,
    blindSince: null,
    blindReason: null,
    blindAfterMs: 30_000,
    polls: 50,
    lastError: null,
  };
  const at = Date.parse('2026-12-03T00:00:11.000Z');
  it('states', () => {
    expect(watcherHealth(undefined, at).state).toBe('never-run');
    expect(watcherHealth(hb, at).state).toBe('watching');
    expect(watcherHealth({ ...hb, lastOkAt: null }, at).state).toBe('starting');
    expect(watcherHealth({ ...hb, blindSince: hb.lastPollAt }, at).state).toBe('blind');
    expect(watcherHealth(hb, at + 40_000).state).toBe('down');
    expect(watcherHealth({ ...hb, stoppedAt: hb.lastPollAt }, at).state).toBe('stopped');
  });
});
