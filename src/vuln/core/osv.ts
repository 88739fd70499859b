/**
 * OSV schema records (JSON or YAML, already parsed to plain objects) → VulnRecord.
 * Checks the fields we rely on and says which one is wrong; keeps GIT ranges as they are.
 * Not a reader: the shell (sync.ts) turns bytes into objects and reports file positions.
 */
import {
  cvss2Score10,
  cvss3Score10,
  cvss4Score10,
  parseSeverityWord,
  type Severity,
  severityOf2,
  severityOf3,
  severityRank,
} from './cvss.js';
import { toUtcIso } from './names.js';
import type { AffectedPackage, AffectedRange, RangeEvent, Reference, VulnRecord } from './types.js';

export class RecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecordError';
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function str(o: Obj, key: string, where: string, required = false): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) {
    if (required) throw new RecordError(`${where}${key} is missing`);
    return undefined;
  }
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'string') throw new RecordError(`${where}${key} is not a string`);
  return v;
}

function arr(o: Obj, key: string, where: string): unknown[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new RecordError(`${where}${key} is not a list`);
  return v;
}

const EVENT_KEYS = ['introduced', 'fixed', 'last_affected', 'limit'] as const;

function parseRange(r: unknown, where: string): AffectedRange {
  if (!isObj(r)) throw new RecordError(`${where} is not a mapping`);
  const type = str(r, 'type', `${where}.`, true)!;
  const events: RangeEvent[] = arr(r, 'events', `${where}.`).map((e, i) => {
    if (!isObj(e)) throw new RecordError(`${where}.events[${i}] is not a mapping`);
    const ev: RangeEvent = {};
    for (const k of EVENT_KEYS) {
      const v = str(e, k, `${where}.events[${i}].`);
      if (v !== undefined) ev[k] = v;
    }
    if (Object.keys(ev).length !== 1)
      throw new RecordError(`${where}.events[${i}] needs exactly one of ${EVENT_KEYS.join('|')}`);
    return ev;
  });
  const repo = str(r, 'repo', `${where}.`);
  return repo ? { type, repo, events } : { type, events };
}

/**
 * @example normalizeOsv({ id: 'PYSEC-2020-342', aliases: ['CVE-2020-13921'], modified: '…' })
 */
export function normalizeOsv(input: unknown): VulnRecord {
  if (!isObj(input)) throw new RecordError('record is not a mapping');
  const id = str(input, 'id', '', true)!;
  if (!/^[A-Za-z0-9][A-Za-z0-9._:-]*$/.test(id)) throw new RecordError(`id is malformed: ${id}`);
  const where = `${id}: `;
  const aliases = new Set<string>();
  for (const a of arr(input, 'aliases', where)) {
    if (typeof a !== 'string') throw new RecordError(`${where}aliases holds a non-string`);
    if (a !== id) aliases.add(a);
  }
  const affected: AffectedPackage[] = arr(input, 'affected', where).map((a, i) => {
    const w = `${where}affected[${i}]`;
    if (!isObj(a)) throw new RecordError(`${w} is not a mapping`);
    const pkg = a.package;
    if (!isObj(pkg)) throw new RecordError(`${w}.package is missing`);
    const ecosystem = str(pkg, 'ecosystem', `${w}.package.`, true)!;
    const name = str(pkg, 'name', `${w}.package.`, true)!;
    const purl = str(pkg, 'purl', `${w}.package.`);
    const ranges = arr(a, 'ranges', `${w}.`).map((r, j) => parseRange(r, `${w}.ranges[${j}]`));
    const versions = arr(a, 'versions', `${w}.`).map((v) => String(v));
    return { ecosystem, name, ...(purl ? { purl } : {}), ranges, versions };
  });
  const references: Reference[] = arr(input, 'references', where).flatMap((r) =>
    isObj(r) && typeof r.url === 'string'
      ? [{ type: typeof r.type === 'string' ? r.type : 'WEB', url: r.url }]
      : [],
  );
  const rec: VulnRecord = {
    source: 'osv',
    id,
    aliases: [...aliases],
    cwes: [],
    references,
    affected,
    cpes: [],
  };
  const summary = str(input, 'summary', where);
  const details = str(input, 'details', where);
  if (summary) rec.title = summary;
  if (details) rec.description = details;
  for (const k of ['published', 'modified', 'withdrawn'] as const) {
    const raw = str(input, k, where);
    if (raw === undefined) continue;
    const iso = toUtcIso(raw);
    if (!iso) throw new RecordError(`${where}${k} is not a date: ${raw}`);
    rec[k] = iso;
  }
  let best: { severity: Severity; score10?: number } | undefined;
  const consider = (severity: Severity, score10?: number) => {
    if (!best || severityRank(severity) > severityRank(best.severity))
      best = score10 === undefined ? { severity } : { severity, score10 };
  };
  for (const s of arr(input, 'severity', where)) {
    if (!isObj(s) || typeof s.score !== 'string') continue;
    const type = String(s.type ?? '');
    if (type === 'CVSS_V3') {
      rec.cvssV3 = s.score;
      const sc = cvss3Score10(s.score);
      if (sc !== undefined) consider(severityOf3(sc), sc);
    } else if (type === 'CVSS_V2') {
      rec.cvssV2 = s.score;
      const sc = cvss2Score10(s.score);
      if (sc !== undefined) consider(severityOf2(sc), sc);
    } else if (type === 'CVSS_V4') {
      rec.cvssV4 = s.score;
      const sc = cvss4Score10(s.score);
      if (sc !== undefined) consider(severityOf3(sc), sc);
    }
  }
  const dbs = input.database_specific;
  if (isObj(dbs)) {
    const w = parseSeverityWord(typeof dbs.severity === 'string' ? dbs.severity : undefined);
    if (w && !best) consider(w);
    const cwes = dbs.cwe_ids;
    if (Array.isArray(cwes)) rec.cwes = cwes.filter((c): c is string => typeof c === 'string');
  }
  if (best) {
    rec.severity = best.severity;
    if (best.score10 !== undefined) rec.cvssScore10 = best.score10;
  }
  return rec;
}
