/**
 * JVN online for `vuln sync`: MyJVN's getVulnOverviewList and getVulnDetailInfo, paged and
 * incremental. The JVN parsers (VULDEF, JVNRSS/RDF, JSON) live in jvn-parse.ts.
 */
import { jvnRecords } from './core/jvn.js';
import { parseJvnDocument } from './jvn-parse.js';
import { addCounts, emptySummary } from './sync.js';

export { parseJvnDocument, parseJvnEntry } from './jvn-parse.js';

export const MYJVN_API = 'https://jvndb.jvn.jp/myjvn';

export interface JvnOnlineOptions {
  baseUrl?: string;
  /** Only entries updated (MyJVN "datePublished") on or after this JST date, YYYY-MM-DD. */
  since?: string;
  pageSize?: number;
  fetchFn?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** Pause between requests, to be polite to IPA's server (default 1 s). */
  delayMs?: number;
  progress?: import('../shared/progress.js').Progress;
  signal?: AbortSignal;
}

/**
 * MyJVN online: getVulnOverviewList paged by startItem/maxCountItem, then getVulnDetailInfo
 * for up to 10 ids per request; an entry whose detail cannot be had is stored from its
 * overview item. Each page is one transaction.
 * @example await syncJvnOnline(store, { baseUrl: 'http://127.0.0.1:8080/myjvn', since: '2025-04-01' })
 */
export async function syncJvnOnline(
  store: import('../storage/index.js').Store,
  o: JvnOnlineOptions = {},
): Promise<import('./sync.js').SyncSummary> {
  const { withBulkSync } = await import('./store.js');
  return withBulkSync(store, () => myJvnOnline(store, o), o.progress);
}

async function myJvnOnline(
  store: import('../storage/index.js').Store,
  o: JvnOnlineOptions,
): Promise<import('./sync.js').SyncSummary> {
  const { MamoriError } = await import('../shared/errors.js');
  const { upsertBatch, getSyncState, setSyncState } = await import('./store.js');
  const base = o.baseUrl ?? MYJVN_API;
  const fetchFn = o.fetchFn ?? fetch;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const delay = o.delayMs ?? 1000;
  const pageSize = o.pageSize ?? 50;
  const since = o.since ?? (await getSyncState(store, 'jvn', 'datePublishedStart'));
  const today = new Date(Date.now() + 9 * 3600_000).toISOString().slice(0, 10);
  const summary = emptySummary('jvn', base);
  const get = async (params: Record<string, string>): Promise<{ doc: unknown; url: string }> => {
    const url = new URL(base);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    let res: Response;
    try {
      res = await fetchFn(url, o.signal ? { signal: o.signal } : {});
    } catch (err) {
      throw new MamoriError('E_NETWORK', `MyJVN unreachable: ${(err as Error).message}`, {
        hint: 'offline? use --from with saved feeds',
      });
    }
    if (!res.ok) throw new MamoriError('E_NETWORK', `MyJVN answered HTTP ${res.status}`);
    const text = await res.text();
    if (delay) await sleep(delay);
    return {
      doc: parseJvnDocument(text),
      url: `${url.pathname}?method=${params.method}&startItem=${params.startItem ?? ''}`,
    };
  };
  let startItem = 1;
  let total = Number.POSITIVE_INFINITY;
  while (startItem <= total) {
    const params: Record<string, string> = {
      method: 'getVulnOverviewList',
      feed: 'hnd',
      startItem: String(startItem),
      maxCountItem: String(pageSize),
      rangeDatePublic: 'n',
      rangeDateFirstPublished: 'n',
      rangeDatePublished: 'n',
    };
    if (since) {
      const [y, m, d] = since.split('-');
      Object.assign(params, {
        datePublishedStartY: y!,
        datePublishedStartM: m!,
        datePublishedStartD: d!,
      });
    }
    const { doc, url } = await get(params);
    const rdf = (doc as { RDF?: { Status?: Record<string, string> } }).RDF;
    if (!rdf)
      throw new MamoriError(
        'E_NETWORK',
        'MyJVN answered something that is not a JVNRSS overview list',
      );
    const status = rdf.Status ?? {};
    if (status['@_retCd'] && status['@_retCd'].trim() !== '0')
      throw new MamoriError(
        'E_NETWORK',
        `MyJVN error ${status['@_errCd'] ?? ''}: ${status['@_errMsg'] ?? ''}`,
      );
    total = Number(status['@_totalRes'] ?? 0);
    summary.files++;
    const overview = jvnRecords(doc);
    const byId = new Map<string, import('./core/types.js').VulnRecord>();
    for (const r of overview) {
      if (r.ok) byId.set(r.record.id, r.record);
      else summary.errors.push({ file: url, position: r.at, message: r.message });
    }
    const ids = [...byId.keys()];
    for (let i = 0; i < ids.length; i += 10) {
      const { doc: detail, url: durl } = await get({
        method: 'getVulnDetailInfo',
        feed: 'hnd',
        vulnId: ids.slice(i, i + 10).join('+'),
      });
      let results: ReturnType<typeof jvnRecords> = [];
      try {
        results = jvnRecords(detail);
      } catch {
        results = [];
      }
      for (const r of results) {
        if (r.ok && byId.has(r.record.id)) {
          // The overview knows dcterms:issued; the detail knows everything else.
          const ov = byId.get(r.record.id)!;
          byId.set(r.record.id, { ...r.record, registered: r.record.registered ?? ov.registered! });
        } else if (!r.ok) summary.errors.push({ file: durl, position: r.at, message: r.message });
      }
    }
    const recs = [...byId.values()];
    summary.records += recs.length;
    addCounts(summary, await upsertBatch(store, recs));
    o.progress?.setTotal(total);
    o.progress?.tick(recs.length);
    const got = overview.length;
    if (got === 0) break;
    startItem += got;
  }
  await setSyncState(store, 'jvn', 'datePublishedStart', today);
  return summary;
}
