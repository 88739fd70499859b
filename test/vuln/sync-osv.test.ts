/**
 * OSV sync in process on both backends: a mixed batch of good and malformed records (broken
 * YAML, truncated JSON, schema errors, wrong encoding) lands the good ones and reports the bad
 * ones with file and position; a zip is read as a stream; updates and alias merging.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lookup, syncFrom } from '../../src/vuln/index.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';
import { vector } from '../helpers/vectors.js';

const good = (p: string) => readFileSync(vector(`vuln/osv/pypa/${p}`));

for (const backend of testBackends()) {
  describe(`osv sync (${backend})`, () => {
    let t: TestStore;
    let dir: string;
    beforeEach(async () => {
      t = await freshStore(backend);
      dir = mkdtempSync(join(tmpdir(), 'mamori-osv-'));
    });
    afterEach(async () => {
      await t.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it('mixed batch: good records land, malformed ones are reported with file and position', async () => {
      writeFileSync(join(dir, 'a-good.yaml'), good('requests/PYSEC-2018-28.yaml'));
      writeFileSync(join(dir, 'b-bad.yaml'), 'id: PYSEC-X\naffected:\n  - package: [\n');
      writeFileSync(
        join(dir, 'c-trunc.json'),
        '{\n  "id": "GHSA-xxxx",\n  "affected": [ {"package": ',
      );
      writeFileSync(
        join(dir, 'd-schema.json'),
        JSON.stringify({ id: 'GHSA-aaaa-bbbb-cccc', affected: [{ package: { name: 'x' } }] }),
      );
      writeFileSync(
        join(dir, 'e-latin1.json'),
        Buffer.from('{"id":"PYSEC-1","details":"caf\xe9"}', 'latin1'),
      );
      writeFileSync(join(dir, 'f-good.yaml'), good('flask/PYSEC-2023-62.yaml'));
      const s = await syncFrom(t.store, { source: 'osv', from: dir, batchSize: 1 });
      expect(s).toMatchObject({ files: 6, records: 2, added: 2, updated: 0, unchanged: 0 });
      expect(s.errors.map((e) => e.file.split('/').pop())).toEqual([
        'b-bad.yaml',
        'c-trunc.json',
        'd-schema.json',
        'e-latin1.json',
      ]);
      expect(s.errors[0]!.position).toMatch(/^line \d+, column \d+$/);
      expect(s.errors[1]!.position).toMatch(/^line 3, column \d+$|end of input/);
      expect(s.errors[2]!.message).toBe(
        'GHSA-aaaa-bbbb-cccc: affected[0].package.ecosystem is missing',
      );
      expect(s.errors[3]!.message).toMatch(/UTF-8/);
      expect((await lookup(t.store, 'CVE-2018-18074'))?.records[0]?.id).toBe('PYSEC-2018-28');
      expect(await lookup(t.store, 'GHSA-aaaa-bbbb-cccc')).toBeUndefined();
    });

    it('reads a zip as a stream and is idempotent; a changed record is an update', async () => {
      const zip = zipSync({
        'PyPI/PYSEC-2018-28.yaml': new Uint8Array(good('requests/PYSEC-2018-28.yaml')),
        'PyPI/PYSEC-2023-62.yaml': new Uint8Array(good('flask/PYSEC-2023-62.yaml')),
      });
      writeFileSync(join(dir, 'all.zip'), zip);
      const first = await syncFrom(t.store, { source: 'osv', from: join(dir, 'all.zip') });
      expect(first).toMatchObject({ records: 2, added: 2, errors: [] });
      expect(first.errors).toEqual([]);
      const again = await syncFrom(t.store, { source: 'osv', from: join(dir, 'all.zip') });
      expect(again).toMatchObject({ records: 2, added: 0, updated: 0, unchanged: 2 });
      const changed =
        readFileSync(vector('vuln/osv/pypa/flask/PYSEC-2023-62.yaml'), 'utf8').replace(
          /^withdrawn:.*$/m,
          '',
        ) + 'withdrawn: 2024-01-01T00:00:00Z\n';
      writeFileSync(join(dir, 'PYSEC-2023-62.yaml'), changed);
      const upd = await syncFrom(t.store, { source: 'osv', from: join(dir, 'PYSEC-2023-62.yaml') });
      expect(upd).toMatchObject({ records: 1, added: 0, updated: 1, withdrawn: 1 });
      expect((await lookup(t.store, 'GHSA-m2qf-hxjv-5gpq'))?.records[0]?.withdrawn).toBe(
        '2024-01-01T00:00:00Z',
      );
    });

    it('--since skips records modified earlier', async () => {
      writeFileSync(join(dir, 'a.yaml'), good('requests/PYSEC-2018-28.yaml'));
      writeFileSync(join(dir, 'b.yaml'), good('flask/PYSEC-2023-62.yaml'));
      const mods = ['requests/PYSEC-2018-28.yaml', 'flask/PYSEC-2023-62.yaml'].map(
        (p) =>
          /^modified: ['"]?([^'"\n]*)/m.exec(
            readFileSync(vector(`vuln/osv/pypa/${p}`), 'utf8'),
          )![1]!,
      );
      const cut = [...mods].sort()[1]!;
      const s = await syncFrom(t.store, {
        source: 'osv',
        from: dir,
        since: cut.replace(/\.\d+Z$/, 'Z'),
      });
      expect(s.records).toBe(1);
    });

    it('merges two advisories when a later record names both', async () => {
      const rec = (id: string, aliases: string[]) =>
        JSON.stringify({ id, modified: '2024-01-01T00:00:00Z', aliases, affected: [] });
      writeFileSync(join(dir, '1.json'), rec('GHSA-1111-2222-3333', []));
      writeFileSync(join(dir, '2.json'), rec('PYSEC-2099-1', []));
      await syncFrom(t.store, { source: 'osv', from: join(dir, '1.json') });
      await syncFrom(t.store, { source: 'osv', from: join(dir, '2.json') });
      expect((await lookup(t.store, 'PYSEC-2099-1'))?.id).toBe('PYSEC-2099-1');
      writeFileSync(
        join(dir, '3.json'),
        rec('CVE-2099-0001', ['GHSA-1111-2222-3333', 'PYSEC-2099-1']),
      );
      await syncFrom(t.store, { source: 'osv', from: join(dir, '3.json') });
      const d = await lookup(t.store, 'GHSA-1111-2222-3333');
      expect(d?.id).toBe('CVE-2099-0001');
      expect(d?.aliases).toEqual(['GHSA-1111-2222-3333', 'PYSEC-2099-1']);
      expect(d?.records.map((r) => r.id).sort()).toEqual([
        'CVE-2099-0001',
        'GHSA-1111-2222-3333',
        'PYSEC-2099-1',
      ]);
      const n = await t.store.db
        .selectFrom('vuln_advisory')
        .select((e) => e.fn.countAll().as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(n.n)).toBe(1);
    });
  });
}
