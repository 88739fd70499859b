/**
 * Ids and duplicates in the batch upsert, on both backends: an updated record keeps its id,
 * new records and advisories take ids after every id assigned before (also after a merge
 * deleted an advisory), and the same id twice in one batch stores the later copy once.
 * (SQLite assigns new ids in the sync itself, PostgreSQL through RETURNING.)
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { VulnRecord } from '../../src/vuln/index.js';
import { upsertBatch } from '../../src/vuln/store.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';

const rec = (id: string, aliases: string[] = [], description = 'first'): VulnRecord => ({
  source: 'osv',
  id,
  aliases,
  description,
  cwes: [],
  references: [],
  affected: [{ ecosystem: 'PyPI', name: `pkg-${id.toLowerCase()}`, ranges: [], versions: ['1.0'] }],
  cpes: [
    { cpe: 'cpe:2.3:a:acme:widget:*:*:*:*:*:*:*:*', vulnerable: true, confidence: 'high' },
    { cpe: 'cpe:2.3:a:acme:gadget:1.0:*:*:*:*:*:*:*', vulnerable: true, confidence: 'high' },
  ],
});

for (const backend of testBackends()) {
  describe(`upsert ids and duplicates (${backend})`, () => {
    let t: TestStore;
    beforeEach(async () => {
      t = await freshStore(backend);
    });
    afterEach(() => t.cleanup());

    const records = async () =>
      (
        await t.store.db
          .selectFrom('vuln_record')
          .select(['id', 'external_id', 'advisory_id', 'description'])
          .orderBy('id')
          .execute()
      ).map((r) => ({ ...r, id: Number(r.id), advisory_id: Number(r.advisory_id) }));
    const rowsOf = async (table: 'vuln_affected' | 'vuln_product', recordId: number) =>
      (
        await t.store.db
          .selectFrom(table)
          .select('advisory_id')
          .where('record_id', '=', recordId)
          .execute()
      ).map((r) => Number(r.advisory_id));

    it('an updated record keeps its id; new ones come after every id given before', async () => {
      expect(await upsertBatch(t.store, [rec('PYSEC-1'), rec('PYSEC-2')])).toMatchObject({
        added: 2,
      });
      const [a, b] = await records();
      expect(
        await upsertBatch(t.store, [rec('PYSEC-1', [], 'second'), rec('PYSEC-3')]),
      ).toMatchObject({ added: 1, updated: 1 });
      const after = await records();
      expect(after.find((r) => r.external_id === 'PYSEC-1')).toEqual({
        ...a,
        description: 'second',
      });
      const c = after.find((r) => r.external_id === 'PYSEC-3')!;
      expect(c.id).toBeGreaterThan(b!.id);
      expect(c.advisory_id).toBeGreaterThan(b!.advisory_id);
      // the rows of each record point at it and at its advisory, none left from the old copy
      for (const r of after) {
        expect(await rowsOf('vuln_affected', r.id)).toEqual([r.advisory_id]);
        expect(await rowsOf('vuln_product', r.id)).toEqual([r.advisory_id, r.advisory_id]);
      }
    });

    it('a merged-away advisory id is not given again', async () => {
      await upsertBatch(t.store, [rec('PYSEC-1', ['CVE-2020-1'])]);
      await upsertBatch(t.store, [rec('GHSA-aaaa-bbbb-cccc', [])]);
      const before = await records();
      const highest = Math.max(...before.map((r) => r.advisory_id));
      // one record naming both: the two advisories become one, the higher id is deleted
      await upsertBatch(t.store, [rec('PYSEC-2', ['CVE-2020-1', 'GHSA-aaaa-bbbb-cccc'])]);
      const merged = await records();
      expect(new Set(merged.map((r) => r.advisory_id)).size).toBe(1);
      await upsertBatch(t.store, [rec('PYSEC-9')]);
      const fresh = (await records()).find((r) => r.external_id === 'PYSEC-9')!;
      expect(fresh.advisory_id).toBeGreaterThan(highest);
    });

    it('the same id twice in one batch: the later copy, stored once', async () => {
      const s = await upsertBatch(t.store, [
        rec('PYSEC-5', [], 'early'),
        rec('PYSEC-6'),
        rec('PYSEC-5', [], 'late'),
      ]);
      expect(s).toMatchObject({ added: 2, updated: 0 });
      const rows = await records();
      expect(rows.map((r) => [r.external_id, r.description])).toEqual([
        ['PYSEC-5', 'late'],
        ['PYSEC-6', 'first'],
      ]);
      expect(await rowsOf('vuln_affected', rows[0]!.id)).toHaveLength(1);
      expect(await rowsOf('vuln_product', rows[0]!.id)).toHaveLength(2);
    });
  });
}
