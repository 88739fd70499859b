/**
 * The vuln area's reads and writes on its own tables: batched, transactional upserts of
 * VulnRecords with alias merging (one vulnerability = one advisory with many names), and the
 * lookups `show`, `check` and `stats` need. Not a parser: records arrive normalised.
 */
import { createHash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Database, Store } from '../storage/index.js';
import { parseCpe } from './core/cpe.js';
import { ecoKey, nameKey } from './core/names.js';
import type { VulnRecord } from './core/types.js';

export interface UpsertSummary {
  added: number;
  updated: number;
  unchanged: number;
  withdrawn: number;
}

type Db = Kysely<Database> | Transaction<Database>;

export function recordHash(rec: VulnRecord): string {
  return createHash('sha256').update(JSON.stringify(rec)).digest('hex');
}

function choosePrimary(names: string[]): string {
  return names.find((n) => /^CVE-\d{4}-\d+$/.test(n)) ?? names[0]!;
}

const nowIso = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Merge advisories `others` into `target`: every name, record and row moves over. */
async function mergeAdvisories(db: Db, target: number, others: number[]): Promise<void> {
  if (others.length === 0) return;
  await db
    .updateTable('vuln_alias')
    .set({ advisory_id: target })
    .where('advisory_id', 'in', others)
    .execute();
  await db
    .updateTable('vuln_record')
    .set({ advisory_id: target })
    .where('advisory_id', 'in', others)
    .execute();
  await db
    .updateTable('vuln_affected')
    .set({ advisory_id: target })
    .where('advisory_id', 'in', others)
    .execute();
  await db
    .updateTable('vuln_cpe')
    .set({ advisory_id: target })
    .where('advisory_id', 'in', others)
    .execute();
  await db.deleteFrom('vuln_advisory').where('id', 'in', others).execute();
}

function chunks<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

function recordFields(rec: VulnRecord, hash: string) {
  return {
    title: rec.title ?? null,
    title_ja: rec.titleJa ?? null,
    description: rec.description ?? null,
    description_ja: rec.descriptionJa ?? null,
    published: rec.published ?? null,
    modified: rec.modified ?? null,
    registered: rec.registered ?? null,
    withdrawn: rec.withdrawn ?? null,
    severity: rec.severity ?? null,
    cvss_score10: rec.cvssScore10 ?? null,
    cvss_v2: rec.cvssV2 ?? null,
    cvss_v3: rec.cvssV3 ?? null,
    cvss_v4: rec.cvssV4 ?? null,
    cwes: JSON.stringify(rec.cwes),
    refs: JSON.stringify(rec.references),
    aliases: JSON.stringify([rec.id, ...rec.aliases]),
    content_hash: hash,
  };
}

/**
 * Upsert a batch in one transaction: all of it lands or none of it. Set-based (a handful of
 * statements per batch, not per record) so PostgreSQL round trips do not dominate.
 */
export async function upsertBatch(store: Store, records: VulnRecord[]): Promise<UpsertSummary> {
  const summary: UpsertSummary = { added: 0, updated: 0, unchanged: 0, withdrawn: 0 };
  if (records.length === 0) return summary;
  const now = nowIso();
  const bySource = new Map<string, VulnRecord[]>();
  for (const r of records) bySource.set(r.source, [...(bySource.get(r.source) ?? []), r]);
  await store.db.transaction().execute(async (trx) => {
    for (const [source, recs] of bySource) {
      await upsertSourceBatch(trx, source, recs, now, summary);
    }
  });
  return summary;
}

async function upsertSourceBatch(
  db: Db,
  source: string,
  records: VulnRecord[],
  now: string,
  summary: UpsertSummary,
): Promise<void> {
  const existing = new Map<
    string,
    { id: number; advisory_id: number; content_hash: string; withdrawn: string | null }
  >();
  for (const part of chunks(
    records.map((r) => r.id),
    500,
  )) {
    const rows = await db
      .selectFrom('vuln_record')
      .select(['id', 'external_id', 'advisory_id', 'content_hash', 'withdrawn'])
      .where('source', '=', source)
      .where('external_id', 'in', part)
      .execute();
    for (const r of rows)
      existing.set(r.external_id, {
        id: Number(r.id),
        advisory_id: Number(r.advisory_id),
        content_hash: r.content_hash,
        withdrawn: r.withdrawn,
      });
  }
  const changed: { rec: VulnRecord; hash: string }[] = [];
  for (const rec of records) {
    const hash = recordHash(rec);
    const ex = existing.get(rec.id);
    if (ex && ex.content_hash === hash) summary.unchanged++;
    else {
      changed.push({ rec, hash });
      if (ex) summary.updated++;
      else summary.added++;
      if (rec.withdrawn !== undefined && !ex?.withdrawn) summary.withdrawn++;
    }
  }
  if (changed.length === 0) return;

  // Which advisory each name already belongs to.
  const allNames = [...new Set(changed.flatMap(({ rec }) => [rec.id, ...rec.aliases]))];
  const aliasOf = new Map<string, number>();
  for (const part of chunks(allNames, 500)) {
    const rows = await db
      .selectFrom('vuln_alias')
      .select(['alias', 'advisory_id'])
      .where('alias', 'in', part)
      .execute();
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
  for (const { rec } of changed) {
    const names = [rec.id, ...rec.aliases];
    const keys = names.map((n) => `n:${n}`);
    for (const n of names) if (aliasOf.has(n)) keys.push(`a:${aliasOf.get(n)}`);
    const ex = existing.get(rec.id);
    if (ex) keys.push(`a:${ex.advisory_id}`);
    for (const k of keys) find(k);
    for (let i = 1; i < keys.length; i++) union(keys[0]!, keys[i]!);
  }
  const groups = new Map<string, { recs: VulnRecord[]; advisories: Set<number> }>();
  for (const key of parent.keys()) {
    const root = find(key);
    let g = groups.get(root);
    if (!g) {
      g = { recs: [], advisories: new Set() };
      groups.set(root, g);
    }
    if (key.startsWith('a:')) g.advisories.add(Number(key.slice(2)));
  }
  for (const { rec } of changed) groups.get(find(`n:${rec.id}`))!.recs.push(rec);

  const advisoryOfRecord = new Map<string, number>();
  const newGroups: { primary: string; recs: VulnRecord[] }[] = [];
  for (const g of groups.values()) {
    const names = g.recs.flatMap((r) => [r.id, ...r.aliases]);
    if (g.advisories.size === 0) {
      newGroups.push({ primary: choosePrimary(names), recs: g.recs });
      continue;
    }
    const sorted = [...g.advisories].sort((a, b) => a - b);
    const target = sorted[0]!;
    await mergeAdvisories(db, target, sorted.slice(1));
    const adv = await db
      .selectFrom('vuln_advisory')
      .select('primary_id')
      .where('id', '=', target)
      .executeTakeFirstOrThrow();
    const better = choosePrimary(names);
    if (!/^CVE-/.test(adv.primary_id) && /^CVE-/.test(better))
      await db
        .updateTable('vuln_advisory')
        .set({ primary_id: better, updated: now })
        .where('id', '=', target)
        .execute();
    else
      await db
        .updateTable('vuln_advisory')
        .set({ updated: now })
        .where('id', '=', target)
        .execute();
    for (const r of g.recs) advisoryOfRecord.set(r.id, target);
  }
  for (const part of chunks(newGroups, 500)) {
    const rows = await db
      .insertInto('vuln_advisory')
      .values(part.map((g) => ({ primary_id: g.primary, created: now, updated: now })))
      .returning(['id', 'primary_id'])
      .execute();
    const byPrimary = new Map(rows.map((r) => [r.primary_id, Number(r.id)]));
    for (const g of part)
      for (const r of g.recs) advisoryOfRecord.set(r.id, byPrimary.get(g.primary)!);
  }

  const aliasRows = new Map<string, number>();
  for (const { rec } of changed) {
    const adv = advisoryOfRecord.get(rec.id)!;
    for (const n of [rec.id, ...rec.aliases]) if (aliasOf.get(n) !== adv) aliasRows.set(n, adv);
  }
  const aliasList = [...aliasRows].map(([alias, advisory_id]) => ({ alias, advisory_id }));
  for (const part of chunks(aliasList, 1000)) {
    await db
      .insertInto('vuln_alias')
      .values(part)
      .onConflict((oc) =>
        oc.column('alias').doUpdateSet((eb) => ({ advisory_id: eb.ref('excluded.advisory_id') })),
      )
      .execute();
  }

  const stale = changed.flatMap(({ rec }) => {
    const ex = existing.get(rec.id);
    return ex ? [ex.id] : [];
  });
  for (const part of chunks(stale, 500)) {
    await db.deleteFrom('vuln_affected').where('record_id', 'in', part).execute();
    await db.deleteFrom('vuln_cpe').where('record_id', 'in', part).execute();
  }
  for (const part of chunks(changed, 200)) {
    await db
      .insertInto('vuln_record')
      .values(
        part.map(({ rec, hash }) => ({
          ...recordFields(rec, hash),
          advisory_id: advisoryOfRecord.get(rec.id)!,
          source,
          external_id: rec.id,
        })),
      )
      .onConflict((oc) =>
        oc.columns(['source', 'external_id']).doUpdateSet((eb) => {
          const cols = [
            'advisory_id',
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
          return Object.fromEntries(cols.map((c) => [c, eb.ref(`excluded.${c}`)]));
        }),
      )
      .execute();
  }
  const recordId = new Map<string, number>();
  for (const part of chunks(
    changed.map((c) => c.rec.id),
    500,
  )) {
    const rows = await db
      .selectFrom('vuln_record')
      .select(['id', 'external_id'])
      .where('source', '=', source)
      .where('external_id', 'in', part)
      .execute();
    for (const r of rows) recordId.set(r.external_id, Number(r.id));
  }
  const affectedRows = changed.flatMap(({ rec }) =>
    rec.affected.map((a) => ({
      record_id: recordId.get(rec.id)!,
      advisory_id: advisoryOfRecord.get(rec.id)!,
      ecosystem: a.ecosystem,
      eco_key: ecoKey(a.ecosystem),
      name_key: nameKey(a.ecosystem, a.name),
      name: a.name,
      purl: a.purl ?? null,
      ranges: JSON.stringify(a.ranges),
      versions: JSON.stringify(a.versions),
    })),
  );
  for (const part of chunks(affectedRows, 300))
    await db.insertInto('vuln_affected').values(part).execute();
  const cpeRows = changed.flatMap(({ rec }) =>
    rec.cpes.map((c) => {
      const p = parseCpe(c.cpe);
      return {
        record_id: recordId.get(rec.id)!,
        advisory_id: advisoryOfRecord.get(rec.id)!,
        cpe: c.cpe,
        vendor: p?.vendor ?? '*',
        product: p?.product ?? '*',
        version_start_including: c.versionStartIncluding ?? null,
        version_start_excluding: c.versionStartExcluding ?? null,
        version_end_including: c.versionEndIncluding ?? null,
        version_end_excluding: c.versionEndExcluding ?? null,
        vulnerable: c.vulnerable ? 1 : 0,
        confidence: c.confidence,
      };
    }),
  );
  for (const part of chunks(cpeRows, 250)) await db.insertInto('vuln_cpe').values(part).execute();
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
