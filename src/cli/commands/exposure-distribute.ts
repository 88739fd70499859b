/**
 * `exposure scan … --distribute`: the scan split into shards of consecutive probes, each queued
 * as an `exposure-scan` job that a `mamori worker` runs as `exposure scan … --probe-range a:b`.
 * The scope gate runs here before anything is queued, and again in every worker before any
 * packet. A shard is leased: a worker that dies loses its lease and another runs the shard
 * again; services are keyed by address, port and transport, so a rerun adds no duplicate.
 */
import { sleep } from '../../shared/clock.js';
import { MamoriError } from '../../shared/errors.js';
import { formatTable } from '../../shared/text.js';
import type { CommandContext, ParsedValues } from '../types.js';

/** The scan flags a shard job repeats (everything but the distribution's own). */
const FORWARDED = [
  'ports',
  'rate',
  'concurrency',
  'per-host',
  'timeout',
  'retries',
  'fingerprints',
] as const;
const FORWARDED_BOOL = ['udp', 'discovery-only'] as const;

interface ShardOutput {
  result?: { scan?: number; open?: OpenService[] } | null;
}
interface OpenService {
  ip: string;
  port: number;
  transport: string;
  protocol: string | null;
  vendor?: string | null;
  product?: string | null;
}

export async function distributeScan(
  ctx: CommandContext,
  targets: string[],
  values: ParsedValues,
): Promise<number> {
  const jobs = await import('../../jobs/index.js');
  const ex = await import('../../exposure/index.js');
  const store = await ctx.store();
  jobs.requirePostgres(store, 'exposure scan --distribute');
  if (targets.length === 0) throw new MamoriError('E_USAGE', '--distribute needs targets');
  // 1,024 addresses: big enough that a shard's fixed cost (queue round trip, scope gate, scan
  // row) is small beside its probes, small enough that a /20 still splits among 4 workers.
  const shardSize = Number(values['shard-size'] ?? '1024');
  const lease = Number(values.lease ?? '600');
  if (!Number.isInteger(lease) || lease < 5 || lease > 86_400)
    throw new MamoriError('E_USAGE', '--lease must be whole seconds from 5 to 86400');
  const portsText = typeof values.ports === 'string' ? values.ports : 'camera';
  const plan = await ex.planShards(store, targets, ex.parsePorts(portsText), shardSize);
  const common: string[] = [...targets];
  for (const f of FORWARDED) if (typeof values[f] === 'string') common.push(`--${f}`, values[f]);
  for (const f of FORWARDED_BOOL) if (values[f] === true) common.push(`--${f}`);
  if (common.length > 56)
    throw new MamoriError('E_USAGE', 'too many targets to distribute', {
      hint: 'give the range as a few CIDRs',
    });
  const queue = await jobs.openQueue(ctx.dbSpec());
  const progress = ctx.progress('scan shards', plan.shards.length);
  try {
    if (!(await jobs.listWorkers(store)).some((w) => w.alive) && !ctx.quiet)
      ctx.io.stderr('mamori: no live worker: the shards wait in the queue until one starts\n');
    const ids: string[] = [];
    for (const s of plan.shards) {
      const id = await queue.enqueue(
        { kind: 'exposure-scan', args: [...common, '--probe-range', `${s.start}:${s.end}`] },
        { expireInSeconds: lease, retryLimit: 3 },
      );
      if (!id) throw new MamoriError('E_INTERNAL', 'a shard was not queued');
      ids.push(id);
    }
    const finished = new Map<string, { state: string; output: unknown }>();
    while (finished.size < ids.length && !ctx.signal.aborted) {
      for (const id of ids) {
        if (finished.has(id)) continue;
        const st = await queue.state('exposure-scan', id);
        if (st && (st.state === 'completed' || st.state === 'failed' || st.state === 'cancelled')) {
          finished.set(id, st);
          progress.tick(1, `${finished.size}/${ids.length} shards`);
        }
      }
      if (finished.size < ids.length) await sleep(500, ctx.signal);
    }
    progress.done();
    if (ctx.signal.aborted) {
      ctx.io.stderr(
        `mamori: stopped waiting; ${ids.length - finished.size} shard(s) still run on the workers (mamori worker status)\n`,
      );
      return 130;
    }
    const open = new Map<string, OpenService>();
    const scans: number[] = [];
    let failed = 0;
    for (const st of finished.values()) {
      if (st.state !== 'completed') {
        failed++;
        continue;
      }
      const r = (st.output as ShardOutput | null)?.result;
      if (r?.scan !== undefined) scans.push(r.scan);
      for (const o of r?.open ?? []) open.set(`${o.ip}|${o.port}|${o.transport}`, o);
    }
    const summary = {
      status: failed ? 'failed' : 'done',
      shards: ids.length,
      failedShards: failed,
      probes: plan.probes,
      addresses: plan.addresses,
      scans: scans.sort((a, b) => a - b),
      open: [...open.values()],
    };
    ctx.print(summary, () =>
      [
        `distributed scan: ${summary.status}, ${ids.length} shards (${failed} failed), ${plan.probes} probes, ${open.size} open`,
        open.size
          ? formatTable(
              ['ip', 'port', 'transport', 'protocol', 'vendor', 'product'],
              summary.open.map((o) => [o.ip, o.port, o.transport, o.protocol, o.vendor, o.product]),
            )
          : '',
      ].join('\n'),
    );
    if (failed)
      throw new MamoriError('E_DEPENDENCY', `${failed} shard(s) failed after their retries`, {
        hint: 'see mamori worker status for the dead letters',
      });
    return 0;
  } finally {
    await queue.stop();
  }
}
