/**
 * The SYN sweep: send one SYN per (port × address) of the scan's order through a raw socket,
 * paced to the rate, and read the answers off the same socket between sends. Nothing is kept per
 * probe: an answer is ours when its ack is the cookie of its own 4-tuple plus one (core/syn.ts),
 * it comes from an address the scope gate passed, and to a port the scan asked for. The local
 * kernel has no socket for our source port, so it resets each SYN-ACK itself and the target
 * frees its half-open connection. Retries are further passes over the probes nothing answered.
 * Not the scope gate (the caller's, done before this runs) nor the grab and store of open ports.
 */
import {
  type CookieKey,
  judgeReply,
  parseTcpReply,
  SYN_LENGTH,
  synCookie,
  writeSyn,
} from './core/syn.js';
import type { RawTcpSocket } from './raw.js';

export interface SynSweepOptions {
  /** Addresses of the scan's order (IPv4 as uint32), each already through the scope gate. */
  addrs: Uint32Array;
  /** Source address for each of `addrs`; 0 when the kernel has no route (counted as lost). */
  sources: Uint32Array;
  ports: readonly number[];
  /** Probes [start, end) of the order `index = portIdx * addrs.length + addrIdx`. */
  start: number;
  end: number;
  rate: number;
  timeoutMs: number;
  retries: number;
  key: CookieKey;
  sport: number;
  /** Whether an answering address passes the scope (called once per valid answer). */
  inScope: (addr: number) => boolean;
  signal?: AbortSignal | undefined;
  onOpen: (addr: number, port: number) => void;
  onProgress: (done: number, stats: SynStats) => void;
}

export interface SynStats {
  sent: number;
  retransmits: number;
  open: number;
  closed: number;
  /** Valid-looking answers refused: from outside the scope or for a port not asked for. */
  refused: number;
  /** Probes with no route (no source address), never sent. */
  lost: number;
  /** Probes no answer came back for after every pass (known at the end). */
  unanswered: number;
}

export interface SynSweepResult extends SynStats {
  /** Every probe before this index was sent and had its full wait (a resume point). */
  settled: number;
  interrupted: boolean;
}

/**
 * Run the sweep to the end (or until `signal` aborts).
 * @example await synSweep(raw, { addrs, sources, ports: [80], start: 0, end: addrs.length, … })
 */
export async function synSweep(raw: RawTcpSocket, o: SynSweepOptions): Promise<SynSweepResult> {
  const nAddrs = o.addrs.length;
  const portSet = new Set(o.ports);
  const answered = new Set<number>();
  const stats: SynStats = {
    sent: 0,
    retransmits: 0,
    open: 0,
    closed: 0,
    refused: 0,
    lost: 0,
    unanswered: 0,
  };
  const pkt = new Uint8Array(SYN_LENGTH);
  let ipId = 0;
  let settled = o.start;
  /** (time, index) samples of pass 0, to know which prefix has had its full wait */
  const marks: { t: number; index: number }[] = [];

  const onPacket = (buf: Uint8Array, length: number) => {
    const r = parseTcpReply(buf, length);
    if (!r) return;
    const verdict = judgeReply(o.key, o.sport, r);
    if (!verdict) return;
    const k = r.src * 65536 + r.sport;
    if (answered.has(k)) return;
    // answered either way (no retransmit), but counted only when the scope allows it
    answered.add(k);
    if (!portSet.has(r.sport) || !o.inScope(r.src)) {
      stats.refused++;
      return;
    }
    if (verdict === 'open') {
      stats.open++;
      o.onOpen(r.src, r.sport);
    } else stats.closed++;
  };
  const drain = () => raw.drain(onPacket);

  /** Send probe `index`; false when the kernel queue is full (try again later). */
  const sendProbe = (index: number): boolean => {
    const addrIdx = index % nAddrs;
    const port = o.ports[Math.floor(index / nAddrs)]!;
    const dst = o.addrs[addrIdx]!;
    const src = o.sources[addrIdx]!;
    if (src === 0) return true;
    writeSyn(pkt, src, dst, o.sport, port, synCookie(o.key, src, dst, o.sport, port), ipId++);
    return raw.send(pkt, SYN_LENGTH, dst);
  };

  const aborted = () => o.signal?.aborted === true;
  let done = 0;
  let interrupted = false;
  for (let pass = 0; pass <= o.retries && !interrupted; pass++) {
    const t0 = performance.now();
    let sentThisPass = 0;
    let index = o.start;
    while (index < o.end) {
      if (aborted()) {
        interrupted = true;
        break;
      }
      drain();
      // packets per second against the wall clock, in bursts of at most 1,024
      const allowed = Math.floor(((performance.now() - t0) / 1000) * o.rate) + 1 - sentThisPass;
      let budget = Math.min(allowed, 1024);
      let full = false;
      while (budget > 0 && index < o.end) {
        const addrIdx = index % nAddrs;
        const port = o.ports[Math.floor(index / nAddrs)]!;
        if (pass > 0 && answered.has(o.addrs[addrIdx]! * 65536 + port)) {
          index++;
          continue;
        }
        if (o.sources[addrIdx] === 0) {
          if (pass === 0) stats.lost++;
          index++;
          if (pass === 0) done++;
          continue;
        }
        if (!sendProbe(index)) {
          full = true;
          break;
        }
        if (pass === 0) {
          stats.sent++;
          done++;
        } else stats.retransmits++;
        sentThisPass++;
        budget--;
        index++;
      }
      if (pass === 0) {
        const now = performance.now();
        if (marks.length === 0 || now - marks[marks.length - 1]!.t >= 100)
          marks.push({ t: now, index });
        while (marks.length > 1 && now - marks[1]!.t >= o.timeoutMs) marks.shift();
        if (marks.length > 0 && now - marks[0]!.t >= o.timeoutMs && o.retries === 0)
          settled = Math.max(settled, marks[0]!.index);
      }
      o.onProgress(done, stats);
      // wait for answers or for the next packets' turn, without blocking the event loop
      if (full) await new Promise<void>((r) => setImmediate(r));
      else if (index < o.end) {
        const nextDue = t0 + ((sentThisPass + 1) / o.rate) * 1000 - performance.now();
        await raw.readable(Math.min(Math.max(nextDue, 0), 5));
      }
    }
    // the pass's last SYNs get the full timeout to be answered
    const last = performance.now();
    while (!interrupted && performance.now() - last < o.timeoutMs) {
      if (aborted()) {
        interrupted = true;
        break;
      }
      await raw.readable(Math.min(20, o.timeoutMs - (performance.now() - last)));
      drain();
      o.onProgress(done, stats);
    }
  }
  drain();
  if (!interrupted) {
    settled = o.end;
    stats.unanswered = Math.max(0, stats.sent - stats.open - stats.closed - stats.refused);
  }
  return { ...stats, settled, interrupted };
}
