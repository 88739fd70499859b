/**
 * The trace area's storage shell: ingest parsed blocks into `trace_block`, `trace_tx` and
 * `trace_output` (with spent-by links) in one transaction; tags; loading the subgraph a taint
 * query can reach and running the pure models over it; deposit screening.
 * Not the models themselves (core/taint.ts) nor parsing (core/block.ts).
 */
import type { Kysely } from 'kysely';
import { MamoriError } from '../shared/errors.js';
import type { Progress } from '../shared/progress.js';
import type { Database, Store } from '../storage/index.js';
import {
  addressNetwork,
  type ChainName,
  type OutPointRef,
  type ParsedBlock,
} from './core/block.js';
import { type ChainTx, orderBlocks, outpointKey, parseOutpoint, TxGraph } from './core/graph.js';
import { type TaintModel, type TaintResult, taint, taintDense } from './core/taint.js';

type Db = Kysely<Database>;
const CHUNK = 400;

function chunks<T>(items: T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const num = (v: number | string | bigint | null): number => Number(v ?? 0);

export interface IngestSummary {
  blocks: number;
  txs: number;
  outputs: number;
  /** Blocks already in the store (ingest is idempotent). */
  skipped: number;
  /** Blocks that do not connect to the longest chain in this batch (stale forks, gaps): not stored. */
  orphaned: number;
  tipHeight: number;
  chain: ChainName | null;
}

/**
 * Store parsed blocks. Everything is written in one transaction: an error leaves the store as
 * it was. Blocks already stored are skipped, so running it twice changes nothing.
 * @example await ingestBlocks(store, parseBlockFile(bytes).blocks, { source: 'blk00000.dat' })
 */
export async function ingestBlocks(
  store: Store,
  blocks: ParsedBlock[],
  options: { source: string; chain?: ChainName; progress?: Progress; now?: () => string },
): Promise<IngestSummary> {
  const db = store.db;
  const now = options.now ?? (() => new Date().toISOString());
  const known = new Map<string, number>();
  for (const r of await db.selectFrom('trace_block').select(['hash', 'height']).execute())
    known.set(r.hash, r.height);
  const fresh = blocks.filter((b) => !known.has(b.hash));
  const tipBefore = Math.max(-1, ...known.values());
  if (fresh.length === 0) {
    return {
      blocks: 0,
      txs: 0,
      outputs: 0,
      skipped: blocks.length,
      orphaned: 0,
      tipHeight: tipBefore,
      chain: options.chain ?? null,
    };
  }
  const ordered = orderBlocks(fresh, known);
  // Input values: from this batch, else from the store.
  const values = new Map<string, number>();
  for (const { block } of ordered)
    for (const t of block.txs)
      t.outputs.forEach((o, v) => {
        values.set(outpointKey(t.txid, v), o.value);
      });
  const missing = new Set<string>();
  for (const { block } of ordered)
    for (const t of block.txs)
      for (const i of t.inputs)
        if (i.prevout && !values.has(outpointKey(i.prevout.txid, i.prevout.vout)))
          missing.add(i.prevout.txid);
  for (const part of chunks([...missing])) {
    const rows = await db
      .selectFrom('trace_output')
      .select(['txid', 'vout', 'value'])
      .where('txid', 'in', part)
      .execute();
    for (const r of rows) values.set(outpointKey(r.txid, r.vout), num(r.value));
  }
  const progress = options.progress;
  progress?.setTotal(ordered.length);
  let txCount = 0;
  let outCount = 0;
  const at = now();
  await db.transaction().execute(async (trx) => {
    const blockRows = ordered.map(({ height, block }) => ({
      hash: block.hash,
      height,
      prev_hash: block.prevHash,
      time: block.time,
      tx_count: block.txs.length,
      source: options.source,
      ingested_at: at,
    }));
    for (const part of chunks(blockRows))
      await trx
        .insertInto('trace_block')
        .values(part)
        .onConflict((oc) => oc.doNothing())
        .execute();
    const txRows: Database['trace_tx'][] = [];
    const outRows: Database['trace_output'][] = [];
    const spends: { txid: string; vout: number; by: string; vin: number }[] = [];
    for (const { height, block } of ordered) {
      block.txs.forEach((t, idx) => {
        let fee: number | null = 0;
        if (!t.coinbase) {
          let inSum = 0;
          for (const i of t.inputs) {
            const v = values.get(outpointKey(i.prevout!.txid, i.prevout!.vout));
            if (v === undefined) {
              fee = null;
              break;
            }
            inSum += v;
          }
          if (fee !== null) fee = inSum - t.outputs.reduce((a, o) => a + o.value, 0);
          t.inputs.forEach((i, vin) => {
            spends.push({ txid: i.prevout!.txid, vout: i.prevout!.vout, by: t.txid, vin });
          });
        }
        txRows.push({
          txid: t.txid,
          block_hash: block.hash,
          height,
          idx,
          coinbase: t.coinbase ? 1 : 0,
          fee,
          output_count: t.outputs.length,
        });
        t.outputs.forEach((o, vout) => {
          outRows.push({
            txid: t.txid,
            vout,
            height,
            value: o.value,
            address: o.address,
            spendable: o.spendable ? 1 : 0,
            spent_by_txid: null,
            spent_by_vin: null,
          });
        });
      });
      txCount += block.txs.length;
    }
    for (const part of chunks(txRows))
      await trx
        .insertInto('trace_tx')
        .values(part)
        .onConflict((oc) => oc.doNothing())
        .execute();
    // Spends of outputs in this batch are linked before insert; only spends of outputs stored
    // by an earlier run need an UPDATE.
    const rowByKey = new Map<string, Database['trace_output']>();
    for (const o of outRows) rowByKey.set(outpointKey(o.txid, o.vout), o);
    const earlier: typeof spends = [];
    for (const sp of spends) {
      const row = rowByKey.get(outpointKey(sp.txid, sp.vout));
      if (row) {
        row.spent_by_txid = sp.by;
        row.spent_by_vin = sp.vin;
      } else earlier.push(sp);
    }
    const perChunk = 250;
    const outChunks = chunks(outRows, perChunk);
    const ticksPerChunk =
      ordered.length / Math.max(1, outChunks.length + earlier.length / perChunk);
    let ticked = 0;
    let owed = 0;
    const tick = (n: number) => {
      owed += n;
      const whole = Math.floor(owed);
      if (whole > 0 && ticked + whole <= ordered.length) {
        progress?.tick(whole);
        ticked += whole;
        owed -= whole;
      }
    };
    for (const part of outChunks) {
      await trx
        .insertInto('trace_output')
        .values(part)
        .onConflict((oc) => oc.doNothing())
        .execute();
      tick(ticksPerChunk);
    }
    outCount = outRows.length;
    let n = 0;
    for (const sp of earlier) {
      await trx
        .updateTable('trace_output')
        .set({ spent_by_txid: sp.by, spent_by_vin: sp.vin })
        .where('txid', '=', sp.txid)
        .where('vout', '=', sp.vout)
        .where('spent_by_txid', 'is', null)
        .execute();
      if (++n % perChunk === 0) tick(ticksPerChunk);
    }
    if (ticked < ordered.length) progress?.tick(ordered.length - ticked);
  });
  return {
    blocks: ordered.length,
    txs: txCount,
    outputs: outCount,
    skipped: blocks.length - fresh.length,
    orphaned: fresh.length - ordered.length,
    tipHeight: ordered.at(-1)!.height,
    chain: options.chain ?? null,
  };
}

export interface TagInput {
  target: string;
  label: string;
  source?: string;
}

export interface TagRow {
  kind: 'outpoint' | 'address';
  target: string;
  label: string;
  source: string;
  createdAt: string;
  /** Outputs in the store it covers, and their value. */
  outputs: number;
  value: number;
}

/** Recognise `txid:vout` or an address (any syntax; matched against decoded output addresses). */
export function tagKind(target: string): 'outpoint' | 'address' {
  const t = target.trim();
  if (/^[0-9a-fA-F]{64}:\d+$/.test(t)) return 'outpoint';
  if (addressNetwork(t) !== null) return 'address';
  throw new MamoriError('E_INPUT', `not an outpoint or a Bitcoin address: "${target}"`, {
    hint: /^[0-9a-fA-F]{64}$/.test(t)
      ? 'add the output index: <txid>:<vout>'
      : 'use <txid>:<vout> or a Bitcoin address',
  });
}

/**
 * Tag stolen funds (an outpoint or an address) with a label. Idempotent on (target, label).
 * @example await tagFunds(store, { target: 'ab…:0', label: 'coincheck-2018' })
 */
export async function tagFunds(
  store: Store,
  input: TagInput,
  now: () => string = () => new Date().toISOString(),
): Promise<TagRow> {
  const label = input.label.trim();
  if (!label) throw new MamoriError('E_USAGE', '--label is empty');
  const kind = tagKind(input.target);
  const target =
    kind === 'outpoint'
      ? outpointKey(parseOutpoint(input.target).txid, parseOutpoint(input.target).vout)
      : input.target.trim();
  const db = store.db;
  const covered = await outputsOfTargets(db, [{ kind, target }]);
  if (kind === 'outpoint' && covered.length === 0) {
    throw new MamoriError('E_NOT_FOUND', `outpoint ${target} is not in the store`, {
      hint: 'ingest the blocks first: mamori trace ingest <blk*.dat>',
    });
  }
  const source = input.source ?? 'manual';
  await db
    .insertInto('trace_tag')
    .values({ kind, target, label, source, created_at: now() })
    .onConflict((oc) => oc.columns(['kind', 'target', 'label']).doUpdateSet({ source }))
    .execute();
  const row = await db
    .selectFrom('trace_tag')
    .selectAll()
    .where('kind', '=', kind)
    .where('target', '=', target)
    .where('label', '=', label)
    .executeTakeFirstOrThrow();
  return {
    kind,
    target,
    label,
    source: row.source,
    createdAt: row.created_at,
    outputs: covered.length,
    value: covered.reduce((a, o) => a + o.value, 0),
  };
}

interface OutputRow {
  txid: string;
  vout: number;
  value: number;
  height: number;
}

async function outputsOfTargets(
  db: Db,
  targets: { kind: string; target: string }[],
): Promise<OutputRow[]> {
  const out: OutputRow[] = [];
  const addresses = targets.filter((t) => t.kind === 'address').map((t) => t.target);
  const outpoints = targets
    .filter((t) => t.kind === 'outpoint')
    .map((t) => parseOutpoint(t.target));
  for (const part of chunks(addresses)) {
    const rows = await db
      .selectFrom('trace_output')
      .select(['txid', 'vout', 'value', 'height'])
      .where('address', 'in', part)
      .execute();
    for (const r of rows) out.push({ ...r, value: num(r.value) });
  }
  for (const part of chunks(outpoints, 200)) {
    const rows = await db
      .selectFrom('trace_output')
      .select(['txid', 'vout', 'value', 'height'])
      .where((eb) =>
        eb.or(part.map((p) => eb.and([eb('txid', '=', p.txid), eb('vout', '=', p.vout)]))),
      )
      .execute();
    for (const r of rows) out.push({ ...r, value: num(r.value) });
  }
  return out;
}

/** All tags, or those with one label. */
export async function listTags(store: Store, label?: string) {
  let q = store.db.selectFrom('trace_tag').selectAll().orderBy('label').orderBy('target');
  if (label !== undefined) q = q.where('label', '=', label);
  return (await q.execute()).map((r) => ({
    kind: r.kind,
    target: r.target,
    label: r.label,
    source: r.source,
    createdAt: r.created_at,
  }));
}

/** The start outpoints a label stands for: tagged outpoints and every output paid to a tagged address. */
export async function startSetOfLabel(store: Store, label: string): Promise<OutPointRef[]> {
  const tags = await listTags(store, label);
  if (tags.length === 0) {
    throw new MamoriError('E_NOT_FOUND', `no tag with label "${label}"`, {
      hint: 'tag stolen funds first: mamori trace tag <txid:vout|address> --label <text>',
    });
  }
  const outs = await outputsOfTargets(store.db, tags);
  return outs.map((o) => ({ txid: o.txid, vout: o.vout }));
}

/**
 * Load every transaction a taint query can reach from the start set (spent-by links, plus the
 * coinbases that collect fees when fee taint is on), up to maxHeight, into an in-memory graph.
 */
export async function loadReachable(
  store: Store,
  start: OutPointRef[],
  options: { feeTaint: boolean; maxHeight?: number | undefined },
): Promise<TxGraph> {
  const db = store.db;
  const graph = new TxGraph();
  const maxHeight = options.maxHeight ?? Number.POSITIVE_INFINITY;
  const pendingInputs: { txid: string; vout: number; by: string }[] = [];
  const requestedCoinbase = new Set<number>();
  let frontier = [...new Set(start.map((s) => s.txid))];
  while (frontier.length > 0) {
    const next = new Set<string>();
    const loaded: ChainTx[] = [];
    for (const part of chunks(frontier)) {
      const txs = await db.selectFrom('trace_tx').selectAll().where('txid', 'in', part).execute();
      const outs = await db
        .selectFrom('trace_output')
        .selectAll()
        .where('txid', 'in', part)
        .orderBy('txid')
        .orderBy('vout')
        .execute();
      const byTx = new Map<string, typeof outs>();
      for (const o of outs) {
        const list = byTx.get(o.txid);
        if (list) list.push(o);
        else byTx.set(o.txid, [o]);
      }
      for (const t of txs) {
        const rows = byTx.get(t.txid) ?? [];
        const tx: ChainTx = {
          txid: t.txid,
          height: t.height,
          index: t.idx,
          coinbase: t.coinbase === 1,
          fee: t.fee === null ? null : num(t.fee),
          outputs: rows.map((o) => ({
            value: num(o.value),
            spendable: o.spendable === 1,
            address: o.address,
          })),
          inputs: [],
        };
        graph.add(tx);
        loaded.push(tx);
        if (tx.height > maxHeight) continue;
        for (const o of rows) {
          if (o.spent_by_txid === null) continue;
          graph.link(o.txid, o.vout, o.spent_by_txid);
          pendingInputs.push({ txid: o.txid, vout: o.vout, by: o.spent_by_txid });
          if (!graph.txs.has(o.spent_by_txid)) next.add(o.spent_by_txid);
        }
      }
    }
    if (options.feeTaint) {
      const heights = [
        ...new Set(loaded.filter((t) => !t.coinbase && t.height <= maxHeight).map((t) => t.height)),
      ].filter((h) => !requestedCoinbase.has(h));
      for (const part of chunks(heights)) {
        for (const h of part) requestedCoinbase.add(h);
        const cbs = await db
          .selectFrom('trace_tx')
          .select('txid')
          .where('coinbase', '=', 1)
          .where('height', 'in', part)
          .execute();
        for (const c of cbs) if (!graph.txs.has(c.txid)) next.add(c.txid);
      }
    }
    frontier = [...next];
  }
  for (const p of pendingInputs) graph.txs.get(p.by)?.inputs.push({ txid: p.txid, vout: p.vout });
  graph.invalidate();
  return graph;
}

export interface TaintQuery {
  model: TaintModel;
  start?: OutPointRef[];
  label?: string;
  feeTaint?: boolean;
  /** Absolute height, or `+N` relative to the first start output's height. */
  maxHeight?: number | `+${number}` | undefined;
  /** Record the result in trace_result. */
  record?: boolean;
}

export interface StoredTaintResult extends TaintResult {
  start: OutPointRef[];
  label: string | null;
}

/**
 * Run a taint model over the stored chain.
 * @example await taintFromStore(store, { model: 'haircut', label: 'nem-2018', feeTaint: true })
 */
export async function taintFromStore(store: Store, query: TaintQuery): Promise<StoredTaintResult> {
  const label = query.label ?? null;
  const start = [...(query.start ?? []), ...(label ? await startSetOfLabel(store, label) : [])];
  if (start.length === 0) {
    throw new MamoriError('E_USAGE', 'nothing to trace from', {
      hint: 'give --from <txid:vout> or --label <tag>',
    });
  }
  const startRows = await outputsOfTargets(
    store.db,
    start.map((s) => ({ kind: 'outpoint', target: outpointKey(s.txid, s.vout) })),
  );
  const have = new Set(startRows.map((r) => outpointKey(r.txid, r.vout)));
  const unknown = start.filter((s) => !have.has(outpointKey(s.txid, s.vout)));
  if (unknown.length > 0) {
    const first = unknown[0]!;
    throw new MamoriError(
      'E_NOT_FOUND',
      `unknown outpoint ${outpointKey(first.txid, first.vout)}`,
      {
        hint: 'check the txid, or ingest the blocks that contain it (mamori trace ingest)',
        details: { unknown: unknown.map((u) => outpointKey(u.txid, u.vout)) },
      },
    );
  }
  let maxHeight: number | undefined;
  if (typeof query.maxHeight === 'string') {
    const firstHeight = startRows.find(
      (r) => r.txid === start[0]!.txid && r.vout === start[0]!.vout,
    )!.height;
    maxHeight = firstHeight + Number(query.maxHeight.slice(1));
  } else maxHeight = query.maxHeight;
  const feeTaint = query.feeTaint ?? false;
  const graph = await loadReachable(store, start, { feeTaint, maxHeight });
  const result = taint(graph, { model: query.model, start, feeTaint, maxHeight });
  if (query.record) {
    await store.db
      .insertInto('trace_result')
      .values({
        created_at: new Date().toISOString(),
        model: result.model,
        fee_taint: feeTaint ? 1 : 0,
        max_height: result.maxHeight,
        start: JSON.stringify(start.map((s) => outpointKey(s.txid, s.vout))),
        label,
        output_count: result.outputs.length,
        total_value: result.totalValue,
        tainted_value: result.taintedValue,
        outputs: JSON.stringify(result.outputs),
      })
      .execute();
  }
  return { ...result, start, label };
}

export type Verdict = 'accept' | 'review' | 'refuse';

export interface ScreenOptions {
  model?: TaintModel;
  feeTaint?: boolean;
  /** Tainted share of the deposit at which to review (default 0.001 = 0.1 %). */
  reviewAt?: number;
  /** Tainted share at which to refuse (default 0.1 = 10 %). */
  refuseAt?: number;
}

export interface ScreenResult {
  target: string;
  kind: 'tx' | 'address' | 'outpoint';
  model: TaintModel;
  depositValue: number;
  taintedValue: number;
  /** taintedValue / depositValue (0 when the deposit is empty). */
  ratio: number;
  verdict: Verdict;
  thresholds: { reviewAt: number; refuseAt: number };
  /** Per label: how much of the deposit's value it taints. Only labels that reach it. */
  sources: { label: string; sources: string[]; taintedValue: number }[];
  outputs: { txid: string; vout: number; value: number; tainted: number }[];
}

/**
 * Screen a deposit (a txid, `txid:vout`, or an address) against every tagged label: how much
 * of its value is tainted, by which label, and a verdict. The taint is followed only up to the
 * deposit's own height (later blocks cannot taint it).
 * @example const r = await screenDeposit(store, txid); if (r.verdict === 'refuse') …
 */
export async function screenDeposit(
  store: Store,
  target: string,
  options: ScreenOptions = {},
): Promise<ScreenResult> {
  const model = options.model ?? 'haircut';
  const reviewAt = options.reviewAt ?? 0.001;
  const refuseAt = options.refuseAt ?? 0.1;
  if (!(reviewAt >= 0 && refuseAt >= reviewAt && refuseAt <= 1)) {
    throw new MamoriError('E_USAGE', 'thresholds must satisfy 0 ≤ review ≤ refuse ≤ 1');
  }
  const t = target.trim();
  let kind: ScreenResult['kind'];
  let deposit: OutputRow[];
  if (/^[0-9a-fA-F]{64}$/.test(t)) {
    kind = 'tx';
    deposit = (
      await store.db
        .selectFrom('trace_output')
        .select(['txid', 'vout', 'value', 'height'])
        .where('txid', '=', t.toLowerCase())
        .orderBy('vout')
        .execute()
    ).map((r) => ({ ...r, value: num(r.value) }));
  } else {
    kind = tagKind(t) === 'outpoint' ? 'outpoint' : 'address';
    deposit = await outputsOfTargets(store.db, [
      { kind: kind === 'outpoint' ? 'outpoint' : 'address', target: t },
    ]);
  }
  if (deposit.length === 0) {
    throw new MamoriError('E_NOT_FOUND', `${kind} ${t} is not in the store`, {
      hint: 'check it, or ingest the blocks that contain it (mamori trace ingest)',
    });
  }
  const watch = new Set(deposit.map((d) => outpointKey(d.txid, d.vout)));
  const maxHeight = Math.max(...deposit.map((d) => d.height));
  const tags = await listTags(store);
  const labels = [...new Set(tags.map((x) => x.label))];
  const perOutput = new Map<string, number>();
  const sources: ScreenResult['sources'] = [];
  for (const label of labels) {
    const start = await startSetOfLabel(store, label);
    const relevant = start.length > 0;
    if (!relevant) continue;
    const graph = await loadReachable(store, start, {
      feeTaint: options.feeTaint ?? false,
      maxHeight,
    });
    const r = taintDense(graph, {
      model,
      start,
      feeTaint: options.feeTaint ?? false,
      maxHeight,
      watch,
    });
    const hit = Object.values(r.watched).reduce((a, v) => a + v, 0);
    if (hit <= 0) continue;
    for (const [k, v] of Object.entries(r.watched)) perOutput.set(k, (perOutput.get(k) ?? 0) + v);
    sources.push({
      label,
      sources: [...new Set(tags.filter((x) => x.label === label).map((x) => x.source))],
      taintedValue: hit,
    });
  }
  const outputs = deposit.map((d) => {
    const key = outpointKey(d.txid, d.vout);
    // Several labels can taint the same coins: never report more than the output holds.
    return {
      txid: d.txid,
      vout: d.vout,
      value: d.value,
      tainted: Math.min(d.value, perOutput.get(key) ?? 0),
    };
  });
  const depositValue = outputs.reduce((a, o) => a + o.value, 0);
  const taintedValue = outputs.reduce((a, o) => a + o.tainted, 0);
  const ratio = depositValue > 0 ? taintedValue / depositValue : 0;
  const verdict: Verdict =
    taintedValue > 0 && ratio >= refuseAt
      ? 'refuse'
      : taintedValue > 0 && ratio >= reviewAt
        ? 'review'
        : 'accept';
  sources.sort((a, b) => b.taintedValue - a.taintedValue);
  return {
    target: t,
    kind,
    model,
    depositValue,
    taintedValue,
    ratio,
    verdict,
    thresholds: { reviewAt, refuseAt },
    sources,
    outputs,
  };
}

export interface TraceStats {
  blocks: number;
  txs: number;
  outputs: number;
  tipHeight: number | null;
  tags: number;
  labels: string[];
  results: number;
}

/** Counts for the dashboard and `status`. */
export async function traceStats(store: Store): Promise<TraceStats> {
  const db = store.db;
  const count = async (
    table: 'trace_block' | 'trace_tx' | 'trace_output' | 'trace_tag' | 'trace_result',
  ) =>
    num(
      (
        await db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n as number,
    );
  const tip = await db
    .selectFrom('trace_block')
    .select((eb) => eb.fn.max('height').as('h'))
    .executeTakeFirst();
  const labels = (
    await db.selectFrom('trace_tag').select('label').distinct().orderBy('label').execute()
  ).map((r) => r.label);
  return {
    blocks: await count('trace_block'),
    txs: await count('trace_tx'),
    outputs: await count('trace_output'),
    tipHeight: tip?.h === null || tip?.h === undefined ? null : Number(tip.h),
    tags: await count('trace_tag'),
    labels,
    results: await count('trace_result'),
  };
}

/** The latest recorded taint results (`mamori trace taint --record`), newest first. */
export async function recentResults(store: Store, limit = 20) {
  const rows = await store.db
    .selectFrom('trace_result')
    .select([
      'id',
      'created_at',
      'model',
      'fee_taint',
      'max_height',
      'label',
      'start',
      'output_count',
      'total_value',
      'tainted_value',
    ])
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: Number(r.id),
    createdAt: r.created_at,
    model: r.model,
    feeTaint: r.fee_taint === 1,
    maxHeight: r.max_height,
    label: r.label,
    start: JSON.parse(r.start) as string[],
    outputCount: r.output_count,
    totalValue: num(r.total_value),
    taintedValue: num(r.tainted_value),
  }));
}
