/**
 * The scanner: scope gate first (nothing is sent for a target outside it), then TCP connect
 * discovery over (port × address) in a fixed order, rate-limited (connections per second,
 * concurrent in total and per host), each timeout ending in destroy() so no descriptor leaks;
 * open ports go straight to the grabbers, then fingerprinting and the store. The finished
 * prefix of the order is checkpointed, so an interrupted scan resumes where it stopped.
 * Not the grabbers (grab/) nor the storage (store.ts).
 */
import { createConnection } from 'node:net';
import { MamoriError } from '../shared/errors.js';
import { noProgress, type Progress } from '../shared/progress.js';
import type { Store } from '../storage/index.js';
import { type Addr, addrKey, type Cidr, formatAddr, formatCidr, parseAddr } from './core/cidr.js';
import { identify } from './core/identify.js';
import type { RecogEngine } from './core/recog.js';
import { addrAllowed, countTargets, expandTargets } from './core/scope.js';
import { grabTcp, grabUdp } from './grab/grabbers.js';
import { openRawTcp } from './raw.js';
import { gateTargets } from './scope-store.js';
import {
  checkpointScan,
  createScan,
  getScan,
  recordService,
  recordServices,
  refreshStatistics,
  type ScanOptionsRecord,
  type ServiceRecord,
} from './store.js';
import { synScan } from './syn-run.js';

export const SCAN_DEFAULTS = {
  rate: 2000,
  concurrency: 512,
  perHost: 16,
  timeoutMs: 1500,
  retries: 1,
} as const;

/** Most addresses one scan may expand to (keeps the address list in memory bounded). */
export const MAX_ADDRESSES = 1 << 24;

export interface ScanRequest {
  targets: string[];
  ports: number[];
  rate?: number;
  concurrency?: number;
  perHost?: number;
  timeoutMs?: number;
  retries?: number;
  /** Also send unicast SSDP and WS-Discovery probes to live hosts. */
  udp?: boolean;
  /** Grab banners from open ports (default true); false is discovery only. */
  grab?: boolean;
  fingerprintsDir?: string;
  /**
   * Only probes [start, end) of the scan's order (a shard of a distributed scan): the order is
   * the one a whole scan of the same targets and ports uses, so shards cover it exactly once.
   */
  probeRange?: { start: number; end: number };
  /** A raw-socket SYN scan (IPv4, needs CAP_NET_RAW) instead of TCP connect. */
  syn?: boolean;
}

export interface ScanSummary {
  scan: number;
  status: 'done' | 'interrupted';
  targets: string[];
  ports: number;
  probes: number;
  open: {
    ip: string;
    port: number;
    transport: string;
    protocol: string;
    vendor: string | null;
    product: string | null;
  }[];
  seconds: number;
}

export interface ScanDeps {
  store: Store;
  engine: RecogEngine;
  progress?: Progress;
  signal?: AbortSignal;
  now?: () => Date;
  /** Called for each open port as it is found (before grabbing). */
  onOpen?: (ip: string, port: number) => void;
}

type ConnectOutcome = 'open' | 'closed' | 'timeout' | 'error';

/** One TCP connect probe; the socket is always destroyed. */
export function probe(host: string, port: number, timeoutMs: number): Promise<ConnectOutcome> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    let done = false;
    const finish = (o: ConnectOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(o);
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    socket.once('connect', () => finish('open'));
    socket.once('error', (err: NodeJS.ErrnoException) =>
      finish(err.code === 'ECONNREFUSED' ? 'closed' : 'error'),
    );
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Scan targets (after the scope gate) and store every banner with the scan.
 * @example await runScan({ targets: ['127.0.0.1'], ports: [22, 80] }, { store, engine })
 */
export async function runScan(
  req: ScanRequest,
  deps: ScanDeps,
  resumeId?: number,
): Promise<ScanSummary> {
  const { store } = deps;
  const now = deps.now ?? (() => new Date());
  let options: ScanOptionsRecord = {
    rate: req.rate ?? SCAN_DEFAULTS.rate,
    concurrency: req.concurrency ?? SCAN_DEFAULTS.concurrency,
    perHost: req.perHost ?? SCAN_DEFAULTS.perHost,
    timeoutMs: req.timeoutMs ?? SCAN_DEFAULTS.timeoutMs,
    retries: req.retries ?? SCAN_DEFAULTS.retries,
    udp: req.udp ?? false,
    ...(req.syn ? { syn: true } : {}),
    ...(req.fingerprintsDir ? { fingerprints: req.fingerprintsDir } : {}),
  };
  let targetsText = req.targets;
  let ports = req.ports;
  let startIndex = 0;
  /** A resumed scan keeps its own end (a shard's end, or the whole order). */
  let resumeTotal: number | undefined;
  if (resumeId !== undefined) {
    const prev = await getScan(store, resumeId);
    if (prev.status === 'done') {
      throw new MamoriError('E_INPUT', `scan ${resumeId} is already finished`, {
        hint: 'start a new scan instead',
      });
    }
    targetsText = prev.targets;
    ports = prev.ports;
    options = prev.options;
    startIndex = prev.nextIndex;
    resumeTotal = prev.total;
  }
  for (const [k, v] of Object.entries({
    rate: options.rate,
    concurrency: options.concurrency,
    perHost: options.perHost,
    timeout: options.timeoutMs,
  })) {
    if (!Number.isFinite(v) || v <= 0)
      throw new MamoriError('E_USAGE', `--${k} must be a positive number`);
  }
  if (ports.length === 0) throw new MamoriError('E_USAGE', 'no ports to scan');
  // The gate: every target inside the declared scope, none in multicast/broadcast, before any packet.
  const gate = await gateTargets(store, targetsText);
  const targets: Cidr[] = gate.targets;
  const nAddr = countTargets(targets);
  if (nAddr > MAX_ADDRESSES) {
    throw new MamoriError(
      'E_USAGE',
      `${nAddr} addresses is more than one scan handles (${MAX_ADDRESSES})`,
      {
        hint: 'split the range into several scans',
      },
    );
  }
  const addrs: Addr[] = [...expandTargets(targets, gate.broadcasts)];
  if (options.syn && addrs.some((a) => a.family !== 4))
    throw new MamoriError('E_USAGE', 'exposure scan --syn scans IPv4 targets only', {
      hint: 'scan IPv6 ranges without --syn (TCP connect)',
    });
  // no capability, no scan: refused (exit 3) before a scan is recorded, never a connect scan
  const raw = options.syn ? openRawTcp() : undefined;
  try {
    const addrText = addrs.map(formatAddr);
    const allProbes = addrs.length * ports.length;
    if (req.probeRange && resumeId === undefined) {
      const { start, end } = req.probeRange;
      if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start < end))
        throw new MamoriError('E_USAGE', `--probe-range ${start}:${end} is not a range`);
      if (start >= allProbes)
        throw new MamoriError(
          'E_USAGE',
          `--probe-range starts past the scan's ${allProbes} probes`,
        );
      startIndex = start;
    }
    const total =
      resumeTotal !== undefined
        ? Math.min(resumeTotal, allProbes)
        : req.probeRange
          ? Math.min(req.probeRange.end, allProbes)
          : allProbes;
    const scanId =
      resumeId ??
      (await createScan(store, {
        targets: targets.map(formatCidr),
        ports,
        options,
        total,
        now: now().toISOString(),
      }));
    if (resumeId !== undefined || startIndex > 0)
      await checkpointScan(store, scanId, startIndex, 'running');
    const progress = deps.progress ?? noProgress;
    progress.setTotal(total);
    if (startIndex > 0) progress.tick(startIndex, 'resumed');
    const started = performance.now();
    const openFound: ScanSummary['open'] = [];
    const liveHosts = new Set<string>();
    const inflight = new Set<number>();
    const perHostCount = new Map<string, number>();
    const hostWaiters = new Map<string, (() => void)[]>();
    let slotWaiter: (() => void) | undefined;
    let next = startIndex;
    let launched = 0;
    let lastCheckpoint = performance.now();
    let failure: unknown;
    let silent = 0;
    let lost = 0;
    let retried = 0;
    let synInterrupted = false;
    const grab = req.grab ?? true;
    // open ports are written in batches, one transaction each; a checkpoint flushes first, so the
    // resume point never passes an observation that is not stored
    let pending: ServiceRecord[] = [];
    let writing: Promise<void> = Promise.resolve();
    const flush = () => {
      const batch = pending;
      pending = [];
      writing = writing.then(() => recordServices(store, batch));
      return writing;
    };

    const release = (host: string) => {
      const c = (perHostCount.get(host) ?? 1) - 1;
      if (c <= 0) perHostCount.delete(host);
      else perHostCount.set(host, c);
      hostWaiters.get(host)?.shift()?.();
      slotWaiter?.();
      slotWaiter = undefined;
    };

    /** Grab (unless discovery only), fingerprint and queue one open port for the store. */
    const recordOpen = async (host: string, port: number) => {
      deps.onOpen?.(host, port);
      liveHosts.add(host);
      const result = grab
        ? await grabTcp(host, port, { timeoutMs: options.timeoutMs })
        : {
            protocol: 'unknown',
            raw: Buffer.alloc(0),
            data: {},
            authRequired: null,
            fingerprintInputs: [],
          };
      const identity = identify(deps.engine, result.fingerprintInputs);
      pending.push({
        scanId,
        ip: host,
        port,
        transport: 'tcp',
        grab: result,
        identity,
        seen: now().toISOString(),
      });
      if (pending.length >= 256) await flush();
      openFound.push({
        ip: host,
        port,
        transport: 'tcp',
        protocol: result.protocol,
        vendor: identity.vendor,
        product: identity.product,
      });
    };

    const work = async (index: number, host: string, port: number) => {
      try {
        let outcome: ConnectOutcome = 'timeout';
        for (let attempt = 0; attempt <= options.retries; attempt++) {
          if (attempt > 0) retried++;
          outcome = await probe(host, port, options.timeoutMs);
          if (outcome !== 'timeout') break;
        }
        if (outcome === 'timeout') silent++;
        else if (outcome === 'error') lost++;
        if (outcome === 'open') await recordOpen(host, port);
      } catch (err) {
        failure ??= err;
      } finally {
        inflight.delete(index);
        release(host);
        // the line shows the rate (the bar's /s) and the loss: retransmitted probes, probes no
        // answer came back for after the retries, and probes the local stack failed to send
        // (EMFILE, EADDRNOTAVAIL…)
        progress.tick(
          1,
          `${openFound.length} open, ${retried} retransmitted, ${silent} no answer, ${lost} lost to local errors`,
        );
      }
    };

    const checkpoint = async (force = false) => {
      if (!force && performance.now() - lastCheckpoint < 1000) return;
      lastCheckpoint = performance.now();
      const done = inflight.size ? Math.min(...inflight) : next;
      await flush();
      await checkpointScan(store, scanId, done);
    };

    const nAddrs = addrs.length;
    if (raw) {
      const swept = await synScan(raw, {
        addrs,
        targets,
        ports,
        start: next,
        end: total,
        options,
        gate,
        signal: deps.signal,
        progress,
        recordOpen,
      });
      next = swept.settled;
      synInterrupted = swept.interrupted;
      failure ??= swept.failure;
    }
    while (!raw && next < total) {
      if (deps.signal?.aborted || failure) break;
      const portIdx = Math.floor(next / nAddrs);
      const addrIdx = next % nAddrs;
      const a = addrs[addrIdx]!;
      const host = addrText[addrIdx]!;
      const port = ports[portIdx]!;
      // defence in depth: the gate already passed, re-check the address right before connecting
      if (!addrAllowed(gate.scope, a, gate.broadcasts)) {
        throw new MamoriError('E_SCOPE', `refused: ${host} is outside the declared scope`);
      }
      while (inflight.size >= options.concurrency) {
        await new Promise<void>((r) => {
          slotWaiter = r;
        });
      }
      while ((perHostCount.get(host) ?? 0) >= options.perHost) {
        await new Promise<void>((r) => {
          const list = hostWaiters.get(host) ?? [];
          list.push(r);
          hostWaiters.set(host, list);
        });
      }
      // packets per second: connection attempts are paced against the wall clock
      const due = started + (launched / options.rate) * 1000;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      inflight.add(next);
      perHostCount.set(host, (perHostCount.get(host) ?? 0) + 1);
      launched++;
      void work(next, host, port);
      next++;
      // yield to the event loop often: a connect that completed must be seen before its
      // timeout timer fires (timers run before I/O in each loop turn)
      if ((launched & 31) === 0) await new Promise<void>((r) => setImmediate(r));
      if ((launched & 255) === 0) await checkpoint();
    }
    while (inflight.size > 0) {
      await new Promise<void>((r) => {
        slotWaiter = r;
      });
    }
    await flush();
    if (failure) {
      await checkpoint(true);
      await checkpointScan(store, scanId, Math.min(next, total), 'interrupted');
      throw failure;
    }
    if (options.udp && grab && !deps.signal?.aborted) {
      // unicast SSDP / WS-Discovery to each live host, a few hosts at a time
      const hosts = [...liveHosts];
      const udpTimeout = Math.min(options.timeoutMs, 1000);
      for (let i = 0; i < hosts.length; i += 32) {
        const batch = hosts.slice(i, i + 32);
        const answers = await Promise.all(
          batch.map(async (host) => ({
            host,
            replies: await grabUdp(host, { timeoutMs: udpTimeout, id: `${scanId}-${host}` }),
          })),
        );
        for (const { host, replies } of answers) {
          for (const { port, result } of replies) {
            const identity = identify(deps.engine, result.fingerprintInputs);
            await recordService(store, {
              scanId,
              ip: host,
              port,
              transport: 'udp',
              grab: result,
              identity,
              seen: now().toISOString(),
            });
            openFound.push({
              ip: host,
              port,
              transport: 'udp',
              protocol: result.protocol,
              vendor: identity.vendor,
              product: identity.product,
            });
          }
        }
      }
    }
    const interrupted = next < total || synInterrupted;
    await checkpointScan(
      store,
      scanId,
      next,
      interrupted ? 'interrupted' : 'done',
      interrupted ? undefined : now().toISOString(),
    );
    await refreshStatistics(store);
    progress.done(`${openFound.length} open of ${total} probes`);
    const sortKey = (o: { ip: string; port: number; transport: string }) =>
      `${addrKey(parseAddr(o.ip))}|${String(o.port).padStart(5, '0')}|${o.transport}`;
    openFound.sort((x, y) => (sortKey(x) < sortKey(y) ? -1 : sortKey(x) > sortKey(y) ? 1 : 0));
    return {
      scan: scanId,
      status: interrupted ? 'interrupted' : 'done',
      targets: targets.map(formatCidr),
      ports: ports.length,
      probes: next - startIndex,
      open: openFound,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    raw?.close();
  }
}

/**
 * Split a scan into shards of consecutive probes in the order a whole scan uses, after the
 * scope gate (so a distributed scan is refused before anything is queued). A shard holds
 * `shardAddresses` addresses' worth of probes.
 * @example await planShards(store, ['192.0.2.0/24'], [80, 554], 64) // 8 shards of 64 probes
 */
export async function planShards(
  store: Store,
  targets: string[],
  ports: number[],
  shardAddresses: number,
): Promise<{ probes: number; addresses: number; shards: { start: number; end: number }[] }> {
  if (ports.length === 0) throw new MamoriError('E_USAGE', 'no ports to scan');
  if (!Number.isInteger(shardAddresses) || shardAddresses < 1)
    throw new MamoriError('E_USAGE', '--shard-size must be a positive integer');
  const gate = await gateTargets(store, targets);
  const nAddr = countTargets(gate.targets);
  if (nAddr > MAX_ADDRESSES)
    throw new MamoriError('E_USAGE', `${nAddr} addresses is more than one scan handles`);
  let addresses = 0;
  for (const _ of expandTargets(gate.targets, gate.broadcasts)) addresses++;
  const probes = addresses * ports.length;
  const size = shardAddresses * ports.length;
  const shards: { start: number; end: number }[] = [];
  for (let start = 0; start < probes; start += size)
    shards.push({ start, end: Math.min(start + size, probes) });
  return { probes, addresses, shards };
}
