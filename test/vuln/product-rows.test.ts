/**
 * CPE matches stored by product (`vuln_product`, migration 20261126_03): a record's matches of
 * one (vendor, product, vulnerable, confidence) are one row with their criteria as a JSON
 * array, in the source's order. Checked on the pure grouping, on a sync of real-shaped NVD
 * records, and on a store written in the old one-row-per-match layout and then migrated, on
 * both backends: the matches, `show` and `matchCpe` must come out as they were.
 */
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate, openDb, type Store } from '../../src/storage/index.js';
import { allMigrations } from '../../src/storage/migrations/index.js';
import type { CpeMatch } from '../../src/vuln/core/types.js';
import { lookup, matchCpe } from '../../src/vuln/index.js';
import { productRows } from '../../src/vuln/prepare.js';
import { freshSpec, testBackends } from '../helpers/db.js';

const cpe = (part: string, vendor: string, product: string, version = '*', update = '*') =>
  `cpe:2.3:${part}:${vendor}:${product}:${version}:${update}:*:*:*:*:*:*`;
const LOG4J = cpe('a', 'apache', 'log4j');
const WINDOWS = cpe('o', 'microsoft', 'windows');

describe('productRows', () => {
  it('puts the matches of one product in one row, in their order, products by first appearance', () => {
    const matches: CpeMatch[] = [
      {
        cpe: LOG4J,
        versionStartIncluding: '2.0.1',
        versionEndExcluding: '2.3.1',
        vulnerable: true,
        confidence: 'high',
      },
      { cpe: cpe('a', 'cisco', 'webex'), vulnerable: true, confidence: 'high' },
      { cpe: cpe('a', 'apache', 'log4j', '2.0', 'beta9'), vulnerable: true, confidence: 'high' },
      {
        cpe: LOG4J,
        versionStartIncluding: '2.13.0',
        versionEndExcluding: '2.15.0',
        vulnerable: true,
        confidence: 'high',
        platform: [[{ cpe: WINDOWS }]],
      },
      { cpe: LOG4J, vulnerable: false, confidence: 'high' },
      { cpe: LOG4J, vulnerable: true, confidence: 'low' },
      { cpe: 'not a cpe', vulnerable: true, confidence: 'low' },
    ];
    const rows = productRows(matches).map(([vendor, product, vulnerable, confidence, json]) => ({
      key: `${vendor}:${product}:${vulnerable}:${confidence}`,
      matches: JSON.parse(json as string) as unknown[],
    }));
    expect(rows).toEqual([
      {
        key: 'apache:log4j:1:high',
        matches: [
          { cpe: LOG4J, versionStartIncluding: '2.0.1', versionEndExcluding: '2.3.1' },
          { cpe: cpe('a', 'apache', 'log4j', '2.0', 'beta9') },
          {
            cpe: LOG4J,
            versionStartIncluding: '2.13.0',
            versionEndExcluding: '2.15.0',
            platform: [[{ cpe: WINDOWS }]],
          },
        ],
      },
      { key: 'cisco:webex:1:high', matches: [{ cpe: cpe('a', 'cisco', 'webex') }] },
      { key: 'apache:log4j:0:high', matches: [{ cpe: LOG4J }] },
      { key: 'apache:log4j:1:low', matches: [{ cpe: LOG4J }] },
      { key: '*:*:1:low', matches: [{ cpe: 'not a cpe' }] },
    ]);
    expect(productRows([])).toEqual([]);
  });
});

/** The rows of a store written before 20261126_03: one `vuln_cpe` row per match. */
const OLD_ROWS: {
  record: number;
  cpe: string;
  vendor: string;
  product: string;
  bounds?: [string | null, string | null, string | null, string | null];
  vulnerable?: number;
  confidence?: string;
  platform?: string;
}[] = [
  {
    record: 1,
    cpe: LOG4J,
    vendor: 'apache',
    product: 'log4j',
    bounds: ['2.0.1', null, null, '2.3.1'],
  },
  {
    record: 1,
    cpe: cpe('a', 'cisco', 'webex'),
    vendor: 'cisco',
    product: 'webex',
    platform: `[[{"cpe":"${WINDOWS}"}]]`,
  },
  {
    record: 1,
    cpe: LOG4J,
    vendor: 'apache',
    product: 'log4j',
    bounds: ['2.13.0', null, null, '2.15.0'],
  },
  {
    record: 1,
    cpe: cpe('a', 'apache', 'log4j', '2.0', 'beta9'),
    vendor: 'apache',
    product: 'log4j',
  },
  { record: 1, cpe: WINDOWS, vendor: 'microsoft', product: 'windows', vulnerable: 0 },
  { record: 2, cpe: LOG4J, vendor: 'apache', product: 'log4j', confidence: 'low' },
];

async function oldLayoutStore(spec: string): Promise<Store> {
  const store = await openDb(spec, { migrate: false });
  const before = Object.fromEntries(
    Object.entries(allMigrations()).filter(([name]) => name < '20261126_03'),
  );
  await migrate(store, before);
  const db = store.db as unknown as import('kysely').Kysely<unknown>;
  await sql`insert into vuln_advisory (id, primary_id, created, updated) values
    (1, 'CVE-2021-44228', '2021-12-10T00:00:00Z', '2021-12-10T00:00:00Z')`.execute(db);
  await sql`insert into vuln_alias (alias, advisory_id) values
    ('CVE-2021-44228', 1), ('JVNDB-2021-005429', 1)`.execute(db);
  for (const [id, source, ext] of [
    [1, 'nvd', 'CVE-2021-44228'],
    [2, 'jvn', 'JVNDB-2021-005429'],
  ] as const)
    await sql`insert into vuln_record (id, advisory_id, source, external_id, severity, cwes, refs,
        aliases, content_hash)
      values (${id}, 1, ${source}, ${ext}, 'critical', '[]', '[]', '[]', 'before-20261126_03')`.execute(
      db,
    );
  for (const r of OLD_ROWS) {
    const [a, b, c, d] = r.bounds ?? [null, null, null, null];
    await sql`insert into vuln_cpe (record_id, advisory_id, cpe, vendor, product,
        version_start_including, version_start_excluding, version_end_including,
        version_end_excluding, vulnerable, confidence, platform)
      values (${r.record}, 1, ${r.cpe}, ${r.vendor}, ${r.product}, ${a}, ${b}, ${c}, ${d},
        ${r.vulnerable ?? 1}, ${r.confidence ?? 'high'}, ${r.platform ?? null})`.execute(db);
  }
  return store;
}

for (const backend of testBackends()) {
  describe(`migration 20261126_03_vuln_product (${backend})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      const s = await freshSpec(backend);
      cleanup = s.cleanup;
      store = await oldLayoutStore(s.spec);
    });
    afterEach(async () => {
      await store.close();
      await cleanup();
    });

    it('groups the old rows by product, in id order, and keeps what check and show read', async () => {
      expect(await migrate(store)).toContain('20261126_03_vuln_product');
      const tables = (await store.db.introspection.getTables()).map((t) => t.name);
      expect(tables).toContain('vuln_product');
      expect(tables).not.toContain('vuln_cpe');
      const rows = await store.db
        .selectFrom('vuln_product')
        .select(['record_id', 'vendor', 'product', 'vulnerable', 'confidence', 'matches'])
        .orderBy('id')
        .execute();
      expect(
        rows.map((r) => ({ ...r, record_id: Number(r.record_id), matches: JSON.parse(r.matches) })),
      ).toEqual([
        {
          record_id: 1,
          vendor: 'apache',
          product: 'log4j',
          vulnerable: 1,
          confidence: 'high',
          matches: [
            { cpe: LOG4J, versionStartIncluding: '2.0.1', versionEndExcluding: '2.3.1' },
            { cpe: LOG4J, versionStartIncluding: '2.13.0', versionEndExcluding: '2.15.0' },
            { cpe: cpe('a', 'apache', 'log4j', '2.0', 'beta9') },
          ],
        },
        {
          record_id: 1,
          vendor: 'cisco',
          product: 'webex',
          vulnerable: 1,
          confidence: 'high',
          matches: [{ cpe: cpe('a', 'cisco', 'webex'), platform: [[{ cpe: WINDOWS }]] }],
        },
        {
          record_id: 1,
          vendor: 'microsoft',
          product: 'windows',
          vulnerable: 0,
          confidence: 'high',
          matches: [{ cpe: WINDOWS }],
        },
        {
          record_id: 2,
          vendor: 'apache',
          product: 'log4j',
          vulnerable: 1,
          confidence: 'low',
          matches: [{ cpe: LOG4J }],
        },
      ]);

      const hit = async (name: string, platforms?: string[]) =>
        (await matchCpe(store, name, platforms ? { platforms } : {})).map(
          (h) => `${h.id} ${h.confidence}${h.conditions ? ` ${h.conditions.join(',')}` : ''}`,
        );
      expect(await hit(cpe('a', 'apache', 'log4j', '2.14.1'))).toEqual(['CVE-2021-44228 high']);
      expect(await hit(cpe('a', 'apache', 'log4j', '2.0', 'beta9'))).toEqual([
        'CVE-2021-44228 high',
      ]);
      // 2.16.0 is outside the NVD ranges: only JVN's low-confidence product match is left
      expect(await hit(cpe('a', 'apache', 'log4j', '2.16.0'))).toEqual(['CVE-2021-44228 low']);
      expect(await hit(cpe('a', 'cisco', 'webex', '41.1'))).toEqual([
        `CVE-2021-44228 medium ${WINDOWS}`,
      ]);
      expect(
        await hit(cpe('a', 'cisco', 'webex', '41.1'), [cpe('o', 'microsoft', 'windows', '10')]),
      ).toEqual(['CVE-2021-44228 high']);
      // a platform-only product is not itself vulnerable
      expect(await hit(cpe('o', 'microsoft', 'windows', '10'))).toEqual([]);

      const shown = await lookup(store, 'JVNDB-2021-005429');
      expect(shown?.cpes.map((c) => [c.cpe, c.versionEndExcluding, c.confidence])).toEqual([
        [LOG4J, '2.3.1', 'high'],
        [LOG4J, '2.15.0', 'high'],
        [cpe('a', 'apache', 'log4j', '2.0', 'beta9'), null, 'high'],
        [cpe('a', 'cisco', 'webex'), null, 'high'],
        [LOG4J, null, 'low'],
      ]);
      expect(shown?.cpes[3]?.platform).toEqual([[{ cpe: WINDOWS }]]);
    });
  });
}
