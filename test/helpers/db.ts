/**
 * Storage for tests on both backends (kysely's DIALECTS pattern): SQLite always, PostgreSQL when
 * MAMORI_TEST_PG names a server (`.ci/run` always sets it). Each store is fresh: a temp file,
 * or a new database on the server that is dropped afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, type Store } from '../../src/storage/index.js';

export type TestBackend = 'sqlite' | 'postgres';

/** The backends to run storage tests on. With MAMORI_TEST_PG unset, only SQLite. */
export function testBackends(): TestBackend[] {
  return process.env.MAMORI_TEST_PG ? ['sqlite', 'postgres'] : ['sqlite'];
}

export interface TestStore {
  store: Store;
  /** The spec to pass as --db / MAMORI_DB to a spawned CLI. */
  spec: string;
  /** Close the store and remove its file or database. */
  cleanup(): Promise<void>;
}

/** A fresh spec (file path or postgres URL) without opening it. */
export async function freshSpec(
  backend: TestBackend,
): Promise<{ spec: string; cleanup(): Promise<void> }> {
  if (backend === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'mamori-test-'));
    return {
      spec: join(dir, 'mamori.db'),
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const base = process.env.MAMORI_TEST_PG;
  if (!base) throw new Error('MAMORI_TEST_PG is not set');
  const { default: pg } = await import('pg');
  const name = `mamori_t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    spec: url.toString(),
    cleanup: async () => {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/**
 * @example
 * for (const backend of testBackends()) describe(backend, () => { let t: TestStore; beforeEach(async () => { t = await freshStore(backend) }); afterEach(() => t.cleanup()); … })
 */
export async function freshStore(backend: TestBackend): Promise<TestStore> {
  const { spec, cleanup } = await freshSpec(backend);
  const store = await openDb(spec);
  return {
    store,
    spec,
    cleanup: async () => {
      await store.close();
      await cleanup();
    },
  };
}
