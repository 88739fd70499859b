/**
 * A record made ready for the store, computed without the database: its content hash (how a
 * re-sync recognises an unchanged record) and the values of its rows, less the ids only the
 * store can assign (`advisory_id` first in the record row; `record_id, advisory_id` first in
 * each affected and product row). Pure and separate from the SQL that `upsertBatch` runs.
 */
import { hash as oneShotHash } from 'node:crypto';
import { parseCpe } from './core/cpe.js';
import { ecoKey, nameKey } from './core/names.js';
import type { CpeMatch, ProductMatch, VulnRecord } from './core/types.js';

/** One SQL parameter value. */
export type Param = string | number | null;

/**
 * The content hash of a prepared record: SHA-256 over exactly the values the store keeps (its
 * record row, then its affected and product rows). Hashing the stored values rather than the
 * parsed object means a re-sync reports "unchanged" exactly when nothing stored would change,
 * and it reuses the strings built for the rows instead of serialising the record again.
 * Values are joined with U+0000 (rows with U+0001, tables with U+0002); a null joins as the
 * empty string, so a value going from null to '' alone does not count as a change.
 */
export function rowsHash(record: Param[], affected: Param[][], products: Param[][]): string {
  let s = record.join('\u0000');
  s += '\u0002';
  for (const a of affected) s += `${a.join('\u0000')}\u0001`;
  s += '\u0002';
  for (const p of products) s += `${p.join('\u0000')}\u0001`;
  return oneShotHash('sha256', s, 'hex');
}

/** The record row's values after `advisory_id` (which only the store can know), less the hash. */
function recordTail(rec: VulnRecord): Param[] {
  return [
    rec.source,
    rec.id,
    rec.title ?? null,
    rec.titleJa ?? null,
    rec.description ?? null,
    rec.descriptionJa ?? null,
    rec.published ?? null,
    rec.modified ?? null,
    rec.registered ?? null,
    rec.withdrawn ?? null,
    rec.severity ?? null,
    rec.cvssScore10 ?? null,
    rec.cvssV2 ?? null,
    rec.cvssV3 ?? null,
    rec.cvssV4 ?? null,
    JSON.stringify(rec.cwes),
    JSON.stringify(rec.references),
    JSON.stringify([rec.id, ...rec.aliases]),
  ];
}

export interface PreparedRecord {
  source: VulnRecord['source'];
  id: string;
  aliases: string[];
  withdrawn?: string;
  hash: string;
  record: Param[];
  affected: Param[][];
  products: Param[][];
}

export function prepareRecord(rec: VulnRecord): PreparedRecord {
  const record = recordTail(rec);
  const affected: Param[][] = rec.affected.map((a) => [
    a.ecosystem,
    ecoKey(a.ecosystem),
    nameKey(a.ecosystem, a.name),
    a.name,
    a.purl ?? null,
    JSON.stringify(a.ranges),
    JSON.stringify(a.versions),
  ]);
  const products = productRows(rec.cpes);
  const hash = rowsHash(record, affected, products);
  record.push(hash);
  const p: PreparedRecord = {
    source: rec.source,
    id: rec.id,
    aliases: rec.aliases,
    hash,
    record,
    affected,
    products,
  };
  if (rec.withdrawn !== undefined) p.withdrawn = rec.withdrawn;
  return p;
}

/** What a product row keeps of one match: the match less what the row itself says. */
function productMatch(c: CpeMatch): ProductMatch {
  const m: ProductMatch = { cpe: c.cpe };
  if (c.versionStartIncluding !== undefined) m.versionStartIncluding = c.versionStartIncluding;
  if (c.versionStartExcluding !== undefined) m.versionStartExcluding = c.versionStartExcluding;
  if (c.versionEndIncluding !== undefined) m.versionEndIncluding = c.versionEndIncluding;
  if (c.versionEndExcluding !== undefined) m.versionEndExcluding = c.versionEndExcluding;
  if (c.platform) m.platform = c.platform;
  return m;
}

/**
 * The `vuln_product` rows of a record's CPE matches: one per (vendor, product, vulnerable,
 * confidence) in order of first appearance, `[vendor, product, vulnerable, confidence,
 * matches JSON]`. A name that is not a CPE is kept under vendor and product `*`.
 */
export function productRows(matches: CpeMatch[]): Param[][] {
  const groups = new Map<string, { row: Param[]; list: ProductMatch[] }>();
  for (const c of matches) {
    const n = parseCpe(c.cpe);
    const vendor = n?.vendor ?? '*';
    const product = n?.product ?? '*';
    const vulnerable = c.vulnerable ? 1 : 0;
    const key = `${vendor}\u0000${product}\u0000${vulnerable}\u0000${c.confidence}`;
    const g = groups.get(key);
    if (g) g.list.push(productMatch(c));
    else
      groups.set(key, {
        row: [vendor, product, vulnerable, c.confidence],
        list: [productMatch(c)],
      });
  }
  const rows: Param[][] = [];
  for (const g of groups.values()) {
    g.row.push(JSON.stringify(g.list));
    rows.push(g.row);
  }
  return rows;
}
