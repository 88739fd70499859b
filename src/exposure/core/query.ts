/**
 * The exposure search language: parse (a peggy grammar, query.peggy), check field names and
 * values, and print back (parse ∘ format is the identity on the tree). Pure. The tree becomes
 * SQL with bound parameters only in ../search.ts; nothing here builds SQL text.
 */
import { MamoriError } from '../../shared/errors.js';
import { parseCidr } from './cidr.js';
import { parse as peggyParse } from './query-parser.generated.js';

export type QueryNode =
  | { type: 'all' }
  | { type: 'and'; items: QueryNode[] }
  | { type: 'or'; items: QueryNode[] }
  | { type: 'not'; item: QueryNode }
  | { type: 'field'; name: string; value: string; quoted: boolean; pos: number }
  | { type: 'text'; value: string; quoted: boolean; pos: number };

export type FieldKind = 'int' | 'text' | 'ci' | 'like' | 'bool' | 'net' | 'date';

/** Searchable fields, their column and how values compare. */
export const FIELDS: Record<string, { column: string; kind: FieldKind; facet: boolean }> = {
  port: { column: 'port', kind: 'int', facet: true },
  transport: { column: 'transport', kind: 'ci', facet: true },
  protocol: { column: 'protocol', kind: 'ci', facet: true },
  product: { column: 'product', kind: 'ci', facet: true },
  vendor: { column: 'vendor', kind: 'ci', facet: true },
  version: { column: 'version', kind: 'text', facet: true },
  device: { column: 'device_type', kind: 'ci', facet: true },
  cpe: { column: 'cpe', kind: 'text', facet: true },
  title: { column: 'title', kind: 'like', facet: true },
  has_auth: { column: 'auth_required', kind: 'bool', facet: true },
  net: { column: 'ip_key', kind: 'net', facet: false },
  ip: { column: 'ip_key', kind: 'net', facet: true },
  'http.status': { column: 'http_status', kind: 'int', facet: true },
  'ssl.cert.subject.cn': { column: 'cert_cn', kind: 'ci', facet: true },
  after: { column: 'last_seen', kind: 'date', facet: false },
  before: { column: 'last_seen', kind: 'date', facet: false },
};

function pointAt(query: string, pos: number, why: string, hint?: string): MamoriError {
  // a window around the position, control characters shown as '?': the message stays short
  // and cannot drive a terminal
  const from = Math.max(0, pos - 40);
  const shown = query.slice(from, pos + 40).replace(/[\u0000-\u001f\u007f]/g, '?');
  return new MamoriError(
    'E_INPUT',
    `query: ${why} at position ${pos + 1}\n  ${shown}\n  ${' '.repeat(pos - from)}^`,
    {
      hint:
        hint ?? 'e.g. port:554 product:"Hikvision" -port:22 (see mamori exposure search --help)',
      details: { position: pos + 1 },
    },
  );
}

function checkValue(query: string, node: Extract<QueryNode, { type: 'field' }>): void {
  const spec = FIELDS[node.name];
  const valuePos = node.pos + node.name.length + 1;
  if (!spec) {
    throw pointAt(
      query,
      node.pos,
      `unknown field "${node.name}"`,
      `fields: ${Object.keys(FIELDS).join(', ')}`,
    );
  }
  const v = node.value;
  switch (spec.kind) {
    case 'int':
      if (!/^\d{1,5}$/.test(v))
        throw pointAt(query, valuePos, `${node.name} needs a number, not "${v}"`);
      break;
    case 'bool':
      if (v !== 'true' && v !== 'false')
        throw pointAt(query, valuePos, `${node.name} is true or false, not "${v}"`);
      break;
    case 'date':
      if (!/^\d{4}-\d{2}-\d{2}(T[\d:.]+Z?)?$/.test(v) || Number.isNaN(Date.parse(v))) {
        throw pointAt(query, valuePos, `${node.name} needs a date YYYY-MM-DD, not "${v}"`);
      }
      break;
    case 'net':
      try {
        parseCidr(v);
      } catch (err) {
        const p = (err as MamoriError).details?.position;
        throw pointAt(
          query,
          valuePos + (typeof p === 'number' ? p - 1 : 0),
          `${node.name}: ${(err as Error).message.split(' at position')[0]}`,
        );
      }
      break;
    default:
      if (v === '') throw pointAt(query, valuePos, `${node.name} needs a value`);
  }
}

function validate(query: string, node: QueryNode): void {
  switch (node.type) {
    case 'and':
    case 'or':
      for (const n of node.items) validate(query, n);
      return;
    case 'not':
      validate(query, node.item);
      return;
    case 'field':
      checkValue(query, node);
      return;
    default:
      return;
  }
}

/**
 * @example parseQuery('port:554 -has_auth:true') → { type: 'and', items: [field port, not field has_auth] }
 */
export function parseQuery(query: string): QueryNode {
  // control characters (NUL above all: PostgreSQL text cannot hold it) are never search input
  const control = query.search(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/);
  if (control >= 0) throw pointAt(query, control, 'control character in the query');
  if (query.length > MAX_QUERY_LENGTH)
    throw pointAt(query, MAX_QUERY_LENGTH, `query longer than ${MAX_QUERY_LENGTH} characters`);
  let tree: QueryNode;
  try {
    tree = peggyParse(query, {}) as QueryNode;
  } catch (err) {
    const e = err as { location?: { start: { offset: number } }; message: string };
    if (e.location) throw pointAt(query, e.location.start.offset, e.message.replace(/\.$/, ''));
    if (err instanceof RangeError)
      throw pointAt(query, 0, `query nested more than ${MAX_QUERY_DEPTH} levels deep`);
    throw err;
  }
  const depth = treeDepth(tree);
  if (depth > MAX_QUERY_DEPTH)
    throw pointAt(query, 0, `query nested ${depth} levels deep (at most ${MAX_QUERY_DEPTH})`);
  validate(query, tree);
  return tree;
}

/** Longest query and deepest tree accepted: bounds on the recursion of every later pass. */
export const MAX_QUERY_LENGTH = 8192;
export const MAX_QUERY_DEPTH = 64;

/** Depth of a query tree, without recursion (a hostile tree must not overflow the stack). */
function treeDepth(root: QueryNode): number {
  let max = 0;
  const stack: [QueryNode, number][] = [[root, 1]];
  while (stack.length) {
    const [node, d] = stack.pop()!;
    if (d > max) max = d;
    if (node.type === 'not') stack.push([node.item, d + 1]);
    else if (node.type === 'and' || node.type === 'or')
      for (const item of node.items) stack.push([item, d + 1]);
  }
  return max;
}

function formatValue(v: string, quoted: boolean): string {
  const needs =
    quoted || v === '' || /[\s()"\\]/.test(v) || /^-/.test(v) || /^(OR|AND|NOT)$/.test(v);
  return needs ? `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"` : v;
}

/** Print a tree back as query text (with explicit parentheses where precedence needs them). */
export function formatQuery(node: QueryNode): string {
  switch (node.type) {
    case 'all':
      return '';
    case 'field':
      return `${node.name}:${formatValue(node.value, node.quoted)}`;
    case 'text':
      return formatValue(node.value, node.quoted || node.value.includes(':'));
    case 'not':
      return `NOT ${node.item.type === 'and' || node.item.type === 'or' || node.item.type === 'not' ? `(${formatQuery(node.item)})` : formatQuery(node.item)}`;
    case 'and':
      return node.items
        .map((n) => (n.type === 'or' ? `(${formatQuery(n)})` : formatQuery(n)))
        .join(' AND ');
    case 'or':
      return node.items.map(formatQuery).join(' OR ');
  }
}

/** The tree without source positions and quoting (for comparing trees). */
export function stripPositions(node: QueryNode): unknown {
  return JSON.parse(
    JSON.stringify(node, (k, v) => (k === 'pos' || k === 'quoted' ? undefined : v)),
  );
}
