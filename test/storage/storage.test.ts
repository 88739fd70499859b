/**
 * The storage suite: the same tests on SQLite and on a real PostgreSQL (MAMORI_TEST_PG).
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  migrate,
  openDb,
  parseDbTarget,
  schemaState,
  storeStatus,
} from '../../src/storage/index.js';
import { addIdColumn } from '../../src/storage/migrations/helpers.js';
import { allMigrations } from '../../src/storage/migrations/index.js';
import { freshSpec, freshStore, type TestStore, testBackends } from '../helpers/db.js';

describe('parseDbTarget', () => {
  it('recognises backends and rejects malformed URLs with E_USAGE', () => {
    expect(parseDbTarget('postgres://u:p@127.0.0.1:5432/db').backend).toBe('postgres');
    expect(parseDbTarget('postgresql://u@localhost/db').backend).toBe('postgres');
    expect(parseDbTarget('/tmp/x.db')).toEqual({ backend: 'sqlite', location: '/tmp/x.db' });
    expect(parseDbTarget('sqlite:///tmp/y.db')).toEqual({
      backend: 'sqlite',
      location: '/tmp/y.db',
    });
    expect(parseDbTarget(':memory:').location).toBe(':memory:');
    for (const bad of ['postgres://', 'postgres://u:p@:x/db', 'mysql://h/db', '']) {
      expect(() => parseDbTarget(bad), bad).toThrow(expect.objectContaining({ code: 'E_USAGE' }));
    }
  });
  it('never puts a password in an error', () => {
    try {
      parseDbTarget('postgres://user:s3cret@:99x/db');
      expect.unreachable();
    } catch (err) {
      expect(String((err as Error).message)).not.toContain('s3cret');
    }
  });
});

for (const backend of testBackends()) {
  describe(`store on ${backend}`, () => {
    let t: TestStore;
    beforeEach(async () => {
      t = await freshStore(backend);
    });
    afterEach(async () => {
      await t.cleanup();
    });

    it('is fully migrated on open, and migrating again applies nothing', async () => {
      const state = await schemaState(t.store);
      expect(state.pending).toEqual([]);
      expect(state.applied).toEqual(Object.keys(allMigrations()).sort());
      expect(await migrate(t.store)).toEqual([]);
    });

    it('reports backend, schema version and row counts', async () => {
      await t.store.db
        .insertInto('alert')
        .values([
          {
            time: '2026-01-01T00:00:00.000Z',
            area: 'core',
            kind: 'k',
            severity: 'info',
            message: 'a',
            next_step: null,
            details: null,
          },
          {
            time: '2026-01-01T00:00:01.000Z',
            area: 'core',
            kind: 'k',
            severity: 'info',
            message: 'b',
            next_step: null,
            details: null,
          },
        ])
        .execute();
      const status = await storeStatus(t.store);
      expect(status.backend).toBe(backend);
      expect(status.schemaVersion).toBe(Object.keys(allMigrations()).length);
      expect(status.tables.find((x) => x.name === 'alert')?.rows).toBe(2);
      expect(typeof status.tables[0]?.rows).toBe('number');
    });

    it('upserts on natural keys', async () => {
      const upsert = (value: string) =>
        t.store.db
          .insertInto('mamori_meta')
          .values({ key: 'instance', value })
          .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
          .execute();
      await upsert('one');
      await upsert('two');
      const rows = await t.store.db.selectFrom('mamori_meta').selectAll().execute();
      expect(rows).toEqual([{ key: 'instance', value: 'two' }]);
    });

    it('rolls a failed transaction back completely', async () => {
      await expect(
        t.store.db.transaction().execute(async (trx) => {
          await trx.insertInto('mamori_meta').values({ key: 'a', value: '1' }).execute();
          await trx.insertInto('mamori_meta').values({ key: 'a', value: '2' }).execute(); // duplicate key
        }),
      ).rejects.toThrow();
      expect(await t.store.db.selectFrom('mamori_meta').selectAll().execute()).toEqual([]);
    });

    it('applies a failing batch of migrations not at all (nothing half-migrated)', async () => {
      const set = {
        ...allMigrations(),
        '29990101_00_test_good': {
          async up(db: Kysely<unknown>) {
            await addIdColumn(db.schema.createTable('test_good'), db)
              .addColumn('x', 'text')
              .execute();
          },
        },
        '29990101_01_test_bad': {
          async up(db: Kysely<unknown>) {
            await sql`select * from no_such_table_at_all`.execute(db);
          },
        },
      };
      await expect(migrate(t.store, set)).rejects.toMatchObject({ code: 'E_STORAGE' });
      const tables = (await t.store.db.introspection.getTables()).map((x) => x.name);
      expect(tables).not.toContain('test_good');
      const state = await schemaState(t.store, set);
      expect(state.pending).toEqual(['29990101_00_test_good', '29990101_01_test_bad']);
    });

    it('applies a migration merged after a release even when its name sorts before one the store has', async () => {
      const table = (name: string) => ({
        async up(db: Kysely<unknown>) {
          await addIdColumn(db.schema.createTable(name), db).execute();
        },
      });
      const released = { ...allMigrations(), '29990101_05_test_released': table('test_released') };
      expect(await migrate(t.store, released)).toEqual(['29990101_05_test_released']);
      // An area's migration from work merged later, named before the released one.
      const upgraded = { ...released, '29990101_01_test_merged_later': table('test_merged_later') };
      expect(await migrate(t.store, upgraded)).toEqual(['29990101_01_test_merged_later']);
      const tables = (await t.store.db.introspection.getTables()).map((x) => x.name);
      expect(tables).toEqual(expect.arrayContaining(['test_released', 'test_merged_later']));
      expect((await schemaState(t.store, upgraded)).pending).toEqual([]);
    });

    it('refuses a store made by a newer mamori with E_SCHEMA', async () => {
      await sql`insert into mamori_migration (name, timestamp) values (${'29990101_00_future'}, ${'2999-01-01T00:00:00.000Z'})`.execute(
        t.store.db,
      );
      await expect(openDb(t.spec)).rejects.toMatchObject({ code: 'E_SCHEMA' });
      await expect(openDb(t.spec, { migrate: false })).rejects.toMatchObject({ code: 'E_SCHEMA' });
    });

    it('keeps 64-bit integers exact (satoshi amounts)', async () => {
      const { spec, cleanup } = await freshSpec(backend);
      const store = await openDb(spec);
      try {
        const set = {
          ...allMigrations(),
          '29990101_00_test_amount': {
            async up(db: Kysely<unknown>) {
              await db.schema.createTable('test_amount').addColumn('sat', 'bigint').execute();
            },
          },
        };
        await migrate(store, set);
        const sat = 2_099_999_997_690_000; // the whole supply in satoshi
        await sql`insert into test_amount (sat) values (${sat})`.execute(store.db);
        const r = await sql<{ sat: number }>`select sat from test_amount`.execute(store.db);
        expect(r.rows[0]?.sat).toBe(sat);
      } finally {
        await store.close();
        await cleanup();
      }
    });
  });
}

describe('unreachable PostgreSQL', () => {
  it('is E_STORAGE (exit 3) with the password redacted', async () => {
    const err = await openDb('postgres://mamori:topsecret@127.0.0.1:1/mamori').catch((e) => e);
    expect(err).toMatchObject({ code: 'E_STORAGE' });
    expect(String(err.message)).not.toContain('topsecret');
  });
});
