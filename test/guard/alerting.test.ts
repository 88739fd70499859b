/**
 * Block alerts are aggregated per rule and client: a 10,000-request burst from one client is
 * two alerts (the first block, then one summary), many clients past the per-window limit fold
 * into one alert, and every counted block is in some alert once close() returns. Alerts go to
 * the real shared sink and its store table.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type Alert,
  type AlertSink,
  createAlertSink,
  recentAlerts,
} from '../../src/alerts/index.js';
import { BlockAlerter, type BlockInfo, primaryRule } from '../../src/guard/index.js';
import { freshStore, type TestStore } from '../helpers/db.js';

function recordingSink(): { sink: AlertSink; alerts: Alert[] } {
  const alerts: Alert[] = [];
  return {
    alerts,
    sink: {
      async raise(a) {
        alerts.push(a);
        return { ...a, time: a.time ?? new Date(0).toISOString() };
      },
    },
  };
}

const block = (client: string, rule = 942100, i = 0): BlockInfo => ({
  requestId: `r${i}`,
  ruleIds: [rule, 949110, 980170],
  score: 10,
  uri: `/item?id=${i}`,
  client,
});

/** Blocks counted in alerts: 1 per guard.blocked, `count` in the summaries. */
function counted(alerts: Alert[]): number {
  return alerts.reduce(
    (n, a) =>
      n +
      (a.kind === 'guard.blocked' || a.kind === 'guard.detected'
        ? 1
        : Number(a.details?.count ?? 0)),
    0,
  );
}

describe('BlockAlerter', () => {
  it('names the rule a block is about, not the anomaly evaluation', () => {
    expect(primaryRule([949110, 942100, 980170])).toBe(942100);
    expect(primaryRule([959100])).toBe(959100);
    expect(primaryRule([])).toBe(0);
  });

  it('turns a 10,000-request burst from one client into one alert plus summaries', async () => {
    let now = Date.UTC(2026, 11, 4);
    const { sink, alerts } = recordingSink();
    const a = new BlockAlerter({ sink, now: () => now, tickMs: 0, windowMs: 60_000 });
    for (let i = 0; i < 10_000; i++) {
      a.blocked(block('203.0.113.7', 942100, i));
      now += 10; // 100 s in all
      if (i % 500 === 0) a.tick();
    }
    await a.close();
    expect(alerts.length).toBeLessThanOrEqual(4);
    expect(alerts[0]).toMatchObject({ kind: 'guard.blocked', area: 'guard' });
    expect(alerts.slice(1).every((x) => x.kind === 'guard.blocked_burst')).toBe(true);
    expect(counted(alerts)).toBe(10_000);
  });

  it('alerts separately per rule and per client, and folds past the per-window limit', async () => {
    const now = Date.UTC(2026, 11, 4);
    const { sink, alerts } = recordingSink();
    const a = new BlockAlerter({ sink, now: () => now, tickMs: 0, maxPairsPerWindow: 5 });
    a.blocked(block('198.51.100.1', 942100));
    a.blocked(block('198.51.100.1', 941100));
    a.blocked(block('198.51.100.2', 942100));
    expect(alerts.map((x) => x.kind)).toEqual(['guard.blocked', 'guard.blocked', 'guard.blocked']);
    for (let i = 0; i < 3000; i++) a.blocked(block(`10.0.${i >> 8}.${i & 255}`, 942100, i));
    await a.close();
    const kinds = alerts.map((x) => x.kind);
    expect(kinds.filter((k) => k === 'guard.blocked')).toHaveLength(5);
    expect(kinds.filter((k) => k === 'guard.blocked_many')).toHaveLength(1);
    expect(alerts.find((x) => x.kind === 'guard.blocked_many')?.details?.count).toBe(2998);
    expect(counted(alerts)).toBe(3003);
  });

  it('detect mode: what passed on is alerted as detected, apart from what was blocked', async () => {
    const now = Date.UTC(2026, 11, 4);
    const { sink, alerts } = recordingSink();
    const a = new BlockAlerter({ sink, now: () => now, tickMs: 0, maxPairsPerWindow: 3 });
    const seen = (client: string, i: number) => ({ ...block(client, 942100, i), detected: true });
    a.blocked(seen('198.51.100.1', 0));
    a.blocked(block('198.51.100.1', 942100, 1));
    for (let i = 2; i < 12; i++) a.blocked(seen('198.51.100.1', i));
    for (let i = 0; i < 50; i++) a.blocked(seen(`10.1.0.${i}`, i));
    await a.close();
    expect(alerts[0]).toMatchObject({ kind: 'guard.detected', severity: 'medium' });
    expect(alerts[0]!.message).toMatch(/reached the application/);
    expect(alerts[1]).toMatchObject({ kind: 'guard.blocked' });
    const kinds = alerts.map((x) => x.kind);
    expect(kinds).toContain('guard.detected_burst');
    expect(kinds).toContain('guard.detected_many');
    expect(kinds).not.toContain('guard.blocked_burst');
    expect(counted(alerts)).toBe(62);
  });

  describe('through the shared sink into the store', () => {
    let t: TestStore;
    beforeEach(async () => {
      t = await freshStore('sqlite');
    });
    afterEach(async () => {
      await t.cleanup();
    });
    it('stores the alerts, and close() waits for them', async () => {
      const a = new BlockAlerter({ sink: createAlertSink({ store: t.store }), tickMs: 0 });
      for (let i = 0; i < 200; i++) a.blocked(block('203.0.113.9', 942100, i));
      await a.close();
      const rows = await recentAlerts(t.store);
      expect(rows.map((r) => r.kind).sort()).toEqual(['guard.blocked', 'guard.blocked_burst']);
      const burst = rows.find((r) => r.kind === 'guard.blocked_burst');
      expect(JSON.parse(burst?.details ?? '{}')).toMatchObject({
        count: 199,
        client: '203.0.113.9',
      });
      expect(burst?.severity).toBe('high');
    });
  });
});
