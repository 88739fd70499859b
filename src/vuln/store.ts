/**
 * The vuln area's reads and writes on its own tables: batched, transactional upserts of
 * VulnRecords with alias merging (one vulnerability = one advisory with many names), and the
 * lookups `show`, `check` and `stats` need. Not a parser: records arrive normalised.
 */
import { CompiledQuery, type Kysely, sql, type Transaction } from 'kysely';
import type { Progress } from '../shared/progress.js';
import type { Database, Store } from '../storage/index.js';
import { COVERAGE_CPE, COVERAGE_ECO } from './core/coverage.js';
import type { VulnRecord } from './core/types.js';
import { type Param, type PreparedRecord, prepareRecord } from './prepare.js';

export interface UpsertSummary {
  added: number;
  updated: number;
  unchanged: number;
  withdrawn: number;
}

type Db = Kysely<Database> | Transaction<Database>;

function choosePrimary(names: string[]): string {
  return names.find((n) => /^CVE-\d{4}-\d+$/.test(n)) ?? names[0]!;
}

const nowIso = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Most rows in one multi-row INSERT. */
const MAX_ROWS = 128;

/**
 * Multi-row INSERT compiled by hand and run through Kysely's executor (so it joins the open
 * transaction): the query builder's per-value AST nodes were most of the sync's CPU and garbage
 * for 1,000-row batches. Chunks stay far under the backends' parameter limits (SQLite 32,766;
 * PostgreSQL 65,535). `tail` is an ON CONFLICT / RETURNING clause.
 */
async function insertRows(
  db: Db,
  pg: boolean,
  table: string,
  cols: readonly string[],
  rows: Param[][],
  tail = '',
): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  const most = Math.min(MAX_ROWS, Math.floor(30_000 / cols.length));
  for (let i = 0; i < rows.length; ) {
    // A power of two rows per statement: few distinct statement texts, each short enough to
    // stay prepared in the store's statement cache (preparing a 20,000-parameter statement per
    // batch was a sixth of the write time).
    let per = 1;
    while (per * 2 <= Math.min(most, rows.length - i)) per *= 2;
    const params: Param[] = [];
    for (let j = i; j < i + per; j++) for (const v of rows[j]!) params.push(v);
    i += per;
    const r = await db.executeQuery<Record<string, unknown>>(
      CompiledQuery.raw(insertText(pg, table, cols, per, tail), params),
    );
    if (tail.includes('returning')) for (const row of r.rows) out.push(row);
  }
  return out;
}

/**
 * The text of an INSERT of `rows` rows, built once per shape: the same string object each
 * time, so the statement cache's lookup does not rebuild and rehash kilobytes of SQL per call.
 */
const insertTexts = new Map<string, string>();
function insertText(
  pg: boolean,
  table: string,
  cols: readonly string[],
  rows: number,
  tail: string,
): string {
  const key = `${pg ? 'pg' : 'sqlite'} ${table} (${cols.join(',')}) ${rows} ${tail}`;
  let text = insertTexts.get(key);
  if (text === undefined) {
    let n = 0;
    const tuple = () => `(${cols.map(() => (pg ? `$${++n}` : '?')).join(', ')})`;
    const values = Array.from({ length: rows }, tuple).join(', ');
    text = `insert into "${table}" (${cols.map((c) => `"${c}"`).join(', ')}) values ${values}${tail ? ` ${tail}` : ''}`;
    insertTexts.set(key, text);
  }
  return text;
}

/**
 * `<head> (?, ?, ...)` with the head's own `?` first; `$n` placeholders on PostgreSQL. The list
 * is padded to a power-of-two length by repeating its last value (which changes nothing in an
 * IN list), so a sync's lookups use a handful of statement texts: one text per list length
 * filled the store's statement cache with hundreds of 1,000-parameter statements, tens of MB
 * of peak memory on a long sync.
 */
async function selectIn<R>(
  db: Db,
  pg: boolean,
  head: string,
  fixed: Param[],
  list: Param[],
): Promise<R[]> {
  if (list.length === 0) return [];
  let size = 1;
  while (size < list.length) size *= 2;
  const params = [...fixed, ...list];
  while (params.length < fixed.length + size) params.push(list[list.length - 1]!);
  const key = `${pg ? 'pg' : 'sqlite'} ${head} ${fixed.length} ${size}`;
  let text = selectTexts.get(key);
  if (text === undefined) {
    let n = fixed.length;
    const marks = Array.from({ length: size }, () => (pg ? `$${++n}` : '?')).join(', ');
    let h = 0;
    text = `${pg ? head.replace(/\?/g, () => `$${++h}`) : head} (${marks})`;
    selectTexts.set(key, text);
  }
  const r = await db.executeQuery<R>(CompiledQuery.raw(text, params));
  return r.rows;
}
const selectTexts = new Map<string, string>();

/**
 * `UPDATE table SET col = CASE col WHEN old THEN new ... END WHERE col IN (old...)`: many
 * id remappings in one statement per chunk.
 */
async function remapColumn(
  db: Db,
  pg: boolean,
  table: string,
  col: string,
  map: [number, number][],
): Promise<void> {
  for (const part of chunks(map, 5000)) {
    const params: number[] = [];
    const p = (v: number) => {
      params.push(v);
      return pg ? `$${params.length}::bigint` : '?';
    };
    const whens = part.map(([from, to]) => `when ${p(from)} then ${p(to)}`).join(' ');
    const ins = part.map(([from]) => p(from)).join(', ');
    await db.executeQuery(
      CompiledQuery.raw(
        `update "${table}" set "${col}" = case "${col}" ${whens} end where "${col}" in (${ins})`,
        params,
      ),
    );
  }
}

/** Merge advisories into their targets (`[other, target]` pairs): every name, record and row moves over. */
async function mergeAdvisories(db: Db, pg: boolean, map: [number, number][]): Promise<void> {
  if (map.length === 0) return;
  for (const table of ['vuln_alias', 'vuln_record', 'vuln_affected', 'vuln_product'])
    await remapColumn(db, pg, table, 'advisory_id', map);
  for (const part of chunks(
    map.map(([from]) => from),
    1000,
  ))
    await db.deleteFrom('vuln_advisory').where('id', 'in', part).execute();
}

function chunks<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

const RECORD_COLS = [
  'advisory_id',
  'source',
  'external_id',
  'title',
  'title_ja',
  'description',
  'description_ja',
  'published',
  'modified',
  'registered',
  'withdrawn',
  'severity',
  'cvss_score10',
  'cvss_v2',
  'cvss_v3',
  'cvss_v4',
  'cwes',
  'refs',
  'aliases',
  'content_hash',
] as const;

const RECORD_UPDATE = `on conflict ("source", "external_id") do update set ${RECORD_COLS.filter(
  (c) => c !== 'source' && c !== 'external_id',
)
  .map((c) => `"${c}" = excluded."${c}"`)
  .join(', ')}`;

/**
 * SQLite: the last id an AUTOINCREMENT table has assigned (`sqlite_sequence`), read inside the
 * write transaction. A sync gives new rows the ids after it itself instead of asking INSERT …
 * RETURNING for them, which cost a fifth of the record insert. Should another writer have
 * taken an id meanwhile, the insert fails on the primary key: it never overwrites a row.
 */
async function lastId(db: Db, table: string): Promise<number> {
  const r = await db.executeQuery<{ seq: number }>(
    CompiledQuery.raw('select "seq" from "sqlite_sequence" where "name" = ?', [table]),
  );
  return Number(r.rows[0]?.seq ?? 0);
}

const AFFECTED_COLS = [
  'record_id',
  'advisory_id',
  'ecosystem',
  'eco_key',
  'name_key',
  'name',
  'purl',
  'ranges',
  'versions',
] as const;

const PRODUCT_COLS = [
  'record_id',
  'advisory_id',
  'vendor',
  'product',
  'vulnerable',
  'confidence',
  'matches',
] as const;

/**
 * Mark the ecosystems (as the source spells them) and the CPE matches this batch stored, with
 * the batch's time, for `check`'s coverage: unchanged records count, they were synced too.
 */
async function markCoverage(
  db: Db,
  pg: boolean,
  source: string,
  records: PreparedRecord[],
  now: string,
): Promise<void> {
  const keys = new Set<string>();
  for (const r of records) {
    for (const a of r.affected) keys.add(`${COVERAGE_ECO}${String(a[0])}`);
    if (r.products.length > 0) keys.add(COVERAGE_CPE);
  }
  if (keys.size === 0) return;
  await insertRows(
    db,
    pg,
    'vuln_sync_state',
    ['source', 'key', 'value'],
    [...keys].sort().map((k) => [source, k, now]),
    'on conflict ("source", "key") do update set "value" = excluded."value"',
  );
}

/**
 * Upsert a batch in one transaction: all of it lands or none of it. Set-based (a handful of
 * statements per batch, not per record or per alias group) so PostgreSQL round trips and
 * SQLite statement preparation do not dominate.
 */
export async function upsertBatch(store: Store, records: VulnRecord[]): Promise<UpsertSummary> {
  return upsertPrepared(store, records.map(prepareRecord));
}

/**
 * {@link upsertBatch} of records already through `prepareRecord`: a long sync prepares each
 * record as it is parsed, so the parsed object dies young instead of waiting for its batch.
 */
export async function upsertPrepared(
  store: Store,
  records: PreparedRecord[],
): Promise<UpsertSummary> {
  const summary: UpsertSummary = { added: 0, updated: 0, unchanged: 0, withdrawn: 0 };
  if (records.length === 0) return summary;
  const now = nowIso();
  const bySource = new Map<string, PreparedRecord[]>();
  for (const r of records) {
    const list = bySource.get(r.source);
    if (list) list.push(r);
    else bySource.set(r.source, [r]);
  }
  const pg = store.backend === 'postgres';
  await store.db.transaction().execute(async (trx) => {
    for (const [source, recs] of bySource) {
      await upsertSourceBatch(trx, pg, source, recs, now, summary);
    }
  });
  return summary;
}

async function upsertSourceBatch(
  db: Db,
  pg: boolean,
  source: string,
  batch: PreparedRecord[],
  now: string,
  summary: UpsertSummary,
): Promise<void> {
  // The same id twice in one batch: the later copy wins, in the place of the first.
  const byId = new Map<string, PreparedRecord>();
  for (const r of batch) byId.set(r.id, r);
  const records = byId.size < batch.length ? [...byId.values()] : batch;
  const existing = new Map<
    string,
    { id: number; advisory_id: number; content_hash: string; withdrawn: string | null }
  >();
  for (const part of chunks(
    records.map((r) => r.id),
    1000,
  )) {
    const rows = await selectIn<{
      id: number;
      external_id: string;
      advisory_id: number;
      content_hash: string;
      withdrawn: string | null;
    }>(
      db,
      pg,
      'select "id", "external_id", "advisory_id", "content_hash", "withdrawn" from "vuln_record" where "source" = ? and "external_id" in',
      [source],
      part,
    );
    for (const r of rows)
      existing.set(r.external_id, {
        id: Number(r.id),
        advisory_id: Number(r.advisory_id),
        content_hash: r.content_hash,
        withdrawn: r.withdrawn,
      });
  }
  const changed: PreparedRecord[] = [];
  for (const rec of records) {
    const ex = existing.get(rec.id);
    if (ex && ex.content_hash === rec.hash) summary.unchanged++;
    else {
      changed.push(rec);
      if (ex) summary.updated++;
      else summary.added++;
      if (rec.withdrawn !== undefined && !ex?.withdrawn) summary.withdrawn++;
    }
  }
  await markCoverage(db, pg, source, records, now);
  if (changed.length === 0) return;

  // Which advisory each name already belongs to.
  const nameCount = new Map<string, number>();
  for (const rec of changed)
    for (const n of [rec.id, ...rec.aliases]) nameCount.set(n, (nameCount.get(n) ?? 0) + 1);
  const allNames = [...nameCount.keys()];
  const aliasOf = new Map<string, number>();
  for (const part of chunks(allNames, 1000)) {
    const rows = await selectIn<{ alias: string; advisory_id: number }>(
      db,
      pg,
      'select "alias", "advisory_id" from "vuln_alias" where "alias" in',
      [],
      part,
    );
    for (const r of rows) aliasOf.set(r.alias, Number(r.advisory_id));
  }

  // Union-find over names and advisory ids: records that share a name are one vulnerability.
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let r = x;
    while (parent.has(r) && parent.get(r) !== r) r = parent.get(r)!;
    parent.set(x, r);
    return r;
  };
  const union = (a: string, b: string) => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent.set(ra, rb);
  };
  // A record none of whose names is stored or shared with another record of the batch is a
  // new vulnerability of its own (nearly every record of a first sync): no union-find for it.
  const loner = (rec: PreparedRecord) =>
    !existing.has(rec.id) &&
    [rec.id, ...rec.aliases].every((n) => nameCount.get(n) === 1 && !aliasOf.has(n));
  const position = new Map<PreparedRecord, number>();
  const newGroups: { primary: string; recs: PreparedRecord[] }[] = [];
  const linked: PreparedRecord[] = [];
  changed.forEach((rec, i) => {
    position.set(rec, i);
    if (loner(rec))
      newGroups.push({ primary: choosePrimary([rec.id, ...rec.aliases]), recs: [rec] });
    else linked.push(rec);
  });
  for (const rec of linked) {
    const names = [rec.id, ...rec.aliases];
    const keys = names.map((n) => `n:${n}`);
    for (const n of names) if (aliasOf.has(n)) keys.push(`a:${aliasOf.get(n)}`);
    const ex = existing.get(rec.id);
    if (ex) keys.push(`a:${ex.advisory_id}`);
    for (const k of keys) find(k);
    for (let i = 1; i < keys.length; i++) union(keys[0]!, keys[i]!);
  }
  const groups = new Map<string, { recs: PreparedRecord[]; advisories: Set<number> }>();
  for (const key of parent.keys()) {
    const root = find(key);
    let g = groups.get(root);
    if (!g) {
      g = { recs: [], advisories: new Set() };
      groups.set(root, g);
    }
    if (key.startsWith('a:')) g.advisories.add(Number(key.slice(2)));
  }
  for (const rec of linked) groups.get(find(`n:${rec.id}`))!.recs.push(rec);

  // Groups that touch existing advisories: merge them into the lowest id, all groups at once.
  const advisoryOfRecord = new Map<string, number>();
  const merges: [number, number][] = [];
  const better = new Map<number, string>();
  for (const g of groups.values()) {
    const names = g.recs.flatMap((r) => [r.id, ...r.aliases]);
    if (g.advisories.size === 0) {
      newGroups.push({ primary: choosePrimary(names), recs: g.recs });
      continue;
    }
    const sorted = [...g.advisories].sort((a, b) => a - b);
    const target = sorted[0]!;
    for (const other of sorted.slice(1)) merges.push([other, target]);
    better.set(target, choosePrimary(names));
    for (const r of g.recs) advisoryOfRecord.set(r.id, target);
  }
  await mergeAdvisories(db, pg, merges);
  const targets = [...better.keys()];
  const renames: [number, string][] = [];
  for (const part of chunks(targets, 1000)) {
    const rows = await db
      .selectFrom('vuln_advisory')
      .select(['id', 'primary_id'])
      .where('id', 'in', part)
      .execute();
    for (const r of rows) {
      const b = better.get(Number(r.id))!;
      if (!/^CVE-/.test(r.primary_id) && /^CVE-/.test(b)) renames.push([Number(r.id), b]);
    }
    await db.updateTable('vuln_advisory').set({ updated: now }).where('id', 'in', part).execute();
  }
  // A rename is rare (a GHSA-only advisory learning its CVE): one statement each is fine.
  for (const [id, primary] of renames)
    await db
      .updateTable('vuln_advisory')
      .set({ primary_id: primary })
      .where('id', '=', id)
      .execute();
  if (newGroups.length) {
    // advisory ids in the order of each group's first record, loners and linked alike
    newGroups.sort((a, b) => position.get(a.recs[0]!)! - position.get(b.recs[0]!)!);
    if (pg) {
      const rows = await insertRows(
        db,
        pg,
        'vuln_advisory',
        ['primary_id', 'created', 'updated'],
        newGroups.map((g) => [g.primary, now, now]),
        'returning "id", "primary_id"',
      );
      const byPrimary = new Map(rows.map((r) => [String(r.primary_id), Number(r.id)]));
      for (const g of newGroups)
        for (const r of g.recs) advisoryOfRecord.set(r.id, byPrimary.get(g.primary)!);
    } else {
      let id = await lastId(db, 'vuln_advisory');
      const rows = newGroups.map((g) => {
        id++;
        for (const r of g.recs) advisoryOfRecord.set(r.id, id);
        return [id, g.primary, now, now];
      });
      await insertRows(db, pg, 'vuln_advisory', ['id', 'primary_id', 'created', 'updated'], rows);
    }
  }

  const aliasRows = new Map<string, number>();
  for (const rec of changed) {
    const adv = advisoryOfRecord.get(rec.id)!;
    for (const n of [rec.id, ...rec.aliases]) if (aliasOf.get(n) !== adv) aliasRows.set(n, adv);
  }
  await insertRows(
    db,
    pg,
    'vuln_alias',
    ['alias', 'advisory_id'],
    [...aliasRows],
    'on conflict ("alias") do update set "advisory_id" = excluded."advisory_id"',
  );

  const stale = changed.flatMap((rec) => {
    const ex = existing.get(rec.id);
    return ex ? [ex.id] : [];
  });
  for (const part of chunks(stale, 1000)) {
    await db.deleteFrom('vuln_affected').where('record_id', 'in', part).execute();
    await db.deleteFrom('vuln_product').where('record_id', 'in', part).execute();
  }
  const recordId = new Map<string, number>();
  if (pg) {
    // RETURNING gives the ids of inserted and updated rows alike: no second lookup.
    const returned = await insertRows(
      db,
      pg,
      'vuln_record',
      RECORD_COLS,
      changed.map((rec) => [advisoryOfRecord.get(rec.id)!, ...rec.record]),
      `${RECORD_UPDATE} returning "id", "external_id"`,
    );
    for (const r of returned) recordId.set(String(r.external_id), Number(r.id));
  } else {
    // An updated record keeps its id, a new one takes the next.
    let next = await lastId(db, 'vuln_record');
    const rows = changed.map((rec) => {
      const id = existing.get(rec.id)?.id ?? ++next;
      recordId.set(rec.id, id);
      return [id, advisoryOfRecord.get(rec.id)!, ...rec.record];
    });
    await insertRows(db, pg, 'vuln_record', ['id', ...RECORD_COLS], rows, RECORD_UPDATE);
  }
  const affectedRows: Param[][] = [];
  const productRows: Param[][] = [];
  for (const rec of changed) {
    const rid = recordId.get(rec.id)!;
    const adv = advisoryOfRecord.get(rec.id)!;
    for (const a of rec.affected) affectedRows.push([rid, adv, ...a]);
    for (const p of rec.products) productRows.push([rid, adv, ...p]);
  }
  await insertRows(db, pg, 'vuln_affected', AFFECTED_COLS, affectedRows);
  await insertRows(db, pg, 'vuln_product', PRODUCT_COLS, productRows);
}

/**
 * The lookup indexes `check` reads by, as the migrations create them. A sync into an empty
 * table builds them once at its end (one sort) instead of row by row: their keys arrive in
 * random order, so every batch would rewrite most of the index's pages, the largest single
 * storage cost of a first NVD sync.
 */
const LOOKUP_INDEXES = [
  { name: 'vuln_product_lookup', table: 'vuln_product', columns: ['vendor', 'product'] },
  { name: 'vuln_affected_pkg', table: 'vuln_affected', columns: ['eco_key', 'name_key'] },
] as const;

async function presentIndexes(store: Store): Promise<Set<string>> {
  const names = LOOKUP_INDEXES.map((i) => i.name);
  const rows =
    store.backend === 'postgres'
      ? await sql<{ name: string }>`select indexname as name from pg_indexes
          where schemaname = current_schema() and indexname in (${sql.join(names)})`.execute(
          store.db,
        )
      : await sql<{ name: string }>`select name from sqlite_master
          where type = 'index' and name in (${sql.join(names)})`.execute(store.db);
  return new Set(rows.rows.map((r) => r.name));
}

/**
 * SQLite's page cache while it builds a lookup index, in KiB. Its sorter holds as much in
 * memory as the page cache before it spills to a temp file, so the default 16 MB cache made an
 * index build of a 1 GB sync the peak of its memory; with 2 MB it was as fast.
 */
const INDEX_BUILD_CACHE_KIB = 2048;

async function createLookupIndex(store: Store, ix: (typeof LOOKUP_INDEXES)[number]) {
  const create = () =>
    store.db.schema
      .createIndex(ix.name)
      .ifNotExists()
      .on(ix.table)
      .columns([...ix.columns])
      .execute();
  try {
    if (store.backend === 'postgres') await create();
    else {
      const { rows } = await sql<{ cache_size: number }>`pragma cache_size`.execute(store.db);
      const cacheSize = rows[0]?.cache_size ?? -16000;
      await sql.raw(`pragma cache_size = -${INDEX_BUILD_CACHE_KIB}`).execute(store.db);
      try {
        await create();
      } finally {
        await sql.raw(`pragma cache_size = ${Math.trunc(cacheSize)}`).execute(store.db);
      }
    }
  } catch (err) {
    // Two syncs finishing at once on PostgreSQL: the other one's CREATE won the race.
    if (!(await presentIndexes(store)).has(ix.name)) throw err;
  }
}

/**
 * Rebuild any lookup index a sync left unbuilt (a sync killed before its end). A catalog read
 * when nothing is missing; `check` runs it before matching.
 */
export async function ensureLookupIndexes(store: Store): Promise<void> {
  const present = await presentIndexes(store);
  for (const ix of LOOKUP_INDEXES) if (!present.has(ix.name)) await createLookupIndex(store, ix);
}

/**
 * Run a sync in the store's bulk-load mode, with the lookup indexes of tables empty at its
 * start built once at its end (also when it fails or is interrupted: what it committed stays
 * and is indexed). Any index an earlier, killed sync left unbuilt is rebuilt first.
 */
export async function withBulkSync<T>(
  store: Store,
  run: () => Promise<T>,
  progress?: Progress,
): Promise<T> {
  const leave = store.bulkLoad();
  const deferred: (typeof LOOKUP_INDEXES)[number][] = [];
  const rebuild = async () => {
    for (const ix of deferred) await createLookupIndex(store, ix);
  };
  try {
    const present = await presentIndexes(store);
    for (const ix of LOOKUP_INDEXES) {
      const empty =
        (await store.db.selectFrom(ix.table).select('id').limit(1).execute()).length === 0;
      if (empty) {
        if (present.has(ix.name)) await store.db.schema.dropIndex(ix.name).execute();
        deferred.push(ix);
      } else if (!present.has(ix.name)) await createLookupIndex(store, ix);
    }
    let out: T;
    try {
      out = await run();
    } catch (err) {
      await rebuild().catch(() => undefined); // the next sync or check builds what this could not
      throw err;
    }
    if (deferred.length > 0) progress?.tick(0, 'building lookup indexes');
    await rebuild();
    return out;
  } finally {
    leave();
  }
}

export async function getSyncState(
  store: Store,
  source: string,
  key: string,
): Promise<string | undefined> {
  const r = await store.db
    .selectFrom('vuln_sync_state')
    .select('value')
    .where('source', '=', source)
    .where('key', '=', key)
    .executeTakeFirst();
  return r?.value;
}

export async function setSyncState(
  store: Store,
  source: string,
  key: string,
  value: string,
): Promise<void> {
  await store.db
    .insertInto('vuln_sync_state')
    .values({ source, key, value })
    .onConflict((oc) => oc.columns(['source', 'key']).doUpdateSet({ value }))
    .execute();
}
