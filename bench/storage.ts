/**
 * `storage`: batched upsert and indexed point-lookup throughput through openDb()/Kysely, on the
 * embedded SQLite store and on PostgreSQL, in one run; each figure is SQLite as a ratio of
 * PostgreSQL. The table has the natural-key shape every area uses (source, external_id).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Kysely, sql } from 'kysely';
import { openDb, type Store } from '../src/storage/index.js';
import type { BenchFn, Figure } from './lib.js';

interface KvDb {
  bench_kv: { source: string; external_id: string; payload: string; modified: string };
}

async function measure(store: Store, rows: number, lookups: number, batch: number) {
  const db = store.db as unknown as Kysely<KvDb>;
  await sql`drop table if exists bench_kv`.execute(db);
  await sql`create table bench_kv (source text not null, external_id text not null, payload text not null, modified text not null, primary key (source, external_id))`.execute(
    db,
  );
  const record = (i: number, gen: number) => ({
    source: i % 3 === 0 ? 'nvd' : i % 3 === 1 ? 'osv' : 'jvn',
    external_id: `ID-${i.toString().padStart(8, '0')}`,
    payload: `{"summary":"record ${i} generation ${gen}","severity":${i % 10}}`,
    modified: new Date(1_700_000_000_000 + i * 1000).toISOString(),
  });
  const upsertAll = async (gen: number) => {
    const t0 = performance.now();
    for (let start = 0; start < rows; start += batch) {
      const values: KvDb['bench_kv'][] = [];
      for (let i = start; i < Math.min(rows, start + batch); i++) values.push(record(i, gen));
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto('bench_kv')
          .values(values)
          .onConflict((oc) =>
            oc.columns(['source', 'external_id']).doUpdateSet((eb) => ({
              payload: eb.ref('excluded.payload'),
              modified: eb.ref('excluded.modified'),
            })),
          )
          .execute();
      });
    }
    return rows / ((performance.now() - t0) / 1000);
  };
  const insertRate = await upsertAll(0);
  const updateRate = await upsertAll(1);
  let seed = 42;
  const rand = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed;
  };
  const t0 = performance.now();
  for (let k = 0; k < lookups; k++) {
    const i = rand() % rows;
    const r = record(i, 1);
    const row = await db
      .selectFrom('bench_kv')
      .select(['payload'])
      .where('source', '=', r.source)
      .where('external_id', '=', r.external_id)
      .executeTakeFirst();
    if (!row) throw new Error(`lookup missed ${r.external_id}`);
  }
  const lookupRate = lookups / ((performance.now() - t0) / 1000);
  await sql`drop table bench_kv`.execute(db);
  return { insertRate, updateRate, lookupRate };
}

export const run: BenchFn = async (ctx) => {
  const rows = Math.round(100_000 * ctx.scale);
  const lookups = Math.round(20_000 * ctx.scale);
  const batch = 500;
  const dir = mkdtempSync(join(tmpdir(), 'mamori-bench-'));
  const sqlite = await openDb(join(dir, 'bench.db'));
  const pg = await openDb(await ctx.postgresUrl());
  try {
    ctx.log(`SQLite: ${rows} rows, ${lookups} lookups`);
    const s = await measure(sqlite, rows, lookups, batch);
    ctx.log(`PostgreSQL: ${rows} rows, ${lookups} lookups`);
    const p = await measure(pg, rows, lookups, batch);
    const fig = (name: string, a: number, b: number): Figure => ({
      name,
      value: a,
      unit: 'rows/s',
      base: 'PostgreSQL, same run',
      baseValue: b,
      ratio: a / b,
    });
    return {
      figures: [
        fig('batched upsert, new rows (SQLite)', s.insertRate, p.insertRate),
        fig('batched upsert, existing rows (SQLite)', s.updateRate, p.updateRate),
        fig('indexed point lookup (SQLite)', s.lookupRate, p.lookupRate),
      ],
      notes: [
        `${rows} rows in batches of ${batch}, one transaction per batch, upsert on (source, external_id); ${lookups} random point lookups one at a time.`,
        'SQLite: WAL, synchronous=NORMAL, embedded. PostgreSQL 15: a throwaway local cluster over TCP loopback with fsync=off (as in tests), pool of 10; lookups pay one round trip each.',
      ],
    };
  } finally {
    await sqlite.close();
    await pg.close();
    rmSync(dir, { recursive: true, force: true });
  }
};
