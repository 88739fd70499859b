/**
 * `search`: a parsed query (core/query.ts) compiled to SQL where every value is a bound
 * parameter (kysely's sql template), with free text over banners and titles through FTS5 on
 * SQLite and a tsvector on PostgreSQL, facets with counts, and the issue's JSON shape.
 * Not the parser.
 */
import { type RawBuilder, sql } from 'kysely';
import { MamoriError } from '../shared/errors.js';
import type { Store } from '../storage/index.js';
import { addrKey, cidrKeyRange, parseAddr, parseCidr } from './core/cidr.js';
import { FIELDS, parseQuery, type QueryNode } from './core/query.js';

export interface SearchMatch {
  ip: string;
  port: number;
  transport: string;
  protocol: string | null;
  vendor: string | null;
  product: string | null;
  version: string | null;
  title: string | null;
  auth_required: boolean | null;
  findings: string[];
  seen: string;
}

export interface SearchResult {
  /** Exact when `total_relation` is "eq"; a lower bound (the count cap) when "gte". */
  total: number;
  /** "eq": `total` is exact; "gte": more than TOTAL_CAP matched and counting stopped there. */
  total_relation: 'eq' | 'gte';
  /**
   * How many matches the facets counted: all of them when `total_relation` is "eq", else the
   * TOTAL_CAP matches the counting pass found, in index order (like Elasticsearch's sampler aggregation).
   */
  facets_over: number;
  matches: SearchMatch[];
  facets: Record<string, { value: string | number | boolean | null; count: number }[]>;
}

function likePattern(v: string, wrap: boolean): string {
  const esc = v.replace(/[\\%_]/g, (c) => `\\${c}`).replace(/\*/g, '%');
  return wrap && !v.includes('*') ? `%${esc}%` : esc;
}

function ftsPhrase(v: string): string {
  return `"${v.replace(/"/g, '""')}"`;
}

/** Compile the tree to a boolean SQL expression; values only ever as parameters. */
function compile(node: QueryNode, backend: Store['backend']): RawBuilder<unknown> {
  switch (node.type) {
    case 'all':
      return sql`1 = 1`;
    case 'and':
      return sql`(${sql.join(
        node.items.map((n) => compile(n, backend)),
        sql` and `,
      )})`;
    case 'or':
      return sql`(${sql.join(
        node.items.map((n) => compile(n, backend)),
        sql` or `,
      )})`;
    case 'not':
      return sql`not coalesce(${compile(node.item, backend)}, false)`;
    case 'text':
      if (backend === 'postgres') return sql`s.tsv @@ phraseto_tsquery('simple', ${node.value})`;
      return sql`s.id in (select rowid from exposure_service_fts where exposure_service_fts match ${ftsPhrase(node.value)})`;
    case 'field': {
      const spec = FIELDS[node.name]!;
      const col = sql.ref(`s.${spec.column}`);
      const v = node.value;
      switch (spec.kind) {
        case 'int':
          return sql`${col} = ${Number(v)}`;
        case 'bool':
          return sql`${col} = ${v === 'true' ? 1 : 0}`;
        case 'date':
          return node.name === 'after'
            ? sql`${col} >= ${new Date(v).toISOString()}`
            : sql`${col} < ${new Date(v).toISOString()}`;
        case 'net': {
          const c = v.includes('/') ? parseCidr(v) : parseCidr(v);
          const { lo, hi } = cidrKeyRange(c);
          return sql`${col} between ${lo} and ${hi}`;
        }
        case 'like':
          return sql`lower(${col}) like ${likePattern(v.toLowerCase(), true)} escape '\\'`;
        case 'ci':
          if (v.includes('*'))
            return sql`lower(${col}) like ${likePattern(v.toLowerCase(), false)} escape '\\'`;
          return sql`lower(${col}) = ${v.toLowerCase()}`;
        default:
          if (v.includes('*')) return sql`${col} like ${likePattern(v, false)} escape '\\'`;
          return sql`${col} = ${v}`;
      }
    }
  }
}

/**
 * Counting stops here (Elasticsearch's track_total_hits default): an exact count over hundreds
 * of thousands of matches costs seconds on SQLite, and nobody pages through them.
 */
export const TOTAL_CAP = 10_000;

/**
 * SQLite only: when free text is ANDed at the top of the query, drive the search from the FTS5
 * index (which yields rowids in order, newest first, and stops at a LIMIT) instead of
 * materialising every full-text match into an IN list. Returns the FTS5 expression and the rest.
 */
function ftsDriver(tree: QueryNode): { match: string; rest: QueryNode } | null {
  const items = tree.type === 'and' ? tree.items : [tree];
  const texts = items.filter((n) => n.type === 'text');
  if (texts.length === 0) return null;
  const others = items.filter((n) => n.type !== 'text');
  const rest: QueryNode =
    others.length === 0
      ? { type: 'all' }
      : others.length === 1
        ? others[0]!
        : { type: 'and', items: others };
  return { match: texts.map((n) => ftsPhrase(n.value)).join(' AND '), rest };
}

/** A top-level `net:`/`ip:` range: the rows are then found through the ip_key index. */
function hasTopNet(tree: QueryNode): boolean {
  const items = tree.type === 'and' ? tree.items : [tree];
  return items.some((n) => n.type === 'field' && FIELDS[n.name]?.kind === 'net');
}

export interface SearchOptions {
  limit?: number;
  facets?: string[];
  /** Values per facet (default 10). */
  facetSize?: number;
  /** Where counting stops (default TOTAL_CAP); smaller in tests. */
  totalCap?: number;
}

/**
 * @example await search(store, 'port:554 has_auth:false', { facets: ['product'] })
 */
export async function search(
  store: Store,
  query: string,
  options: SearchOptions = {},
): Promise<SearchResult> {
  const tree = parseQuery(query);
  const limit = options.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 0 || limit > 10000) {
    throw new MamoriError('E_USAGE', '--limit must be an integer 0-10000');
  }
  for (const f of options.facets ?? []) {
    if (!FIELDS[f]?.facet) {
      throw new MamoriError('E_USAGE', `--facet: cannot facet on "${f}"`, {
        hint: `facets: ${Object.entries(FIELDS)
          .filter(([, s]) => s.facet)
          .map(([k]) => k)
          .join(', ')}`,
      });
    }
  }
  const cap = options.totalCap ?? TOTAL_CAP;
  const db = store.db;
  const driver = store.backend === 'sqlite' ? ftsDriver(tree) : null;
  const from = driver
    ? sql`exposure_service_fts join exposure_service s on s.id = exposure_service_fts.rowid`
    : sql`exposure_service s`;
  const where = driver
    ? sql`exposure_service_fts match ${driver.match} and ${compile(driver.rest, store.backend)}`
    : compile(tree, store.backend);
  // Newest first. From FTS5: its rowid order. With a top-level net range on SQLite, `+s.id`
  // keeps the planner from walking the whole table in id order hoping to meet the range early.
  const orderKey = driver
    ? sql`exposure_service_fts.rowid`
    : store.backend === 'sqlite' && hasTopNet(tree)
      ? sql`+s.id`
      : sql`s.id`;
  // Phase 1: the ids of at most cap + 1 matches, in no order, so the planner takes the
  // cheapest path (often a covering index) and stops early on a big match set.
  // Facet columns come along in the same pass (no second lookup of the same rows).
  const facetNames = options.facets ?? [];
  const facetCols = facetNames.map((f, i) => {
    const spec = FIELDS[f]!;
    const col = f === 'ip' ? sql.ref('s.ip') : sql.ref(`s.${spec.column}`);
    return sql`, ${col} as ${sql.ref(`f${i}`)}`;
  });
  const idRows = await sql<
    { id: number | string } & Record<string, string | number | null>
  >`select s.id${sql.join(facetCols, sql``)} from ${from} where ${where} limit ${cap + 1}`.execute(
    db,
  );
  const ids = idRows.rows.map((r) => Number(r.id));
  const capped = ids.length > cap;
  if (capped) ids.length = cap;
  const total = ids.length;
  const idIn = (list: number[]) =>
    store.backend === 'postgres'
      ? sql`s.id = any(${list})`
      : sql`s.id in (select value from json_each(${JSON.stringify(list)}))`;
  // Phase 2: the page, newest first. Few matches: sort the ids here and fetch only the page;
  // many: let an index walk in id order stop after `limit` rows.
  const pageIds = capped ? [] : [...ids].sort((x, y) => y - x).slice(0, limit);
  const page = capped
    ? sql`from ${from} where ${where} order by ${orderKey} desc`
    : sql`from exposure_service s where ${idIn(pageIds)} order by s.id desc`;
  const rows =
    !capped && pageIds.length === 0
      ? { rows: [] }
      : await sql<{
          ip: string;
          port: number;
          transport: string;
          protocol: string | null;
          vendor: string | null;
          product: string | null;
          version: string | null;
          title: string | null;
          auth_required: number | null;
          last_seen: string;
        }>`select s.ip, s.port, s.transport, s.protocol, s.vendor, s.product, s.version, s.title, s.auth_required, s.last_seen
     ${page} limit ${limit}`.execute(db);
  const findingsBy = new Map<string, string[]>();
  if (rows.rows.length) {
    const fr = await db
      .selectFrom('exposure_finding')
      .select(['ip', 'port', 'kind'])
      .where('ip', 'in', [...new Set(rows.rows.map((r) => r.ip))])
      .orderBy('kind')
      .execute();
    for (const f of fr) {
      const k = `${f.ip}|${f.port}`;
      findingsBy.set(k, [...(findingsBy.get(k) ?? []), f.kind]);
    }
  }
  const matches: SearchMatch[] = rows.rows.map((r) => ({
    ip: r.ip,
    port: Number(r.port),
    transport: r.transport,
    protocol: r.protocol,
    vendor: r.vendor,
    product: r.product,
    version: r.version,
    title: r.title,
    auth_required: r.auth_required === null ? null : Number(r.auth_required) === 1,
    findings: findingsBy.get(`${r.ip}|${r.port}`) ?? [],
    seen: r.last_seen,
  }));
  // Facets: exact over the whole match set when it was counted exactly; else over the
  // cap matches phase 1 found (a sample, like Elasticsearch's sampler aggregation),
  // counted here from the columns phase 1 fetched.
  const facets: SearchResult['facets'] = {};
  if (facetNames.length) {
    const fr = idRows.rows.slice(0, cap);
    facetNames.forEach((f, i) => {
      const spec = FIELDS[f]!;
      const counts = new Map<string | number | null, number>();
      for (const r of fr) {
        let v = r[`f${i}`] ?? null;
        if (typeof v === 'bigint') v = Number(v);
        counts.set(v, (counts.get(v) ?? 0) + 1);
      }
      const sorted = [...counts].sort(([va, a], [vb, b]) =>
        b !== a
          ? b - a
          : va === null
            ? vb === null
              ? 0
              : 1
            : vb === null
              ? -1
              : va < vb
                ? -1
                : va > vb
                  ? 1
                  : 0,
      );
      facets[f] = sorted.slice(0, options.facetSize ?? 10).map(([value, count]) => ({
        value:
          spec.kind === 'bool'
            ? value === null
              ? null
              : Number(value) === 1
            : spec.kind === 'int' && value !== null
              ? Number(value)
              : value,
        count,
      }));
    });
  }
  return { total, matches, facets, total_relation: capped ? 'gte' : 'eq', facets_over: total };
}

/** For the `ip:` facet and filters. */
export function ipKey(ip: string): string {
  return addrKey(parseAddr(ip));
}
