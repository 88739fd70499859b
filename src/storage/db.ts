/**
 * openDb(): the one way into the store. Embedded SQLite (better-sqlite3, WAL) by default,
 * PostgreSQL (pg) for teams; drivers load lazily so `mamori --help` never pays for them.
 * Migrations run in one transaction on both backends (SQLite supports transactional DDL even
 * though Kysely's adapter says otherwise), so a store is never half-migrated.
 * Not a repository layer: areas write their own queries against their own tables.
 */
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  type Dialect,
  Kysely,
  type MigrationResultSet,
  Migrator,
  PostgresDialect,
  SqliteAdapter,
  type SqliteDatabase,
  SqliteDialect,
  type SqliteStatement,
  sql,
} from 'kysely';
import { MamoriError } from '../shared/errors.js';
import { allMigrations } from './migrations/index.js';
import type { MigrationSet } from './migrations/types.js';
import type { Database } from './schema.js';

export type Backend = 'sqlite' | 'postgres';

export interface DbTarget {
  backend: Backend;
  /** File path (or ':memory:') for SQLite; the connection URL for PostgreSQL. */
  location: string;
}

export interface Store {
  db: Kysely<Database>;
  backend: Backend;
  /** Where the store is, with any password removed. Safe to print. */
  display: string;
  /**
   * What `openDb` opened, for a second connection to the same store (a worker thread). Holds a
   * PostgreSQL URL's password: never print it (use `display`). Not enumerable.
   */
  readonly target?: DbTarget;
  close(): Promise<void>;
  /**
   * Enter bulk-load mode for a long import; the returned function leaves it. SQLite: WAL
   * checkpoints (which sync the disk) run on a helper thread with its own connection while the
   * import writes, the writer's own checkpoint only every `BULK_CHECKPOINT_PAGES` pages as a
   * safety net, and a truncating checkpoint on leaving, so the WAL does not stay large.
   * Commits stay as durable as ever. PostgreSQL: nothing to change.
   */
  bulkLoad(): () => void;
}

/** WAL pages between the writer's own checkpoints in bulk-load mode (128 MiB at 4 KiB pages). */
export const BULK_CHECKPOINT_PAGES = 32_768;

/** How often the bulk-load checkpointer looks for committed WAL frames to copy back. */
const CHECKPOINT_INTERVAL_MS = 10;

/**
 * The bulk-load checkpointer's thread (CommonJS, run with `eval`, so it works from the built
 * code and under tsx alike): PASSIVE checkpoints on its own connection until told to stop.
 * A checkpoint's fsyncs were about a tenth of the store's time per record in a first NVD
 * sync; here they overlap the writer instead of stalling it. A passive checkpoint never blocks the writer,
 * and the WAL restarts from its start once everything committed has been copied back, so it
 * stays small. Shared state: [0] = stop requested, [1] = stopped.
 */
const CHECKPOINTER = `
const { workerData } = require('node:worker_threads');
const state = new Int32Array(workerData.state);
let db;
try {
  const Database = require(workerData.driver);
  db = new Database(workerData.path, { fileMustExist: true });
  db.pragma('synchronous = NORMAL');
  while (Atomics.load(state, 0) === 0) {
    db.pragma('wal_checkpoint(PASSIVE)');
    Atomics.wait(state, 0, 0, workerData.intervalMs);
  }
} catch {
  // the writer's own checkpoints (the safety net) and the final one still run
} finally {
  try { db?.close(); } catch {}
  Atomics.store(state, 1, 1);
  Atomics.notify(state, 1);
}
`;

/** Start the checkpointer on `path`; the returned function stops it and waits until it has. */
function startCheckpointer(path: string): () => void {
  const state = new Int32Array(new SharedArrayBuffer(8));
  let worker: Worker;
  try {
    worker = new Worker(CHECKPOINTER, {
      eval: true,
      workerData: {
        path,
        state: state.buffer,
        driver: createRequire(import.meta.url).resolve('better-sqlite3'),
        intervalMs: CHECKPOINT_INTERVAL_MS,
      },
      resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 2 },
    });
  } catch {
    return () => {}; // no thread: the writer checkpoints on its own, as before
  }
  worker.unref();
  worker.on('error', () => {}); // it catches its own; nothing of it must crash the import
  return () => {
    Atomics.store(state, 0, 1);
    Atomics.notify(state, 0);
    // At most one checkpoint in progress to finish: wait for it, so the final checkpoint and
    // closing the store never race the helper's connection.
    if (Atomics.wait(state, 1, 0, 30_000) === 'timed-out') void worker.terminate();
  };
}

export const MIGRATION_TABLE = 'mamori_migration';
const MIGRATION_LOCK_TABLE = 'mamori_migration_lock';

/**
 * Decide the backend from `--db` / `MAMORI_DB`: a `postgres://` or `postgresql://` URL, a
 * `sqlite:` URL, or a plain file path.
 * @example parseDbTarget('postgres://u@127.0.0.1:5432/mamori').backend === 'postgres'
 */
export function parseDbTarget(spec: string): DbTarget {
  const s = spec.trim();
  if (s === '') throw new MamoriError('E_USAGE', '--db is empty');
  if (/^postgres(ql)?:/i.test(s)) {
    let url: URL;
    try {
      url = new URL(s);
    } catch {
      throw new MamoriError('E_USAGE', `--db: malformed PostgreSQL URL: ${redactUrl(s)}`, {
        hint: 'expected postgres://user[:password]@host[:port]/database',
      });
    }
    if (!url.hostname && !url.searchParams.get('host')) {
      throw new MamoriError('E_USAGE', `--db: PostgreSQL URL has no host: ${redactUrl(s)}`, {
        hint: 'expected postgres://user[:password]@host[:port]/database',
      });
    }
    if (url.port && !/^\d+$/.test(url.port)) {
      throw new MamoriError('E_USAGE', `--db: bad port in ${redactUrl(s)}`);
    }
    return { backend: 'postgres', location: s };
  }
  if (/^sqlite:/i.test(s)) {
    const path = s.replace(/^sqlite:(\/\/)?/i, '');
    if (!path) throw new MamoriError('E_USAGE', '--db: sqlite: URL has no path');
    return { backend: 'sqlite', location: path === ':memory:' ? path : resolve(path) };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) {
    throw new MamoriError('E_USAGE', `--db: unsupported store URL scheme: ${redactUrl(s)}`, {
      hint: 'use a file path for SQLite or postgres://… for PostgreSQL',
    });
  }
  return { backend: 'sqlite', location: s === ':memory:' ? s : resolve(s) };
}

/** Remove the password from a connection URL. */
export function redactUrl(s: string): string {
  return s.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@]*@/i, '$1:***@');
}

class TransactionalSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class MamoriSqliteDialect extends SqliteDialect {
  override createAdapter() {
    return new TransactionalSqliteAdapter();
  }
}

/** Statements kept prepared per SQLite connection, and the longest SQL text worth keeping. */
const STATEMENT_CACHE = 256;
const STATEMENT_CACHE_MAX_SQL = 64 * 1024;

/**
 * better-sqlite3 behind Kysely with a small LRU of prepared statements. Kysely's driver calls
 * `prepare()` on every query; for the batched multi-row inserts of `vuln sync` that was a sixth
 * of the write time. A statement is only ever used by one query at a
 * time (Kysely holds its single connection for each query and stream), and SQLite re-prepares
 * cached statements itself after a schema change.
 */
export function cachingSqlite(raw: SqliteDatabase): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => {
      cache.clear();
      raw.close();
    },
    prepare(text: string): SqliteStatement {
      const hit = cache.get(text);
      if (hit) {
        cache.delete(text);
        cache.set(text, hit);
        return hit;
      }
      const stmt = raw.prepare(text);
      if (text.length <= STATEMENT_CACHE_MAX_SQL) {
        cache.set(text, stmt);
        if (cache.size > STATEMENT_CACHE) cache.delete(cache.keys().next().value as string);
      }
      return stmt;
    },
  };
}

export interface OpenDbOptions {
  /** Run pending migrations on open (default true). */
  migrate?: boolean;
  /** Connection pool size for PostgreSQL (default 10). */
  poolSize?: number;
}

/**
 * Open the store and bring its schema up to date.
 * @example
 * const store = await openDb('postgres://mamori@127.0.0.1/mamori');
 * await store.db.selectFrom('alert').selectAll().execute();
 * await store.close();
 */
export async function openDb(spec: string | DbTarget, options: OpenDbOptions = {}): Promise<Store> {
  const target = typeof spec === 'string' ? parseDbTarget(spec) : spec;
  const store =
    target.backend === 'sqlite'
      ? await openSqlite(target.location)
      : await openPostgres(target.location, options);
  Object.defineProperty(store, 'target', { value: { ...target }, enumerable: false });
  try {
    if (options.migrate ?? true) await migrate(store);
    else await assertNotNewer(store);
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

async function openSqlite(path: string): Promise<Store> {
  const { default: BetterSqlite3 } = await import('better-sqlite3');
  if (path !== ':memory:') {
    try {
      // The store holds encrypted keys and account data: folders Mamori makes are 0700 and a new
      // store file 0600 (SQLite gives its -wal and -shm files the database file's mode). An
      // existing folder or file keeps the mode its owner gave it.
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      if (!existsSync(path)) closeSync(openSync(path, 'wx', 0o600));
    } catch (err) {
      throw new MamoriError(
        'E_STORAGE',
        `cannot create the data directory ${dirname(path)}: ${errMessage(err)}`,
        {
          cause: err,
          hint: 'set XDG_DATA_HOME or --db to a writable place',
        },
      );
    }
  }
  let raw: InstanceType<typeof BetterSqlite3>;
  try {
    raw = new BetterSqlite3(path);
    raw.pragma('journal_mode = WAL');
    raw.pragma('foreign_keys = ON');
    raw.pragma('busy_timeout = 5000');
    raw.pragma('synchronous = NORMAL');
  } catch (err) {
    throw new MamoriError('E_STORAGE', `cannot open the SQLite store ${path}: ${errMessage(err)}`, {
      cause: err,
      hint: 'check that the file and its directory are writable, or pass --db',
    });
  }
  const db = new Kysely<Database>({
    dialect: new MamoriSqliteDialect({ database: cachingSqlite(raw) }),
  });
  let bulkDepth = 0;
  let stopCheckpointer = () => {};
  return {
    db,
    backend: 'sqlite',
    display: path,
    close: () => {
      stopCheckpointer(); // a store closed inside bulk-load mode
      stopCheckpointer = () => {};
      return db.destroy();
    },
    bulkLoad: () => {
      if (bulkDepth++ === 0) {
        raw.pragma(`wal_autocheckpoint = ${BULK_CHECKPOINT_PAGES}`);
        if (path !== ':memory:') stopCheckpointer = startCheckpointer(path);
      }
      let left = false;
      return () => {
        if (left) return;
        left = true;
        if (--bulkDepth > 0) return;
        stopCheckpointer();
        stopCheckpointer = () => {};
        if (!raw.open) return;
        raw.pragma('wal_autocheckpoint = 1000');
        // Readers (a running `mamori serve`) may keep part of the WAL busy: that is fine.
        raw.pragma('wal_checkpoint(TRUNCATE)');
      };
    },
  };
}

async function openPostgres(url: string, options: OpenDbOptions): Promise<Store> {
  const pg = await import('pg');
  const { Pool, types } = pg.default;
  // int8 as number: counts and satoshi amounts fit in 2^53 (21e14 sat is the whole supply).
  types.setTypeParser(20, (v: string) => Number.parseInt(v, 10));
  const pool = new Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 5000,
  });
  pool.on('error', () => {
    // idle client errors surface on the next query; do not crash the process here
  });
  const display = redactUrl(url);
  try {
    const client = await pool.connect();
    client.release();
  } catch (err) {
    await pool.end().catch(() => {});
    throw new MamoriError(
      'E_STORAGE',
      `cannot reach PostgreSQL at ${display}: ${errMessage(err)}`,
      {
        cause: err,
        hint: 'is the server running and the URL right?',
        details: { exit: 'dependency' },
      },
    );
  }
  const dialect: Dialect = new PostgresDialect({ pool });
  const db = new Kysely<Database>({ dialect });
  return { db, backend: 'postgres', display, close: () => db.destroy(), bulkLoad: () => () => {} };
}

function migrator(store: Store, migrations: MigrationSet): Migrator {
  return new Migrator({
    db: store.db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
    // Areas add migrations independently; one whose name sorts before a migration a store has
    // already applied (work merged later than a release) is applied, not refused as corrupt.
    allowUnorderedMigrations: true,
  });
}

export interface SchemaState {
  /** Migrations applied in this store. */
  applied: string[];
  /** Migrations this build knows. */
  known: string[];
  /** Applied migrations this build does not know (the store is newer). */
  unknown: string[];
  pending: string[];
}

export async function schemaState(
  store: Store,
  migrations: MigrationSet = allMigrations(),
): Promise<SchemaState> {
  const known = Object.keys(migrations).sort();
  let applied: string[] = [];
  const tables = await store.db.introspection.getTables({ withInternalKyselyTables: true });
  if (tables.some((t) => t.name === MIGRATION_TABLE)) {
    const rows = await sql<{
      name: string;
    }>`select name from ${sql.table(MIGRATION_TABLE)} order by name`.execute(store.db);
    applied = rows.rows.map((r) => r.name);
  }
  const knownSet = new Set(known);
  const appliedSet = new Set(applied);
  return {
    applied,
    known,
    unknown: applied.filter((n) => !knownSet.has(n)),
    pending: known.filter((n) => !appliedSet.has(n)),
  };
}

async function assertNotNewer(store: Store, migrations?: MigrationSet): Promise<SchemaState> {
  const state = await schemaState(store, migrations);
  if (state.unknown.length > 0) {
    throw new MamoriError(
      'E_SCHEMA',
      `the store ${store.display} has schema version ${state.applied.length} from a newer mamori (unknown migration ${state.unknown[0]}); this mamori knows ${state.known.length}`,
      { hint: 'upgrade mamori, or point --db at another store' },
    );
  }
  return state;
}

/**
 * Apply pending migrations in one transaction: all of them or none. Returns the names applied.
 * `migrations` defaults to the project's list (tests pass their own).
 */
export async function migrate(
  store: Store,
  migrations: MigrationSet = allMigrations(),
): Promise<string[]> {
  const state = await assertNotNewer(store, migrations);
  if (state.pending.length === 0) return [];
  const result: MigrationResultSet = await migrator(store, migrations).migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    throw new MamoriError(
      'E_STORAGE',
      `migration ${failed?.migrationName ?? '?'} failed, nothing was applied: ${errMessage(result.error)}`,
      { cause: result.error },
    );
  }
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

export interface StoreStatus {
  backend: Backend;
  location: string;
  schemaVersion: number;
  latestVersion: number;
  pending: string[];
  tables: { name: string; rows: number }[];
}

/** What `mamori db status` prints. */
export async function storeStatus(store: Store): Promise<StoreStatus> {
  const state = await schemaState(store);
  const tables = (await store.db.introspection.getTables())
    .map((t) => t.name)
    .filter((n) => !n.startsWith('sqlite_'))
    .sort();
  const counts: { name: string; rows: number }[] = [];
  for (const name of tables) {
    const r = await sql<{
      n: number | string;
    }>`select count(*) as n from ${sql.table(name)}`.execute(store.db);
    counts.push({ name, rows: Number(r.rows[0]?.n ?? 0) });
  }
  return {
    backend: store.backend,
    location: store.display,
    schemaVersion: state.applied.length,
    latestVersion: state.known.length,
    pending: state.pending,
    tables: counts,
  };
}

function errMessage(err: unknown): string {
  if (err instanceof Error) return (err.message || err.name).split('\n')[0] ?? '';
  return String(err);
}
