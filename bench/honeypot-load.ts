/**
 * `honeypot-load`: the camera honeypot under load on loopback. HTTP requests/s and p99 latency
 * with autocannon, and 1,000 concurrent telnet sessions (login, a Mirai probe, exit) from 100
 * loopback sources; each against the same servers with recording switched off (a sink that
 * keeps nothing) as the base. Then events recorded / events sent, which must be exactly 1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { nullSink, Recorder, startHoneypot } from '../src/honeypot/index.js';
import { openDb, type Store } from '../src/storage/index.js';
import type { BenchFn, Figure } from './lib.js';

interface CannonResult {
  requests: { average: number; sent: number; total: number };
  latency: { p99: number; average: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}
type Cannon = (opts: {
  url: string;
  connections: number;
  duration: number;
  pipelining?: number;
}) => Promise<CannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Cannon;

/** One telnet session: prompt, login, a probe, exit. Resolves when the server has closed it. */
function telnetSession(port: number, from: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, localAddress: from });
    let text = '';
    let step = 0;
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`telnet session from ${from} timed out at step ${step}`));
    }, 60_000);
    s.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (step === 0 && text.endsWith('login: ')) {
        step = 1;
        s.write('root\r\n');
      } else if (step === 1 && text.endsWith('Password: ')) {
        step = 2;
        s.write('xc3511\r\n');
      } else if (step === 2 && text.endsWith('# ')) {
        step = 3;
        text = '';
        s.write('/bin/busybox MAMORI\r\n');
      } else if (step === 3 && text.includes('applet not found') && text.endsWith('# ')) {
        step = 4;
        s.write('exit\r\n');
      }
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    s.on('close', () => {
      clearTimeout(timer);
      if (step === 4) resolve();
      else reject(new Error(`telnet session from ${from} closed at step ${step}`));
    });
  });
}

async function telnetLoad(port: number, sessions: number): Promise<number> {
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: sessions }, (_, i) =>
      telnetSession(port, `127.0.${10 + Math.floor(i / 250)}.${1 + (Math.floor(i / 10) % 25)}`),
    ),
  );
  return performance.now() - t0;
}

async function countEvents(store: Store): Promise<Record<string, number>> {
  const rows = await store.db
    .selectFrom('honeypot_event')
    .select(['protocol', 'eventid', store.db.fn.countAll<number | string>().as('n')])
    .groupBy(['protocol', 'eventid'])
    .execute();
  return Object.fromEntries(rows.map((r) => [`${r.protocol}:${r.eventid}`, Number(r.n)]));
}

export const run: BenchFn = async (ctx) => {
  const duration = Math.max(2, Math.round(10 * ctx.scale));
  const sessions = Math.max(100, Math.round(1000 * ctx.scale));
  const connections = 20;
  const dir = mkdtempSync(join(tmpdir(), 'mamori-bench-hp-'));
  const store = await openDb(join(dir, 'mamori.db'));
  const ports = { http: 0, rtsp: 0, telnet: 0, onvif: 0 };
  const figures: Figure[] = [];
  const loadAtStart = loadavg()[0]!;
  try {
    // Base: the same servers, recording nothing. Both run side by side and the loads
    // alternate (base, recorded, base, recorded), keeping the best of each: the machine is
    // shared, and alternating spreads its noise over both sides.
    const base = await startHoneypot({ store, ports, sink: nullSink, maxSessionsPerSource: 64 });
    // Recording as in production: the store and the JSON-lines log.
    const hp = await startHoneypot({
      store,
      ports,
      maxSessionsPerSource: 64,
      logPath: join(dir, 'events.jsonl'),
    });
    // Before (same run): the recorder committing on the event loop's own thread, into a store
    // of its own so the event counts below stay those of the recording server.
    const beforeStore = await openDb(join(dir, 'before.db'));
    const beforeRec = await Recorder.open({
      store: beforeStore,
      logPath: join(dir, 'before.jsonl'),
      writerThread: false,
    });
    const before = await startHoneypot({
      store: beforeStore,
      ports,
      maxSessionsPerSource: 64,
      sink: beforeRec,
    });
    const rounds = 2;
    const baseRuns: CannonResult[] = [];
    const recRuns: CannonResult[] = [];
    const beforeRuns: CannonResult[] = [];
    const baseTelnet: number[] = [];
    const recTelnet: number[] = [];
    for (let round = 0; round < rounds; round++) {
      for (const [name, srv, runs] of [
        ['base', base, baseRuns],
        ['recording', hp, recRuns],
        ['recording on the event loop thread (before)', before, beforeRuns],
      ] as const) {
        ctx.log(`round ${round + 1}: ${name} http, ${connections} connections × ${duration}s`);
        runs.push(
          await autocannon({ url: `http://127.0.0.1:${srv.ports.http}/`, connections, duration }),
        );
      }
      ctx.log(`round ${round + 1}: base telnet, ${sessions} concurrent sessions`);
      baseTelnet.push(await telnetLoad(base.ports.telnet, sessions));
      ctx.log(`round ${round + 1}: recording telnet`);
      recTelnet.push(await telnetLoad(hp.ports.telnet, sessions));
    }
    await base.stop();
    await before.stop();
    const bs = beforeRec.stats;
    await beforeRec.close();
    await beforeStore.close();
    const rs = hp.recorder!.stats;
    await hp.stop();
    const best = (runs: CannonResult[]) => ({
      rps: Math.max(...runs.map((r) => r.requests.average)),
      p99: Math.min(...runs.map((r) => r.latency.p99)),
    });
    const baseHttp = best(baseRuns);
    const recBest = best(recRuns);
    const baseTelnetMs = Math.min(...baseTelnet);
    const recTelnetMs = Math.min(...recTelnet);
    const recHttp = {
      requests: { average: recBest.rps, sent: recRuns.reduce((a, r) => a + r.requests.sent, 0) },
      latency: { p99: recBest.p99 },
      errors: recRuns.reduce((a, r) => a + r.errors, 0),
      timeouts: recRuns.reduce((a, r) => a + r.timeouts, 0),
    };
    const totalSessions = sessions * rounds;
    const counts = await countEvents(store);

    // What the clients sent, counted on the client side: every HTTP request autocannon sent,
    // and per telnet session its connect, login, two commands (the probe and exit) and close.
    // HTTP connection open/close events are left out of both sides (autocannon does not count
    // its reconnections) and checked separately: every HTTP connect has its close.
    const sent = recHttp.requests.sent + totalSessions * 5;
    const recorded = Object.entries(counts)
      .filter(([k]) => !k.startsWith('http:session.'))
      .reduce((a, [, n]) => a + n, 0);
    const httpBalanced = counts['http:session.connect'] === counts['http:session.closed'];
    const sentHttp = recHttp.requests.sent;
    figures.push(
      {
        name: 'HTTP requests/s, every request recorded',
        value: recHttp.requests.average,
        unit: 'req/s',
        base: 'same server, no recording',
        baseValue: baseHttp.rps,
        ratio: recHttp.requests.average / baseHttp.rps,
        goal: '≥ 0.9',
        met: recHttp.requests.average / baseHttp.rps >= 0.9,
      },
      {
        name: 'HTTP p99 latency, recorded',
        value: recHttp.latency.p99,
        unit: 'ms',
        base: 'same server, no recording',
        baseValue: baseHttp.p99,
        ratio: recHttp.latency.p99 / Math.max(baseHttp.p99, 1),
        goal: '≤ 2',
        met: recHttp.latency.p99 / Math.max(baseHttp.p99, 1) <= 2,
      },
      {
        name: 'HTTP requests/s, recorded, committing on the event loop thread (before)',
        value: best(beforeRuns).rps,
        unit: 'req/s',
        base: 'same server, no recording',
        baseValue: baseHttp.rps,
        ratio: best(beforeRuns).rps / baseHttp.rps,
      },
      {
        name: 'HTTP p99 latency, recorded on the event loop thread (before)',
        value: best(beforeRuns).p99,
        unit: 'ms',
        base: 'same server, no recording',
        baseValue: baseHttp.p99,
        ratio: best(beforeRuns).p99 / Math.max(baseHttp.p99, 1),
      },
      {
        name: `${sessions} concurrent telnet sessions (login, probe, exit)`,
        value: (sessions / recTelnetMs) * 1000,
        unit: 'sessions/s',
        base: 'same server, no recording',
        baseValue: (sessions / baseTelnetMs) * 1000,
        ratio: baseTelnetMs / recTelnetMs,
      },
      {
        name: 'http.request events / HTTP requests sent',
        value: counts['http:http.request'] ?? 0,
        unit: 'events',
        base: 'requests autocannon sent (both rounds)',
        baseValue: sentHttp,
        ratio: (counts['http:http.request'] ?? 0) / sentHttp,
        goal: '= 1',
        met: (counts['http:http.request'] ?? 0) === sentHttp,
      },
      {
        name: 'events recorded / events sent (HTTP requests + telnet sessions × 5)',
        value: recorded,
        unit: 'events',
        base: 'events the clients caused',
        baseValue: sent,
        ratio: recorded / sent,
        goal: '= 1',
        met: recorded === sent && httpBalanced,
      },
    );
    return {
      figures,
      notes: [
        `Machine load: 1-minute load average ${loadAtStart.toFixed(1)} at the start and ${loadavg()[0]!.toFixed(1)} at the end, on 2 cores shared with other sessions' jobs: both sides are slowed, and the ratios are noisy.`,
        `HTTP: autocannon, ${connections} keep-alive connections for ${duration}s per run, GET / (the camera's login page), ${rounds} alternating rounds, best run of each side; the base is the same node:http server with a sink that records nothing. The machine is shared with other jobs: ratios move between runs.`,
        `Telnet: ${sessions} sessions opened at once from 100 loopback addresses (10 each, under the per-source cap), each logging in with root/xc3511, sending /bin/busybox MAMORI and exit; 5 events per session; best of ${rounds} rounds; the event ratio counts every session of every round.`,
        `Store: embedded SQLite (WAL) in a temp dir plus the JSON-lines log; each event is acknowledged (the answer sent) only after its group-commit transaction and log append.`,
        `The recording server uses two threads (the event loop and the store writer), the base one. On a machine loaded far past its 2 cores the scheduler gives the second thread its own share of the CPU, which is how the recorded side can beat the base: a ratio above 1× here is that artefact, not recording for free. Only a run on a quiet machine says whether the goals hold; the same-run before/after (in-thread vs writer thread, above) shows the direction.`,
        `Where recording time went (whole run, ${rs.batches} batches, ${rs.committed} events, ${(rs.committed / Math.max(rs.batches, 1)).toFixed(1)} per batch): serialising ${rs.serialiseMs.toFixed(0)} ms on the event loop; on the writer thread, store transactions ${rs.storeMs.toFixed(0)} ms then log appends ${rs.logMs.toFixed(0)} ms; from hand-off to the thread's answer ${rs.writeMs.toFixed(0)} ms.`,
        `Before (commits on the event loop thread, HTTP only, its own store): ${bs.batches} batches, ${bs.committed} events, ${(bs.committed / Math.max(bs.batches, 1)).toFixed(1)} per batch; serialising ${bs.serialiseMs.toFixed(0)} ms, store transactions ${bs.storeMs.toFixed(0)} ms, log appends ${bs.logMs.toFixed(0)} ms (side by side; joint wall time ${bs.writeMs.toFixed(0)} ms).`,
        `events by protocol:id ${JSON.stringify(counts)}; HTTP connects all closed: ${httpBalanced}; autocannon errors ${recHttp.errors}, timeouts ${recHttp.timeouts}.`,
      ],
    };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
};
