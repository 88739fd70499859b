/**
 * A store synced before syncs kept coverage marks (simulated by deleting them) gets them once
 * from its rows, with an unknown sync time, on both backends; a check then says "covered" for
 * what is stored and "not covered" for the rest, never a bare all-clear.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkComponents, coverageMarks, syncFrom } from '../../src/vuln/index.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';
import { vector } from '../helpers/vectors.js';

for (const backend of testBackends()) {
  describe(`vuln coverage of an older store (${backend})`, () => {
    let t: TestStore;
    beforeEach(async () => {
      t = await freshStore(backend);
      const s = await syncFrom(t.store, { source: 'osv', from: vector('vuln/osv/pypa/flask') });
      expect(s.errors).toEqual([]);
    });
    afterEach(() => t.cleanup());

    it('a sync leaves its marks; without them they are rebuilt from the rows, time unknown', async () => {
      const synced = await coverageMarks(t.store);
      expect(synced.map((m) => [m.source, m.key])).toEqual([['osv', 'coverage:eco:PyPI']]);
      expect(synced[0]!.value).toMatch(/^20\d\d-\d\d-\d\dT/);

      await t.store.db.deleteFrom('vuln_sync_state').where('key', 'like', 'coverage:%').execute();
      const result = await checkComponents(t.store, [
        { name: 'flask', version: '2.2.2', ecosystem: 'PyPI' },
        { name: 'zlib', version: '1:1.2.13.dfsg-1', ecosystem: 'Debian:12' },
      ]);
      expect(result.coverage).toEqual([
        {
          ecosystem: 'PyPI',
          components: 1,
          covered: true,
          sources: [{ source: 'osv', ecosystems: ['PyPI'], synced: null }],
        },
        {
          ecosystem: 'Debian:12',
          components: 1,
          covered: false,
          sources: [],
          reason: 'no Debian advisories synced',
          hint: 'mamori vuln sync --source osv --ecosystem Debian',
        },
      ]);
      expect(result.notCovered).toBe(1);
      expect(result.findings.map((f) => f.vulnerability.id)).toContain('CVE-2023-30861');
      // Written back once: the next read finds them.
      expect((await coverageMarks(t.store)).map((m) => [m.key, m.value])).toEqual([
        ['coverage:eco:PyPI', ''],
      ]);
    });
  });
}
