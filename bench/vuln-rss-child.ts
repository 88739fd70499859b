/**
 * Child process for bench/vuln-sync.ts: syncs one input into one store and prints the record
 * count, the time and this process's peak RSS (so the figure is the sync's own memory).
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

// The built code, as `mamori vuln sync` runs it (parse thread included).
const dist = (p: string) => import(pathToFileURL(join(import.meta.dirname, '..', 'dist', p)).href);
const { openDb } = (await dist('storage/index.js')) as typeof import('../src/storage/index.js');
const { syncFrom } = (await dist('vuln/index.js')) as typeof import('../src/vuln/index.js');

const [spec, source, from] = process.argv.slice(2) as [string, 'osv' | 'nvd' | 'jvn', string];
const store = await openDb(spec);
const t0 = performance.now();
const s = await syncFrom(store, { source, from });
const ms = performance.now() - t0;
await store.close();
process.stdout.write(
  `${JSON.stringify({ records: s.records, errors: s.errors.length, ms, maxRssKb: process.resourceUsage().maxRSS })}\n`,
);
