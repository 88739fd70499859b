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

export function recordHash(rec: VulnRecord): string {
  return oneShotHash('sha256', JSON.stringify(rec), 'hex');
}

/** The record row's values after `advisory_id` (which only the store can know). */
function recordTail(rec: VulnRecord, hash: string): Param[] {
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
    hash,
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
  const hash = recordHash(rec);
  const p: PreparedRecord = {
    source: rec.source,
    id: rec.id,
    aliases: rec.aliases,
    hash,
    record: recordTail(rec, hash),
    affected: rec.affected.map((a) => [
      a.ecosystem,
      ecoKey(a.ecosystem),
      nameKey(a.ecosystem, a.name),
      a.name,
      a.purl ?? null,
      JSON.stringify(a.ranges),
      JSON.stringify(a.versions),
    ]),
    cpes: rec.cpes.map((c) => {
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
    }),
  };
  if (rec.withdrawn !== undefined) p.withdrawn = rec.withdrawn;
  return p;
}
