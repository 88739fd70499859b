/**
 * The SYN mode of `runScan`: picks the per-scan cookie key and source port, finds the source
 * address for each target range, runs the sweep (syn-scan.ts) and hands each open port to the
 * scan's own grab-and-store path with at most `concurrency` grabs at once. The progress line shows
 * the rate (the bar's /s) and the loss: retransmitted probes and probes still unanswered.
 * Not the sweep itself, nor the scope gate (runScan's, done before the raw socket opens).
 */
import { randomBytes } from 'node:crypto';
import type { Progress } from '../shared/progress.js';
import { type Addr, type Cidr, cidrContains, formatAddr } from './core/cidr.js';
import { addrAllowed } from './core/scope.js';
import { type RawTcpSocket, sourceFor } from './raw.js';
import type { ScanOptionsRecord } from './store.js';
import { synSweep } from './syn-scan.js';

export interface SynRunInput {
  addrs: readonly Addr[];
  targets: readonly Cidr[];
  ports: readonly number[];
  start: number;
  end: number;
  options: ScanOptionsRecord;
  gate: { scope: Cidr[]; broadcasts: Set<bigint> };
  signal?: AbortSignal | undefined;
  progress: Progress;
  recordOpen: (host: string, port: number) => Promise<void>;
}

const u32ToText = (v: number) => formatAddr({ family: 4, value: BigInt(v) });

function parseV4(text: string): number {
  const p = text.split('.').map(Number);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

/**
 * Sweep with SYNs; the caller has gated every address and opened `raw`.
 * @example await synScan(raw, { addrs, targets, ports, start: 0, end, options, gate, progress, recordOpen })
 */
export async function synScan(
  raw: RawTcpSocket,
  input: SynRunInput,
): Promise<{ settled: number; interrupted: boolean; failure: unknown }> {
  const { options, progress } = input;
  const addrs = new Uint32Array(input.addrs.map((a) => Number(a.value)));
  // one route lookup per target range: the kernel's choice of source toward its first address
  const sources = new Uint32Array(addrs.length);
  const sourceOfTarget = new Map<number, number>();
  for (let i = 0; i < input.addrs.length; i++) {
    const a = input.addrs[i]!;
    const t = input.targets.findIndex((c) => cidrContains(c, a));
    let src = sourceOfTarget.get(t);
    if (src === undefined) {
      try {
        src = parseV4(await sourceFor(formatAddr(a)));
      } catch {
        src = 0; // no route: these probes are counted as lost, never sent
      }
      sourceOfTarget.set(t, src);
    }
    sources[i] = src;
  }
  const seed = randomBytes(10);
  const key = { k0: seed.readUInt32LE(0), k1: seed.readUInt32LE(4) };
  // above Linux's default ephemeral range (32768–60999), so no local socket owns the answers
  // and the kernel resets each SYN-ACK for us
  const sport = 61000 + (seed.readUInt16LE(8) % 4535);

  let failure: unknown;
  const queue: [string, number][] = [];
  let running = 0;
  let idle: (() => void) | undefined;
  const pump = () => {
    while (running < options.concurrency && queue.length > 0) {
      const [host, port] = queue.shift()!;
      running++;
      input
        .recordOpen(host, port)
        .catch((err: unknown) => {
          failure ??= err;
        })
        .finally(() => {
          running--;
          pump();
          if (running === 0 && queue.length === 0) idle?.();
        });
    }
  };
  let reported = input.start;
  const result = await synSweep(raw, {
    addrs,
    sources,
    ports: input.ports,
    start: input.start,
    end: input.end,
    rate: options.rate,
    timeoutMs: options.timeoutMs,
    retries: options.retries,
    key,
    sport,
    inScope: (addr) =>
      addrAllowed(input.gate.scope, { family: 4, value: BigInt(addr) }, input.gate.broadcasts),
    signal: input.signal,
    onOpen: (addr, port) => {
      queue.push([u32ToText(addr), port]);
      pump();
    },
    onProgress: (done, s) => {
      const n = done + input.start - reported;
      reported += n;
      progress.tick(
        n,
        `${s.open} open, ${s.closed} closed, ${s.sent - s.open - s.closed - s.refused} unanswered, ${s.retransmits} retransmitted${s.lost ? `, ${s.lost} without a route` : ''}${s.refused ? `, ${s.refused} answers refused (out of scope)` : ''}`,
      );
    },
  });
  if (running > 0 || queue.length > 0)
    await new Promise<void>((resolve) => {
      idle = resolve;
    });
  return { settled: result.settled, interrupted: result.interrupted, failure };
}
