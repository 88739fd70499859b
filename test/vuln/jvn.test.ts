/**
 * JVN iPedia: every MyJVN example (XML hnd, JSON oka) and the feed-detail entries parse, the
 * same vulnerability parses to the same fields from every form, CVSS scores we compute equal
 * the scores JVN publishes, and non-advisory documents are refused clearly.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cvss2Score10, cvss3Score10 } from '../../src/vuln/core/cvss.js';
import type { VulnRecord } from '../../src/vuln/core/types.js';
import { parseJvnEntry } from '../../src/vuln/jvn-sync.js';
import { vector } from '../helpers/vectors.js';

function parseFile(path: string) {
  return [...parseJvnEntry({ name: path, bytes: readFileSync(path) })];
}

const HND = vector('vuln/jvn/myjvn-examples/hnd');
const OKA = vector('vuln/jvn/myjvn-examples/oka');
const ADVISORY_FILES = [
  'hnd/dataFeed_jvndb_detail_hnd.xml',
  'hnd/dataFeed_jvndb_rss_hnd.xml',
  'hnd/getVulnOverviewList_hnd.xml',
  'hnd/getVulnDetailInfo_hnd_JVNDB-2017-009608.xml',
  'hnd/getVulnDetailInfo_hnd_JVNDB-2018-009328.xml',
  'hnd/getVulnDetailInfo_hnd_JVNDB-2021-002774.xml',
  'hnd/getVulnDetailInfo_hnd_JVNDB-2022-000097.xml',
  'oka/dataFeed_jvndb_detail_oka.json',
  'oka/dataFeed_jvndb_rss_oka.json',
  'oka/getVulnOverviewList_oka.json',
  'oka/getVulnDetailInfo_oka_JVNDB-2017-009608.json',
  'oka/getVulnDetailInfo_oka_JVNDB-2017-009608_jvnstix.json',
  'oka/getVulnDetailInfo_oka_JVNDB-2018-009328.json',
  'oka/getVulnDetailInfo_oka_JVNDB-2021-002774.json',
  'oka/getVulnDetailInfo_oka_JVNDB-2022-000097.json',
  'oka/getVulnDetailInfo_oka_jvncsaf.json',
  'oka/getVulnDetailInfo_oka_jvnstix.json',
];
const EXPECTED_IDS: Record<string, string[]> = {
  'hnd/dataFeed_jvndb_detail_hnd.xml': [
    'JVNDB-2025-000001',
    'JVNDB-2025-000002',
    'JVNDB-2025-000003',
    'JVNDB-2017-009608',
    'JVNDB-2018-009328',
    'JVNDB-2021-002774',
    'JVNDB-2022-000097',
  ],
  'hnd/dataFeed_jvndb_rss_hnd.xml': [
    'JVNDB-2023-028579',
    'JVNDB-2023-028578',
    'JVNDB-2023-028577',
    'JVNDB-2023-028576',
  ],
  'hnd/getVulnOverviewList_hnd.xml': ['JVNDB-2025-002953', 'JVNDB-2025-002884'],
  'oka/dataFeed_jvndb_detail_oka.json': [
    'JVNDB-2017-009608',
    'JVNDB-2018-009328',
    'JVNDB-2021-002774',
    'JVNDB-2022-000097',
    'JVNDB-2025-000000',
  ],
  'oka/getVulnOverviewList_oka.json': [
    'JVNDB-2025-000000',
    'JVNDB-2025-002953',
    'JVNDB-2025-002884',
  ],
};

function records(rel: string): VulnRecord[] {
  const out = parseFile(join(vector('vuln/jvn/myjvn-examples'), rel));
  const bad = out.filter((o) => !o.ok);
  expect(bad, `${rel}: ${JSON.stringify(bad)}`).toEqual([]);
  return out.flatMap((o) => (o.ok ? [o.record] : []));
}

/** The fields every form carries. */
const common = (r: VulnRecord) => ({
  id: r.id,
  aliases: r.aliases,
  titleJa: r.titleJa,
  registered: r.registered,
  cwes: [...r.cwes].sort(),
  cpes: r.cpes.map((c) => c.cpe).sort(),
});

describe('MyJVN examples', () => {
  it('every advisory example parses without error, with the ids it holds', () => {
    expect(readdirSync(HND).length + readdirSync(OKA).length).toBeGreaterThan(30);
    for (const rel of ADVISORY_FILES) {
      const recs = records(rel);
      expect(recs.length, rel).toBeGreaterThan(0);
      if (EXPECTED_IDS[rel])
        expect(
          recs.map((r) => r.id),
          rel,
        ).toEqual(EXPECTED_IDS[rel]);
      for (const r of recs) {
        expect(r.registered, `${rel} ${r.id}`).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
        expect(r.titleJa, `${rel} ${r.id}`).toBeTruthy();
      }
    }
  });

  it('the same vulnerability parses to the same fields from XML, JSON, CSAF and STIX', () => {
    const all = ADVISORY_FILES.flatMap((rel) => records(rel).map((r) => ({ rel, r })));
    const byId = new Map<string, { rel: string; r: VulnRecord }[]>();
    for (const x of all) byId.set(x.r.id, [...(byId.get(x.r.id) ?? []), x]);
    let compared = 0;
    for (const [id, xs] of byId) {
      if (xs.length < 2) continue;
      const first = common(xs[0]!.r);
      for (const x of xs.slice(1)) {
        // Overview forms (RSS, feed entries) carry fewer products and references than the
        // detail forms: there, CPEs are not compared and their CVEs must be a subset.
        const a = { ...first };
        const b = common(x.r);
        const overview = (rel: string) => /Overview|rss/.test(rel);
        if (overview(x.rel) || overview(xs[0]!.rel)) {
          const [small, big] = overview(x.rel) ? [b, a] : [a, b];
          expect(big.aliases, id).toEqual(expect.arrayContaining(small.aliases));
          a.cpes = [];
          b.cpes = [];
          a.aliases = [];
          b.aliases = [];
        }
        expect(b, `${id}: ${xs[0]!.rel} vs ${x.rel}`).toEqual(a);
        compared++;
      }
    }
    expect(compared).toBeGreaterThanOrEqual(15);
    const pcu = byId.get('JVNDB-2017-009608')!.map((x) => x.r);
    for (const r of pcu) {
      expect(r).toMatchObject({
        aliases: ['CVE-2017-14937'],
        cwes: ['CWE-327'],
        registered: '2017-11-16T06:06:40Z',
        cvssV3: 'CVSS:3.0/AV:L/AC:H/PR:L/UI:N/S:U/C:H/I:N/A:N',
        severity: 'medium',
        cvssScore10: 47,
      });
      expect(r.cpes.map((c) => c.cpe)).toEqual(['cpe:2.3:h:pcu:pcu:*:*:*:*:*:*:*:*']);
      expect(r.cpes[0]!.confidence).toBe('low');
    }
  });

  it('documents that are not advisories (vendor, product, statistics, alert lists) are refused clearly', () => {
    for (const f of [
      'getVendorList_hnd.xml',
      'getProductList_hnd.xml',
      'getStatistics_hnd_sumCwe.xml',
    ]) {
      const out = parseFile(join(HND, f));
      expect(
        out.every((o) => !o.ok),
        f,
      ).toBe(true);
    }
    const alerts = parseFile(join(OKA, 'getAlertList_oka.json'));
    expect(alerts.every((o) => !o.ok && /not a JVNDB id: MYJVN-ALT-/.test(o.error.message))).toBe(
      true,
    );
  });

  it('an entry JVN marks ** 削除 ** (deleted) is withdrawn; ** 未確定 ** stays an entry', () => {
    const text = readFileSync(join(HND, 'dataFeed_jvndb_rss_hnd.xml'), 'utf8');
    const titles = [...text.matchAll(/<item [\s\S]*?<title>([^<]*)<\/title>/g)].map((m) => m[1]!);
    expect(titles.length).toBeGreaterThan(2);
    const edited = text
      .replace(
        `<title>${titles[0]}</title>`,
        '<title>** 削除 ** このエントリは削除されました</title>',
      )
      .replace(`<title>${titles[1]}</title>`, `<title>** 未確定 ** ${titles[1]}</title>`);
    const out = [...parseJvnEntry({ name: 'rss.xml', bytes: new TextEncoder().encode(edited) })];
    const recs = out.flatMap((o) => (o.ok ? [o.record] : []));
    expect(recs).toHaveLength(titles.length);
    expect(recs[0]!.withdrawn).toBe(recs[0]!.modified ?? recs[0]!.published);
    expect(recs[0]!.withdrawn).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(recs.slice(1).every((r) => r.withdrawn === undefined)).toBe(true);
    // the unedited feed has no withdrawn entry
    const plain = parseFile(join(HND, 'dataFeed_jvndb_rss_hnd.xml'));
    expect(plain.every((o) => o.ok && o.record.withdrawn === undefined)).toBe(true);
  });

  it('truncated XML is reported with a position', () => {
    const text = readFileSync(join(HND, 'getVulnDetailInfo_hnd_JVNDB-2017-009608.xml'), 'utf8');
    const out = [
      ...parseJvnEntry({ name: 'cut.xml', bytes: new TextEncoder().encode(text.slice(0, 1500)) }),
    ];
    expect(out).toHaveLength(1);
    expect(out[0]!.ok).toBe(false);
    if (!out[0]!.ok) {
      expect(out[0]!.error.message).toMatch(/malformed XML/);
      expect(out[0]!.error.position).toMatch(/^line \d+, column \d+/);
    }
  });
});

describe('JVN feed-detail entries', () => {
  const years = ['2021', '2022', '2023'];
  it('parse, and the CVSS base scores we compute equal the ones JVN publishes', () => {
    let checked = 0;
    for (const y of years) {
      const dir = vector(`vuln/jvn/feed-detail/${y}`);
      for (const f of readdirSync(dir)) {
        const path = join(dir, f);
        const out = parseFile(path);
        expect(out.map((o) => (o.ok ? o.record.id : o.error.message))).toEqual([
          f.replace('.json', ''),
        ]);
        const raw = JSON.parse(readFileSync(path, 'utf8'));
        for (const c of raw.vulinfodata.impact?.cvss ?? []) {
          const computed = c.version.startsWith('2')
            ? cvss2Score10(c.vector)
            : cvss3Score10(c.vector);
          expect(computed, `${f} ${c.vector}`).toBe(Math.round(Number(c.base) * 10));
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(5);
  });

  it('the identifier year is not the registration year (JVNDB-2022-017704 was registered in 2023)', () => {
    const [o] = parseFile(join(vector('vuln/jvn/feed-detail/2022'), 'JVNDB-2022-017704.json'));
    expect(o?.ok && o.record.registered).toBe('2023-10-16T08:17:41Z');
  });
});
