/**
 * `honeypot-load`: the camera honeypot under load on loopback. HTTP requests/s and p99 latency
 * with autocannon, and 1,000 concurrent telnet sessions (login, a Mirai probe, exit) from 100
 * loopback sources; each against the same servers with recording switched off (a sink that
 * keeps nothing) as the base. Then events recorded / events sent, which must be exactly 1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nullSink, startHoneypot } from '../src/honeypot/index.js';
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
    .select(['eventid', store.db.fn.countAll<number | string>().as('n')])
    .groupBy('eventid')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.eventid, Number(r.n)]));
}

export const run: BenchFn = async (ctx) => {
  const duration = Math.max(2, Math.round(10 * ctx.scale));
  const sessions = Math.max(100, Math.round(1000 * ctx.scale));
  const connections = 20;
  const dir = mkdtempSync(join(tmpdir(), 'mamori-bench-hp-'));
  const store = await openDb(join(dir, 'mamori.db'));
  const ports = { http: 0, rtsp: 0, telnet: 0, onvif: 0 };
  const figures: Figure[] = [];
  try {
    // Base: the same servers, recording nothing.
    const base = await startHoneypot({ store, ports, sink: nullSink, maxSessionsPerSource: 64 });
    ctx.log(`base http: autocannon ${connections} connections × ${duration}s`);
    const baseHttp = await autocannon({
      url: `http://127.0.0.1:${base.ports.http}/`,
      connections,
      duration,
    });
    ctx.log(`base telnet: ${sessions} concurrent sessions`);
    const baseTelnetMs = await telnetLoad(base.ports.telnet, sessions);
    await base.stop();

    const hp = await startHoneypot({ store, ports, maxSessionsPerSource: 64 });
    ctx.log('recording http');
    const recHttp = await autocannon({
      url: `http://127.0.0.1:${hp.ports.http}/`,
      connections,
      duration,
    });
    ctx.log('recording telnet');
    const recTelnetMs = await telnetLoad(hp.ports.telnet, sessions);
    await hp.stop();
    const counts = await countEvents(store);

    // What was sent: every HTTP request autocannon sent, each telnet session's connect, login,
    // two commands (the probe and exit) and close, and a connect/close per HTTP connection.
    const httpConns = counts['session.connect']! - sessions;
    const sent = recHttp.requests.sent + 2 * httpConns + sessions * 5;
    const recorded = Object.values(counts).reduce((a, b) => a + b, 0);
    const sentHttp = recHttp.requests.sent;
    figures.push(
      {
        name: 'HTTP requests/s, every request recorded',
        value: recHttp.requests.average,
        unit: 'req/s',
        base: 'same server, no recording',
        baseValue: baseHttp.requests.average,
        ratio: recHttp.requests.average / baseHttp.requests.average,
        goal: '≥ 0.3',
        met: recHttp.requests.average / baseHttp.requests.average >= 0.3,
      },
      {
        name: 'HTTP p99 latency, recorded',
        value: recHttp.latency.p99,
        unit: 'ms',
        base: 'same server, no recording',
        baseValue: baseHttp.latency.p99,
        ratio: recHttp.latency.p99 / Math.max(baseHttp.latency.p99, 1),
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
        value: counts['http.request'] ?? 0,
        unit: 'events',
        base: 'requests autocannon sent',
        baseValue: sentHttp,
        ratio: (counts['http.request'] ?? 0) / sentHttp,
        goal: '= 1',
        met: (counts['http.request'] ?? 0) === sentHttp,
      },
      {
        name: 'events recorded / events sent (all)',
        value: recorded,
        unit: 'events',
        base: 'events the clients caused',
        baseValue: sent,
        ratio: recorded / sent,
        goal: '= 1',
        met: recorded === sent,
      },
    );
    return {
      figures,
      notes: [
        `HTTP: autocannon, ${connections} keep-alive connections for ${duration}s each run, GET / (the camera's login page); the base is the same node:http server with a sink that records nothing.`,
        `Telnet: ${sessions} sessions opened at once from 100 loopback addresses (10 each, under the per-source cap), each logging in with root/xc3511, sending /bin/busybox MAMORI and exit; 5 events per session.`,
        `Store: embedded SQLite (WAL) in a temp dir; each event is acknowledged (the answer sent) only after its group-commit transaction and JSON-lines append.`,
        `events: ${JSON.stringify(counts)}; autocannon errors ${recHttp.errors}, timeouts ${recHttp.timeouts}.`,
      ],
    };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
};
