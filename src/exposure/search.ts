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
   * newest TOTAL_CAP matches (like Elasticsearch's sampler aggregation).
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

export interface SearchOptions {
  limit?: number;
  facets?: string[];
  /** Values per facet (default 10). */
  facetSize?: number;
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
  const where = compile(tree, store.backend);
  const db = store.db;
  // count at most TOTAL_CAP + 1 rows: stops early on a big match set
  const totalRow = await sql<{
    n: number | string;
  }>`select count(*) as n from (select 1 from exposure_service s where ${where} limit ${TOTAL_CAP + 1}) c`.execute(
    db,
  );
  const counted = Number(totalRow.rows[0]?.n ?? 0);
  const capped = counted > TOTAL_CAP;
  const total = capped ? TOTAL_CAP : counted;
  const rows = await sql<{
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
     from exposure_service s where ${where}
     order by s.id desc limit ${limit}`.execute(db);
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
  const facets: SearchResult['facets'] = {};
  for (const f of options.facets ?? []) {
    const spec = FIELDS[f]!;
    const col = f === 'ip' ? sql.ref('s.ip') : sql.ref(`s.${spec.column}`);
    // exact over the whole match set when it was counted exactly; else over the newest TOTAL_CAP
    const inner = capped
      ? sql`select ${col} as v from exposure_service s where ${where} order by s.id desc limit ${TOTAL_CAP}`
      : sql`select ${col} as v from exposure_service s where ${where}`;
    const fr = await sql<{
      value: string | number | null;
      n: number | string;
    }>`select f.v as value, count(*) as n from (${inner}) f
       group by f.v order by count(*) desc, case when f.v is null then 1 else 0 end, f.v limit ${options.facetSize ?? 10}`.execute(
      db,
    );
    facets[f] = fr.rows.map((r) => ({
      value:
        spec.kind === 'bool'
          ? r.value === null
            ? null
            : Number(r.value) === 1
          : spec.kind === 'int' && r.value !== null
            ? Number(r.value)
            : r.value,
      count: Number(r.n),
    }));
  }
  return { total, matches, facets, total_relation: capped ? 'gte' : 'eq', facets_over: total };
}

/** For the `ip:` facet and filters. */
export function ipKey(ip: string): string {
  return addrKey(parseAddr(ip));
}
