/**
 * `vuln sync` from files, directories, zips and URLs: entries are read and parsed one at a
 * time (input.ts) and the records upserted in batched transactions, with the store in
 * bulk-load mode. Malformed records are reported with
 * file and position while good ones land. Idempotent: a re-run (or a resumed, interrupted run)
 * only rewrites records whose content changed.
 */
import { MamoriError } from '../shared/errors.js';
import type { Progress } from '../shared/progress.js';
import type { Store } from '../storage/index.js';
import type { Source } from './core/types.js';
import { type InputEntry, inputEntries, type Parsed, parserFor, type SyncError } from './input.js';
import { type PreparedRecord, prepareRecord } from './prepare.js';
import { type UpsertSummary, upsertPrepared, withBulkSync } from './store.js';

/**
 * Records per transaction by default. Measured on NVD API pages (bench vuln-sync): 1,000 per
 * commit beat 500 (commits) and 5,000 (garbage held across a batch). A cut run loses at most
 * one batch, which a re-run redoes.
 */
export const SYNC_BATCH = 1000;

export interface SyncSummary extends UpsertSummary {
  source: Source;
  from: string;
  files: number;
  records: number;
  errors: SyncError[];
}

/** A summary with nothing counted yet. */
export function emptySummary(source: Source, from: string): SyncSummary {
  return {
    source,
    from,
    files: 0,
    records: 0,
    added: 0,
    updated: 0,
    unchanged: 0,
    withdrawn: 0,
    errors: [],
  };
}

/** Add one batch's upsert counts to a running total. */
export function addCounts(total: UpsertSummary, batch: UpsertSummary): void {
  total.added += batch.added;
  total.updated += batch.updated;
  total.unchanged += batch.unchanged;
  total.withdrawn += batch.withdrawn;
}

export interface SyncOptions {
  source: Source;
  from: string;
  batchSize?: number;
  progress?: Progress;
  fetchFn?: typeof fetch;
  signal?: AbortSignal;
  /** Skip records last modified before this ISO date (incremental imports from full mirrors). */
  since?: string;
  /** Parses one entry into records; defaults by source. */
  parse?: (entry: InputEntry) => Iterable<Parsed>;
}

/**
 * @example const s = await syncFrom(store, { source: 'osv', from: '/mirror/pypa' }); s.added
 */
export async function syncFrom(store: Store, options: SyncOptions): Promise<SyncSummary> {
  const batchSize = options.batchSize ?? SYNC_BATCH;
  const summary = emptySummary(options.source, options.from);
  const parse = options.parse ?? (await parserFor(options.source));
  // The same id twice in one batch is the store's to resolve (the later copy wins).
  let batch: PreparedRecord[] = [];
  const flush = async () => {
    addCounts(summary, await upsertPrepared(store, batch));
    options.progress?.tick(batch.length, `${summary.added} new, ${summary.errors.length} errors`);
    batch = [];
  };
  await withBulkSync(
    store,
    async () => {
      for await (const entry of inputEntries(options.from, options)) {
        if (options.signal?.aborted)
          throw new MamoriError('E_INTERRUPTED', 'sync interrupted; re-run to resume');
        summary.files++;
        for (const p of parse(entry)) {
          if (!p.ok) {
            summary.errors.push(p.error);
            continue;
          }
          const mod = p.record.modified ?? p.record.published;
          if (options.since && mod && mod < options.since) continue;
          summary.records++;
          batch.push(prepareRecord(p.record));
          if (batch.length >= batchSize) await flush();
        }
      }
      await flush();
    },
    options.progress,
  );
  return summary;
}
