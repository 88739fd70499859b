/**
 * `vuln sync` reads and parses large input on a worker thread while the calling thread writes.
 * Both paths must store exactly the same thing: the whole pypa database is synced each way
 * into its own store and every record row compared; errors raised on the parse thread (a
 * corrupt zip, a missing path) arrive as the same MamoriError; an abort stops the thread.
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
  const count = async (table: 'vuln_affected' | 'vuln_alias' | 'vuln_advisory' | 'vuln_cpe') =>
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
  describe(`sync parse thread (${backend})`, () => {
    let a: TestStore;
    let b: TestStore;
    let dir: string;
    beforeEach(async () => {
      a = await freshStore(backend);
      b = await freshStore(backend);
      dir = mkdtempSync(join(tmpdir(), 'mamori-thread-'));
    });
    afterEach(async () => {
      await a.cleanup();
      await b.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it('the whole pypa database stores the same rows through the thread as in process', async () => {
      const here = await syncFrom(a.store, { source: 'osv', from: pypa, parseThread: false });
      const there = await syncFrom(b.store, { source: 'osv', from: pypa, parseThread: true });
      expect(here.records).toBeGreaterThan(2000);
      expect(there).toEqual(here);
      const [ca, cb] = [await contents(a.store), await contents(b.store)];
      expect(cb.rows.length).toBe(here.records);
      expect(cb).toEqual(ca);
      // and a re-run through the thread recognises every record as unchanged
      const again = await syncFrom(b.store, { source: 'osv', from: pypa, parseThread: true });
      expect(again).toMatchObject({ records: here.records, added: 0, updated: 0 });
      expect(again.unchanged).toBe(here.records);
    });

    it('errors on the parse thread arrive as the same MamoriError; nothing half-written', async () => {
      const zip = zipSync({
        'PyPI/a.yaml': new Uint8Array(readFileSync(join(pypa, 'requests/PYSEC-2018-28.yaml'))),
      });
      // cut inside the compressed data, past the first local header
      writeFileSync(join(dir, 'cut.zip'), zip.subarray(0, Math.floor(zip.length / 2)));
      // headers and data overwritten: no entry can be found
      const garbled = Buffer.from(zip);
      garbled.fill(0x41, 0, 200);
      writeFileSync(join(dir, 'bad.zip'), garbled);
      for (const parseThread of [false, true]) {
        const missing = await syncFrom(a.store, {
          source: 'osv',
          from: join(dir, 'nope'),
          parseThread,
        }).catch((e: unknown) => e);
        expect(missing).toBeInstanceOf(MamoriError);
        expect((missing as MamoriError).code).toBe('E_INPUT');
        expect((missing as MamoriError).message).toMatch(/no such file/);
      }
      for (const [file, why] of [
        ['cut.zip', /corrupt zip: invalid zip data/],
        ['bad.zip', /corrupt zip: no file entries found/],
      ] as const) {
        const got: [string, string][] = [];
        for (const parseThread of [false, true]) {
          const e = await syncFrom(a.store, {
            source: 'osv',
            from: join(dir, file),
            parseThread,
          }).catch((x: unknown) => x);
          expect(e).toBeInstanceOf(MamoriError);
          got.push([(e as MamoriError).code, (e as MamoriError).message]);
        }
        expect(got[0]![0]).toBe('E_INPUT');
        expect(got[0]![1]).toMatch(why);
        expect(got[1]).toEqual(got[0]);
      }
      expect((await contents(a.store)).rows).toEqual([]);
    });

    it('an abort stops the parse thread with E_INTERRUPTED; whole batches only', async () => {
      const ac = new AbortController();
      let ticks = 0;
      const err = await syncFrom(a.store, {
        source: 'osv',
        from: pypa,
        parseThread: true,
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
