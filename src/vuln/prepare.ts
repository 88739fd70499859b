/**
 * A record made ready for the store, computed without the database: its content hash (how a
 * re-sync recognises an unchanged record) and the values of its rows, less the ids only the
 * store can assign (`advisory_id` first in the record row; `record_id, advisory_id` first in
 * each affected and CPE row). Pure and separate from the SQL that `upsertBatch` runs.
 */
import { hash as oneShotHash } from 'node:crypto';
import { parseCpe } from './core/cpe.js';
import { ecoKey, nameKey } from './core/names.js';
import type { VulnRecord } from './core/types.js';

/** One SQL parameter value. */
export type Param = string | number | null;

/**
 * The content hash of a prepared record: SHA-256 over exactly the values the store keeps (its
 * record row, then its affected and CPE rows). Hashing the stored values rather than the
 * parsed object means a re-sync reports "unchanged" exactly when nothing stored would change,
 * and it reuses the strings built for the rows instead of serialising the record again.
 * Values are joined with U+0000 (rows with U+0001, tables with U+0002); a null joins as the
 * empty string, so a value going from null to '' alone does not count as a change.
 */
export function rowsHash(record: Param[], affected: Param[][], cpes: Param[][]): string {
  let s = record.join('\u0000');
  s += '\u0002';
  for (const a of affected) s += `${a.join('\u0000')}\u0001`;
  s += '\u0002';
  for (const c of cpes) s += `${c.join('\u0000')}\u0001`;
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
  cpes: Param[][];
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
  const cpes: Param[][] = rec.cpes.map((c) => {
    const n = parseCpe(c.cpe);
    return [
      c.cpe,
      n?.vendor ?? '*',
      n?.product ?? '*',
      c.versionStartIncluding ?? null,
      c.versionStartExcluding ?? null,
      c.versionEndIncluding ?? null,
      c.versionEndExcluding ?? null,
      c.vulnerable ? 1 : 0,
      c.confidence,
      c.platform ? JSON.stringify(c.platform) : null,
    ];
  });
  const hash = rowsHash(record, affected, cpes);
  record.push(hash);
  const p: PreparedRecord = {
    source: rec.source,
    id: rec.id,
    aliases: rec.aliases,
    hash,
    record,
    affected,
    cpes,
  };
  if (rec.withdrawn !== undefined) p.withdrawn = rec.withdrawn;
  return p;
}
