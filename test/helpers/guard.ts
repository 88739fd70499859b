/**
 * Guard matches for console tests: 30 requests over the last ~8.5 hours from four clients,
 * two in three blocked (two matches each), one in three only logged, with attacker text.
 */
import { type MatchInput, MatchRecorder } from '../../src/guard/index.js';
import type { TestStore } from './db.js';

export const HOSTILE = '<script>alert("x")</script>';

export async function seedGuardMatches(t: TestStore, now = Date.now()): Promise<void> {
  const r = new MatchRecorder({ store: t.store });
  for (let i = 0; i < 30; i++) {
    const base: Omit<MatchInput, 'ruleId' | 'msg' | 'matchedData'> = {
      requestId: `req-${i}`,
      time: new Date(now - i * 17 * 60_000).toISOString(),
      phase: 2,
      matchedVar: 'ARGS:q',
      anomalyScore: i % 3 === 0 ? 3 : 10,
      action: i % 3 === 0 ? 'logged' : 'blocked',
      client: `198.51.100.${i % 4}`,
      method: 'GET',
      path: `/search?q=${i}`,
    };
    r.record({
      ...base,
      ruleId: 941100,
      msg: 'XSS Attack Detected via libinjection',
      matchedData: HOSTILE,
    });
    if (i % 3 !== 0)
      r.record({
        ...base,
        ruleId: 949110,
        msg: 'Inbound Anomaly Score Exceeded',
        matchedData: '10',
      });
  }
  await r.close();
}
