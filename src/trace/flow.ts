/**
 * The taint flow of a recorded result as a graph (for the console): which transactions the
 * taint passed through and how much of it each output carried, recomputed from the stored chain
 * with the same model, fee rule and height limit as the recorded run. And the screening log:
 * each deposit screened through the console or the API, who asked and the verdict.
 * Not a new model: the figures are `taint()`'s own (its per-output `watched` figures).
 */
import { MamoriError } from '../shared/errors.js';
import type { Store } from '../storage/index.js';
import { outpointKey, parseOutpoint } from './core/graph.js';
import { type TaintModel, taint } from './core/taint.js';
import { loadReachable, type ScreenResult } from './store.js';

export interface FlowNode {
  txid: string;
  height: number;
  /** Hops from the start transactions (0 = holds a start output). */
  depth: number;
  start: boolean;
}

export interface FlowEdge {
  /** The transaction whose output carries the taint. */
  from: string;
  vout: number;
  /** The transaction that spends it within the height limit, or null (unspent there). */
  to: string | null;
  value: number;
  tainted: number;
}

export interface TaintFlow {
  resultId: number;
  model: TaintModel;
  feeTaint: boolean;
  maxHeight: number | null;
  label: string | null;
  start: string[];
  nodes: FlowNode[];
  edges: FlowEdge[];
  /** Edges with taint in the whole flow; `edges` holds at most `maxEdges` of them. */
  totalEdges: number;
  truncated: boolean;
}

const num = (v: number | string | bigint | null): number => Number(v ?? 0);

/**
 * The flow of recorded taint result `resultId`, nearest hops first, at most `maxEdges` edges.
 * @example const flow = await taintFlow(store, 3, { maxEdges: 60 });
 */
export async function taintFlow(
  store: Store,
  resultId: number,
  opts: { maxEdges?: number } = {},
): Promise<TaintFlow> {
  const row = await store.db
    .selectFrom('trace_result')
    .select(['id', 'model', 'fee_taint', 'max_height', 'start', 'label'])
    .where('id', '=', resultId)
    .executeTakeFirst();
  if (!row)
    throw new MamoriError('E_NOT_FOUND', `no recorded taint result ${resultId}`, {
      hint: 'record one with mamori trace taint --record',
    });
  const model: TaintModel = row.model === 'poison' ? 'poison' : 'haircut';
  const startKeys = JSON.parse(row.start) as string[];
  const start = startKeys.map(parseOutpoint);
  const feeTaint = row.fee_taint === 1;
  const maxHeight = row.max_height === null ? undefined : Number(row.max_height);
  const graph = await loadReachable(store, start, { feeTaint, maxHeight });
  const watch = new Set<string>();
  for (const tx of graph.txs.values())
    for (let v = 0; v < tx.outputs.length; v++) watch.add(outpointKey(tx.txid, v));
  const result = taint(graph, { model, start, feeTaint, maxHeight, watch });
  const limit = maxHeight ?? Number.POSITIVE_INFINITY;
  const all: FlowEdge[] = [];
  for (const [key, tainted] of Object.entries(result.watched)) {
    if (tainted <= 0) continue;
    const { txid, vout } = parseOutpoint(key);
    const tx = graph.tx(txid);
    if (!tx) continue;
    const by = graph.spender(txid, vout);
    const spender = by ? graph.tx(by) : undefined;
    all.push({
      from: txid,
      vout,
      to: spender && spender.height <= limit ? spender.txid : null,
      value: tx.outputs[vout]?.value ?? 0,
      tainted,
    });
  }
  // Depth: hops from the start transactions along tainted edges.
  const depth = new Map<string, number>();
  const startTxs = [...new Set(start.map((s) => s.txid))];
  for (const s of startTxs) depth.set(s, 0);
  const out = new Map<string, FlowEdge[]>();
  for (const e of all) out.set(e.from, [...(out.get(e.from) ?? []), e]);
  let frontier = startTxs;
  while (frontier.length) {
    const next: string[] = [];
    for (const f of frontier)
      for (const e of out.get(f) ?? [])
        if (e.to && !depth.has(e.to)) {
          depth.set(e.to, depth.get(f)! + 1);
          next.push(e.to);
        }
    frontier = next;
  }
  const height = (txid: string) => graph.tx(txid)?.height ?? 0;
  const order = (e: FlowEdge) => depth.get(e.from) ?? Number.MAX_SAFE_INTEGER;
  all.sort(
    (a, b) =>
      order(a) - order(b) ||
      height(a.from) - height(b.from) ||
      a.from.localeCompare(b.from) ||
      a.vout - b.vout,
  );
  const maxEdges = opts.maxEdges ?? 60;
  const edges = all.slice(0, maxEdges);
  const ids = new Set<string>();
  for (const e of edges) {
    ids.add(e.from);
    if (e.to) ids.add(e.to);
  }
  for (const s of startTxs) ids.add(s);
  const nodes = [...ids]
    .map((txid) => ({
      txid,
      height: height(txid),
      depth: depth.get(txid) ?? 0,
      start: startTxs.includes(txid),
    }))
    .sort((a, b) => a.depth - b.depth || a.height - b.height || a.txid.localeCompare(b.txid));
  return {
    resultId: Number(row.id),
    model,
    feeTaint,
    maxHeight: maxHeight ?? null,
    label: row.label,
    start: startKeys,
    nodes,
    edges,
    totalEdges: all.length,
    truncated: all.length > edges.length,
  };
}

export interface ScreeningEntry {
  id: number;
  createdAt: string;
  actor: string;
  target: string;
  kind: string;
  model: string;
  depositValue: number;
  taintedValue: number;
  verdict: string;
  labels: { label: string; taintedValue: number }[];
}

/**
 * Add a screening to the log.
 * @example await recordScreening(store, await screenDeposit(store, txid), 'aiko', nowIso)
 */
export async function recordScreening(
  store: Store,
  r: ScreenResult,
  actor: string,
  nowIso: string,
): Promise<number> {
  const row = await store.db
    .insertInto('trace_screening')
    .values({
      created_at: nowIso,
      actor,
      target: r.target,
      kind: r.kind,
      model: r.model,
      deposit_value: r.depositValue,
      tainted_value: r.taintedValue,
      verdict: r.verdict,
      labels: JSON.stringify(
        r.sources.map((s) => ({ label: s.label, taintedValue: s.taintedValue })),
      ),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

/** The screening log, newest first. */
export async function screeningLog(store: Store, limit = 50): Promise<ScreeningEntry[]> {
  const rows = await store.db
    .selectFrom('trace_screening')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: Number(r.id),
    createdAt: r.created_at,
    actor: r.actor,
    target: r.target,
    kind: r.kind,
    model: r.model,
    depositValue: num(r.deposit_value),
    taintedValue: num(r.tainted_value),
    verdict: r.verdict,
    labels: JSON.parse(r.labels) as ScreeningEntry['labels'],
  }));
}
