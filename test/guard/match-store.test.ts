/**
 * guard_match on both backends: the recorder takes matches without waiting on the database and
 * writes every accepted one by close(); hostile matched data is stored escaped and cut, and
 * read back exactly; the summary's counts equal a count of the rows listed.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  listMatches,
  MATCHED_DATA_MAX,
  type MatchInput,
  MatchRecorder,
  matchDetail,
  matchSummary,
  safeText,
} from '../../src/guard/index.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';

function match(i: number, over: Partial<MatchInput> = {}): MatchInput {
  return {
    requestId: `req-${Math.floor(i / 2)}`,
    time: new Date(Date.UTC(2026, 11, 4, i % 3, i % 60)).toISOString(),
    ruleId: i % 2 === 0 ? 942100 : 949110,
    phase: 2,
    msg: i % 2 === 0 ? 'SQL Injection Attack Detected via libinjection' : 'Inbound Anomaly Score',
    matchedVar: 'ARGS:id',
    matchedData: `1' or '1'='1 #${i}`,
    anomalyScore: 5,
    action: i % 4 < 2 ? 'blocked' : 'logged',
    client: `203.0.113.${i % 5}`,
    method: 'GET',
    path: `/item?id=${i}`,
    ...over,
  };
}

describe('safeText', () => {
  it('escapes control characters and backslashes, decodes UTF-8 bytes, and cuts', () => {
    expect(safeText('a\u0000b\r\n\\', 100)).toBe('a\\x00b\\x0d\\x0a\\\\');
    // "テスト" as the engine sees it: UTF-8 bytes, one char per byte
    expect(safeText(Buffer.from('テスト').toString('latin1'), 100)).toBe('テスト');
    expect(safeText('\xff\xfe', 100)).toBe('\ufffd\ufffd');
    expect(safeText('x'.repeat(600), 512)).toBe(`${'x'.repeat(512)}…`);
    expect(safeText('a\ud800b', 10)).toBe('a\ufffdb');
  });
});

for (const backend of testBackends()) {
  describe(`guard_match on ${backend}`, () => {
    let t: TestStore;
    beforeEach(async () => {
      t = await freshStore(backend);
    });
    afterEach(async () => {
      await t.cleanup();
    });

    it('accepts matches without waiting and writes every accepted one by close()', async () => {
      const r = new MatchRecorder({ store: t.store, flushIntervalMs: 50, batchSize: 37 });
      for (let i = 0; i < 1000; i++) expect(r.record(match(i))).toBe(true);
      // record() is synchronous: nothing can have been written yet.
      expect(r.stats.written).toBe(0);
      await r.close();
      expect(r.stats).toMatchObject({ queued: 1000, written: 1000, refused: 0 });
      const rows = await listMatches(t.store, { limit: 10_000 });
      expect(rows).toHaveLength(1000);
      expect(r.record(match(1))).toBe(false);
      expect(r.stats.refused).toBe(1);
    });

    it('writes on its interval while running', async () => {
      const r = new MatchRecorder({ store: t.store, flushIntervalMs: 20 });
      r.record(match(0));
      const deadline = Date.now() + 10_000;
      while ((await listMatches(t.store)).length === 0 && Date.now() < deadline)
        await new Promise((res) => setTimeout(res, 20));
      expect(await listMatches(t.store)).toHaveLength(1);
      await r.close();
    });

    it('refuses beyond its queue bound instead of growing without limit', async () => {
      const r = new MatchRecorder({ store: t.store, maxQueue: 10, flushIntervalMs: 60_000 });
      let accepted = 0;
      for (let i = 0; i < 25; i++) if (r.record(match(i))) accepted++;
      expect(accepted).toBe(10);
      await r.close();
      expect(await listMatches(t.store, { limit: 100 })).toHaveLength(10);
    });

    it('stores hostile matched data safely and reads it back', async () => {
      const hostile = [
        "'); DROP TABLE guard_match; --",
        'nul\u0000byte',
        '<script>alert(1)</script>',
        Buffer.from('日本語の攻撃').toString('latin1'),
        '\xc3\x28 invalid utf-8',
        'A'.repeat(5000),
      ];
      const r = new MatchRecorder({ store: t.store });
      hostile.forEach((d, i) => {
        r.record(match(i, { matchedData: d, path: `/p${i}?q=${d}`, requestId: `h${i}` }));
      });
      await r.close();
      const rows = (await listMatches(t.store, { limit: 100 })).sort((a, b) => a.id - b.id);
      expect(rows.map((x) => x.matched_data)).toEqual([
        "'); DROP TABLE guard_match; --",
        'nul\\x00byte',
        '<script>alert(1)</script>',
        '日本語の攻撃',
        '\ufffd( invalid utf-8',
        `${'A'.repeat(MATCHED_DATA_MAX)}…`,
      ]);
      expect(rows[5]?.data_length).toBe(5000);
      expect(rows[0]?.path).toBe('/p0');
    });

    it('filters, details and summarises with counts equal to the rows', async () => {
      const r = new MatchRecorder({ store: t.store });
      for (let i = 0; i < 120; i++) r.record(match(i));
      await r.close();
      const all = await listMatches(t.store, { limit: 10_000 });
      expect(all).toHaveLength(120);
      expect(all[0]!.time >= all.at(-1)!.time).toBe(true);
      const rule = await listMatches(t.store, { ruleId: 942100, limit: 10_000 });
      expect(rule).toHaveLength(60);
      expect(rule.every((x) => x.rule_id === 942100)).toBe(true);
      const since = '2026-12-04T01:00:00.000Z';
      expect(await listMatches(t.store, { since, limit: 10_000 })).toHaveLength(
        all.filter((x) => x.time >= since).length,
      );
      const blocked = await listMatches(t.store, { action: 'blocked', limit: 10_000 });
      expect(blocked).toHaveLength(60);

      const s = await matchSummary(t.store, {}, 3);
      expect(s.matches).toBe(120);
      expect(s.requests).toBe(60);
      expect(s.blockedRequests).toBe(new Set(blocked.map((x) => x.request_id)).size);
      expect(s.blockedRequests + s.loggedRequests).toBe(60);
      for (const h of s.perHour) {
        const inHour = all.filter((x) => x.time.startsWith(h.hour));
        expect(h.blocked).toBe(inHour.filter((x) => x.action === 'blocked').length);
        expect(h.logged).toBe(inHour.filter((x) => x.action === 'logged').length);
      }
      expect(s.perHour.map((h) => h.hour)).toEqual([
        '2026-12-04T00',
        '2026-12-04T01',
        '2026-12-04T02',
      ]);
      expect(s.topRules).toEqual([
        { ruleId: 942100, msg: 'SQL Injection Attack Detected via libinjection', matches: 60 },
        { ruleId: 949110, msg: 'Inbound Anomaly Score', matches: 60 },
      ]);
      expect(s.topClients).toHaveLength(3);
      for (const c of s.topClients) {
        const mine = all.filter((x) => x.client === c.client);
        expect(c.matches).toBe(mine.length);
        expect(c.blocked).toBe(mine.filter((x) => x.action === 'blocked').length);
      }

      const d = await matchDetail(t.store, all[0]!.id);
      expect(d?.match.id).toBe(all[0]!.id);
      expect(d?.request.every((x) => x.request_id === all[0]!.request_id)).toBe(true);
      expect(d?.request).toHaveLength(2);
      expect(await matchDetail(t.store, 999_999)).toBeUndefined();
    });
  });
}
