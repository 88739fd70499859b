/**
 * `vuln stats` on both backends: counts by quarter, year and CWE on the MyJVN hnd feed
 * examples equal a hand count (13 distinct entries), the JST day and year boundary, inclusive
 * --from/--to, --top, the CLI's --json shape and the SVG chart.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRegistrations, jstDayStartUtc } from '../../src/vuln/core/stats.js';
import { registrationStats, syncFrom } from '../../src/vuln/index.js';
import { runMamori } from '../helpers/cli.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';
import { vector } from '../helpers/vectors.js';

const HND_FEEDS = [
  'dataFeed_jvndb_detail_hnd.xml',
  'dataFeed_jvndb_rss_hnd.xml',
  'getVulnOverviewList_hnd.xml',
  'getVulnDetailInfo_hnd_JVNDB-2017-009608.xml',
  'getVulnDetailInfo_hnd_JVNDB-2022-000097.xml',
];

describe('JST arithmetic', () => {
  it('a JST day starts at 15:00 UTC the day before', () => {
    expect(jstDayStartUtc('2018-01-01')).toBe('2017-12-31T15:00:00Z');
    expect(jstDayStartUtc('2017-12-31', 1)).toBe('2017-12-31T15:00:00Z');
  });
  it('2017-12-31T23:30+09:00 is 2017-Q4; 2017-12-31T23:30Z is already 2018-Q1 in Japan', () => {
    const rows = [
      { registered: new Date('2017-12-31T23:30:00+09:00').toISOString(), cwes: [] },
      { registered: '2017-12-31T23:30:00Z', cwes: [] },
    ];
    expect(countRegistrations(rows, 'quarter')).toEqual([
      { key: '2017-Q4', count: 1 },
      { key: '2018-Q1', count: 1 },
    ]);
  });
});

for (const backend of testBackends()) {
  describe(`vuln stats (${backend})`, () => {
    let t: TestStore;
    let dir: string;
    beforeAll(async () => {
      t = await freshStore(backend);
      dir = mkdtempSync(join(tmpdir(), 'mamori-jvn-'));
      for (const f of HND_FEEDS)
        writeFileSync(join(dir, f), readFileSync(join(vector('vuln/jvn/myjvn-examples/hnd'), f)));
      const s = await syncFrom(t.store, { source: 'jvn', from: dir });
      expect(s.errors).toEqual([]);
    });
    afterAll(async () => {
      await t.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it('by quarter and year: the hand count', async () => {
      expect((await registrationStats(t.store, { by: 'quarter' })).rows).toEqual([
        { key: '2017-Q4', count: 1 },
        { key: '2018-Q4', count: 1 },
        { key: '2021-Q4', count: 1 },
        { key: '2022-Q4', count: 1 },
        { key: '2025-Q1', count: 3 },
        { key: '2025-Q2', count: 6 },
      ]);
      expect((await registrationStats(t.store, { by: 'year' })).rows).toEqual([
        { key: '2017', count: 1 },
        { key: '2018', count: 1 },
        { key: '2021', count: 1 },
        { key: '2022', count: 1 },
        { key: '2025', count: 9 },
      ]);
    });

    it('by CWE: the hand count, with Japanese and English names', async () => {
      const { rows } = await registrationStats(t.store, { by: 'cwe' });
      expect(rows.map((r) => [r.key, r.count])).toEqual([
        ['CWE-79', 3],
        ['CWE-502', 2],
        ['CWE-Other', 2],
        ['CWE-noinfo', 2],
        ['CWE-20', 1],
        ['CWE-22', 1],
        ['CWE-327', 1],
        ['CWE-674', 1],
        ['CWE-732', 1],
        ['CWE-749', 1],
        ['CWE-78', 1],
        ['CWE-89', 1],
      ]);
      expect(rows[0]!.name).toBe('クロスサイト・スクリプティング / Cross-site Scripting');
      const top = await registrationStats(t.store, { by: 'cwe', top: 3 });
      expect(top.rows.map((r) => r.key)).toEqual(['CWE-79', 'CWE-502', 'CWE-Other']);
    });

    it('--from/--to are inclusive JST days (2025-04-11T23:52+09:00 is on the 11th)', async () => {
      const upTo10 = await registrationStats(t.store, {
        by: 'quarter',
        from: '2025-04-01',
        to: '2025-04-10',
      });
      expect(upTo10.rows).toEqual([{ key: '2025-Q2', count: 2 }]);
      const upTo11 = await registrationStats(t.store, {
        by: 'quarter',
        from: '2025-04-01',
        to: '2025-04-11',
      });
      expect(upTo11.rows).toEqual([{ key: '2025-Q2', count: 6 }]);
      const only12 = await registrationStats(t.store, {
        by: 'quarter',
        from: '2025-04-12',
        to: '2025-04-12',
      });
      expect(only12.rows).toEqual([]);
    });

    it('the JST year boundary through the store: a record at 2017-12-31T23:30Z counts in 2018', async () => {
      const raw = JSON.parse(
        readFileSync(vector('vuln/jvn/feed-detail/2022/JVNDB-2022-000001.json'), 'utf8'),
      );
      const mk = (id: string, when: string) => ({
        ...raw,
        vulinfoid: id,
        vulinfodata: { ...raw.vulinfodata, datefirstpublished: when },
      });
      const bdir = mkdtempSync(join(tmpdir(), 'mamori-jst-'));
      writeFileSync(
        join(bdir, 'a.json'),
        JSON.stringify(mk('JVNDB-2017-900001', '2017-12-31T23:30:00+09:00')),
      );
      writeFileSync(
        join(bdir, 'b.json'),
        JSON.stringify(mk('JVNDB-2017-900002', '2017-12-31T23:30:00Z')),
      );
      const other = await freshStore(backend);
      try {
        await syncFrom(other.store, { source: 'jvn', from: bdir });
        expect((await registrationStats(other.store, { by: 'year' })).rows).toEqual([
          { key: '2017', count: 1 },
          { key: '2018', count: 1 },
        ]);
        expect(
          (await registrationStats(other.store, { by: 'year', to: '2017-12-31' })).rows,
        ).toEqual([{ key: '2017', count: 1 }]);
      } finally {
        await other.cleanup();
        rmSync(bdir, { recursive: true, force: true });
      }
    });

    it('CLI: --json shape, table, SVG, bad flags', async () => {
      const r = await runMamori([
        'vuln',
        'stats',
        '--by',
        'quarter',
        '--from',
        '2025-01-01',
        '--to',
        '2025-06-30',
        '--db',
        t.spec,
        '--json',
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({
        by: 'quarter',
        source: 'jvn',
        available: [{ source: 'jvn', records: 13 }],
        rows: [
          { key: '2025-Q1', count: 3 },
          { key: '2025-Q2', count: 6 },
        ],
      });
      const svg = join(dir, 'cwe.svg');
      const c = await runMamori([
        'vuln',
        'stats',
        '--by',
        'cwe',
        '--top',
        '2',
        '--svg',
        svg,
        '--db',
        t.spec,
      ]);
      expect(c.code, c.stderr).toBe(0);
      expect(c.stdout).toMatch(/CWE-79\s+3\s+クロスサイト・スクリプティング/);
      const text = readFileSync(svg, 'utf8');
      expect(text).toMatch(/^<\?xml/);
      expect((text.match(/<rect /g) ?? []).length).toBe(2);
      const bad = await runMamori(['vuln', 'stats', '--by', 'month', '--db', t.spec]);
      expect(bad.code).toBe(2);
      const badDate = await runMamori(['vuln', 'stats', '--from', '2017-13-45x', '--db', t.spec]);
      expect(badDate.code).toBe(2);
    });
  });
}
