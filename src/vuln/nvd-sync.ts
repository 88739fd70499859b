/**
 * NVD input for `vuln sync`: API 2.0 pages from files (`--from`), or online from the CVE API
 * with paging, `lastModStartDate` increments, the published rate limits (5 requests per 30 s,
 * 50 with NVD_API_KEY) and retry with exponential backoff on 403/429/5xx. The key is sent only
 * in the `apiKey` header, never logged.
 */
import { MamoriError } from '../shared/errors.js';
import type { Progress } from '../shared/progress.js';
import type { Store } from '../storage/index.js';
import { nvdRecords } from './core/nvd.js';
import { getSyncState, setSyncState, upsertBatch, withBulkSync } from './store.js';
import { addCounts, emptySummary, type SyncSummary } from './sync.js';

export { parseNvdEntry } from './input.js';

export const NVD_API = 'https://services.nvd.nist.gov/rest/json/cves/2.0';

export interface NvdOnlineOptions {
  baseUrl?: string;
  /** The API key as bytes (zeroed by the caller after use); undefined = public rate. */
  apiKey?: Uint8Array;
  since?: string;
  pageSize?: number;
  fetchFn?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  progress?: Progress;
  signal?: AbortSignal;
  maxRetries?: number;
}

/** NVD's published limits: requests per rolling 30-second window. */
export function nvdWindow(hasKey: boolean): { requests: number; windowMs: number } {
  return { requests: hasKey ? 50 : 5, windowMs: 30_000 };
}

/**
 * Page through the CVE API and upsert each page in one transaction. Incremental: the last
 * successful run's start time is kept in vuln_sync_state and used as lastModStartDate.
 * @example await syncNvdOnline(store, { baseUrl: 'http://127.0.0.1:8080/cves', since: '2024-01-01' })
 */
export async function syncNvdOnline(store: Store, o: NvdOnlineOptions = {}): Promise<SyncSummary> {
  return withBulkSync(store, () => nvdOnline(store, o), o.progress);
}

async function nvdOnline(store: Store, o: NvdOnlineOptions): Promise<SyncSummary> {
  const base = o.baseUrl ?? NVD_API;
  const fetchFn = o.fetchFn ?? fetch;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = o.now ?? Date.now;
  const pageSize = o.pageSize ?? 2000;
  const maxRetries = o.maxRetries ?? 5;
  const { requests, windowMs } = nvdWindow(o.apiKey !== undefined);
  const sent: number[] = [];
  const startedAt = new Date(now()).toISOString();
  const since = o.since ?? (await getSyncState(store, 'nvd', 'lastModStartDate'));
  const summary = emptySummary('nvd', base);
  let startIndex = 0;
  let total = Number.POSITIVE_INFINITY;
  while (startIndex < total) {
    const url = new URL(base);
    url.searchParams.set('startIndex', String(startIndex));
    url.searchParams.set('resultsPerPage', String(pageSize));
    if (since) {
      // The API wants both ends and at most 120 days apart; a longer gap needs a full sync.
      url.searchParams.set('lastModStartDate', new Date(since).toISOString());
      url.searchParams.set('lastModEndDate', startedAt);
    }
    let body: unknown;
    for (let attempt = 0; ; attempt++) {
      // Rate limit: at most `requests` in any window.
      while (sent.length >= requests && now() - sent[0]! < windowMs)
        await sleep(windowMs - (now() - sent[0]!) + 10);
      while (sent.length && now() - sent[0]! >= windowMs) sent.shift();
      sent.push(now());
      if (o.signal?.aborted)
        throw new MamoriError('E_INTERRUPTED', 'sync interrupted; re-run to resume');
      let res: Response;
      try {
        const headers: Record<string, string> = {};
        if (o.apiKey) headers.apiKey = new TextDecoder().decode(o.apiKey);
        res = await fetchFn(url, { headers, ...(o.signal ? { signal: o.signal } : {}) });
      } catch (err) {
        if (attempt >= maxRetries)
          throw new MamoriError('E_NETWORK', `NVD unreachable: ${(err as Error).message}`, {
            hint: 'offline? use --from <dir> with saved API pages',
          });
        await sleep(1000 * 2 ** attempt);
        continue;
      }
      if (res.ok) {
        body = await res.json();
        break;
      }
      if ((res.status === 403 || res.status === 429 || res.status >= 500) && attempt < maxRetries) {
        const retryAfter = Number(res.headers.get('retry-after'));
        await sleep(
          Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : 1000 * 2 ** attempt,
        );
        continue;
      }
      throw new MamoriError('E_NETWORK', `NVD answered HTTP ${res.status} for ${url.pathname}`);
    }
    const page = body as {
      totalResults?: number;
      resultsPerPage?: number;
      vulnerabilities?: unknown[];
    };
    total = Number(page.totalResults ?? 0);
    summary.files++;
    const good = [];
    for (const r of nvdRecords(body)) {
      if (r.ok) good.push(r.record);
      else
        summary.errors.push({
          file: `${url.pathname}?startIndex=${startIndex}`,
          position: r.at,
          message: r.message,
        });
    }
    summary.records += good.length;
    addCounts(summary, await upsertBatch(store, good));
    o.progress?.setTotal(total);
    o.progress?.tick(good.length);
    const n = page.vulnerabilities?.length ?? 0;
    if (n === 0) break;
    startIndex += n;
  }
  await setSyncState(store, 'nvd', 'lastModStartDate', startedAt);
  return summary;
}
