/**
 * The SQLite store keeps prepared statements in a small LRU (Kysely prepares on every query)
 * and has a bulk-load mode for long imports. A cached statement must still see schema changes
 * and serve interleaved queries and streams correctly; bulk-load mode must keep the WAL small
 * while it writes (a helper thread checkpoints) and leave the store as it found it, with the
 * WAL truncated.
 */
import { existsSync, statSync } from 'node:fs';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freshStore, type TestStore } from '../helpers/db.js';

describe('SQLite statement cache and bulk-load mode', () => {
  let t: TestStore;
  beforeEach(async () => {
    t = await freshStore('sqlite');
    await sql`create table cache_probe (id integer primary key, name text not null)`.execute(
      t.store.db,
    );
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('a cached statement sees a new column and serves a stream and queries in turn', async () => {
    const db = t.store.db;
    const insert = (id: number, name: string) =>
      sql`insert into cache_probe (id, name) values (${id}, ${name})`.execute(db);
    for (let i = 1; i <= 50; i++) await insert(i, `n${i}`);
    const all = () =>
      sql<Record<string, unknown>>`select * from cache_probe order by id`.execute(db);
    expect((await all()).rows[0]).toEqual({ id: 1, name: 'n1' });
    await sql`alter table cache_probe add column extra text default 'x'`.execute(db);
    // the same SQL text, so the same cached statement: it must see the new column
    expect((await all()).rows[0]).toEqual({ id: 1, name: 'n1', extra: 'x' });
    const streamed: number[] = [];
    for await (const row of db
      .selectFrom('cache_probe' as never)
      .select('id' as never)
      .orderBy('id' as never)
      .stream()) {
      streamed.push((row as { id: number }).id);
      if (streamed.length === 10) break; // an abandoned stream must release its statement
    }
    expect(streamed).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const again: number[] = [];
    for await (const row of db
      .selectFrom('cache_probe' as never)
      .select('id' as never)
      .orderBy('id' as never)
      .stream())
      again.push((row as { id: number }).id);
    expect(again).toHaveLength(50);
    expect((await all()).rows).toHaveLength(50);
  });

  it('bulk-load mode raises the checkpoint interval and leaves a truncated WAL', async () => {
    const db = t.store.db;
    const autockpt = async () =>
      Number(
        Object.values(
          (await sql<Record<string, number>>`pragma wal_autocheckpoint`.execute(db)).rows[0]!,
        )[0],
      );
    expect(await autockpt()).toBe(1000);
    const leave = t.store.bulkLoad();
    expect(await autockpt()).toBeGreaterThan(1000);
    const nested = t.store.bulkLoad();
    nested();
    expect(await autockpt()).toBeGreaterThan(1000); // the outer import is still running
    await db.transaction().execute(async (trx) => {
      for (let i = 0; i < 3000; i++)
        await sql`insert into cache_probe (id, name) values (${i}, ${'y'.repeat(200)})`.execute(
          trx,
        );
    });
    const wal = `${t.spec}-wal`;
    expect(existsSync(wal) && statSync(wal).size).toBeGreaterThan(0);
    leave();
    leave(); // a second call is harmless
    expect(await autockpt()).toBe(1000);
    expect(statSync(wal).size).toBe(0);
    const n = await sql<{ n: number }>`select count(*) as n from cache_probe`.execute(db);
    expect(n.rows[0]!.n).toBe(3000);
  });

  it('bulk-load mode checkpoints on a helper thread, so the WAL restarts instead of growing', async () => {
    const db = t.store.db;
    const wal = `${t.spec}-wal`;
    const leave = t.store.bulkLoad();
    let largest = 0;
    // 30 commits of ~0.5 MB with the pauses an import spends parsing between them: 15 MB in
    // all, far under the writer's own checkpoint interval, so only the helper can keep it small
    for (let b = 0; b < 30; b++) {
      await db.transaction().execute(async (trx) => {
        for (let i = 0; i < 2000; i++)
          await sql`insert into cache_probe (id, name) values (${b * 2000 + i}, ${'z'.repeat(200)})`.execute(
            trx,
          );
      });
      largest = Math.max(largest, statSync(wal).size);
      await new Promise((r) => setTimeout(r, 40));
    }
    expect(largest).toBeGreaterThan(0);
    expect(largest).toBeLessThan(4 * 1024 * 1024);
    leave();
    expect(statSync(wal).size).toBe(0);
    const n = await sql<{ n: number }>`select count(*) as n from cache_probe`.execute(db);
    expect(n.rows[0]!.n).toBe(60_000);
  });

  it('a store closed in bulk-load mode closes at once (its checkpointer is stopped)', async () => {
    t.store.bulkLoad();
    await t.store.close();
    // cleanup closes it again and removes the file: nothing may still hold it
  });
});
