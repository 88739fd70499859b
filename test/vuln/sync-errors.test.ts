/**
 * `vuln sync` batching and failure: the whole pypa database stores the same rows whatever the
 * batch size, and a re-run finds every record unchanged; a missing path, a cut zip and a
 * garbled zip are E_INPUT with nothing stored; an abort ends with E_INTERRUPTED after whole
 * batches only.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MamoriError } from '../../src/shared/errors.js';
import type { Progress } from '../../src/shared/progress.js';
import type { Store } from '../../src/storage/index.js';
import { syncFrom } from '../../src/vuln/index.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';
import { vector } from '../helpers/vectors.js';

const pypa = vector('vuln/osv/pypa');

async function contents(store: Store) {
  const rows = await store.db
    .selectFrom('vuln_record')
    .innerJoin('vuln_advisory', 'vuln_advisory.id', 'vuln_record.advisory_id')
    .select(['source', 'external_id', 'content_hash', 'primary_id'])
    .orderBy('external_id')
    .execute();
  const count = async (table: 'vuln_affected' | 'vuln_alias' | 'vuln_advisory' | 'vuln_product') =>
    Number(
      (
        await store.db
          .selectFrom(table)
          .select((e) => e.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  return {
    rows,
    affected: await count('vuln_affected'),
    aliases: await count('vuln_alias'),
    advisories: await count('vuln_advisory'),
  };
}

for (const backend of testBackends()) {
  describe(`sync batching and failure (${backend})`, () => {
    let a: TestStore;
    let b: TestStore;
    let dir: string;
    beforeEach(async () => {
      a = await freshStore(backend);
      b = await freshStore(backend);
      dir = mkdtempSync(join(tmpdir(), 'mamori-batch-'));
    });
    afterEach(async () => {
      await a.cleanup();
      await b.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it('the whole pypa database stores the same rows whatever the batch size', async () => {
      const here = await syncFrom(a.store, { source: 'osv', from: pypa });
      const there = await syncFrom(b.store, { source: 'osv', from: pypa, batchSize: 37 });
      expect(here.records).toBeGreaterThan(2000);
      expect(there).toEqual(here);
      const [ca, cb] = [await contents(a.store), await contents(b.store)];
      expect(cb.rows.length).toBe(here.records);
      expect(cb).toEqual(ca);
      // and a re-run recognises every record as unchanged
      const again = await syncFrom(b.store, { source: 'osv', from: pypa, batchSize: 37 });
      expect(again).toMatchObject({ records: here.records, added: 0, updated: 0 });
      expect(again.unchanged).toBe(here.records);
    });

    it('a missing path, a cut zip and a garbled zip are E_INPUT; nothing half-written', async () => {
      const zip = zipSync({
        'PyPI/a.yaml': new Uint8Array(readFileSync(join(pypa, 'requests/PYSEC-2018-28.yaml'))),
      });
      // cut inside the compressed data, past the first local header
      writeFileSync(join(dir, 'cut.zip'), zip.subarray(0, Math.floor(zip.length / 2)));
      // the first entry's local header and data overwritten
      const garbled = Buffer.from(zip);
      garbled.fill(0x41, 0, 200);
      writeFileSync(join(dir, 'bad.zip'), garbled);
      const missing = await syncFrom(a.store, { source: 'osv', from: join(dir, 'nope') }).catch(
        (e: unknown) => e,
      );
      expect(missing).toBeInstanceOf(MamoriError);
      expect((missing as MamoriError).code).toBe('E_INPUT');
      expect((missing as MamoriError).message).toMatch(/no such file/);
      for (const [file, why] of [
        ['cut.zip', /cut\.zip: corrupt zip: no end of central directory record/],
        ['bad.zip', /bad\.zip: corrupt zip: PyPI\/a\.yaml: no local header at offset 0/],
      ] as const) {
        const e = await syncFrom(a.store, { source: 'osv', from: join(dir, file) }).catch(
          (x: unknown) => x,
        );
        expect(e).toBeInstanceOf(MamoriError);
        expect((e as MamoriError).code).toBe('E_INPUT');
        expect((e as MamoriError).message).toMatch(why);
      }
      expect((await contents(a.store)).rows).toEqual([]);
    });

    it('an abort ends with E_INTERRUPTED after whole batches only', async () => {
      const ac = new AbortController();
      let ticks = 0;
      const err = await syncFrom(a.store, {
        source: 'osv',
        from: pypa,
        batchSize: 100,
        signal: ac.signal,
        progress: <Progress>{
          tick: () => {
            if (++ticks === 3) ac.abort();
          },
          setTotal: () => {},
          done: () => {},
        },
      }).catch((e: unknown) => e);
      expect((err as MamoriError).code).toBe('E_INTERRUPTED');
      const n = (await contents(a.store)).rows.length;
      expect(n % 100).toBe(0);
      expect(n).toBeGreaterThanOrEqual(300);
    });
  });
}
