/**
 * Honeypot sensors against a real `serve` listener (startServer on 127.0.0.1 port 0) and a real
 * store, on both backends: the ingest endpoint's refusals (no token, wrong token, revoked token,
 * another sensor's token, malformed and half-bad batches, a second queue file under one name),
 * a replayed batch adding nothing, and a real SensorQueue + SensorReporter that keeps its queue
 * through a refusal and verifies the centre's TLS certificate (refused without --ca).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  addSensor,
  centreUrl,
  type HoneypotEvent,
  honeypotReport,
  INGEST_PATH,
  listSensors,
  type ReporterStatus,
  revokeSensor,
  SensorQueue,
  SensorReporter,
} from '../../src/honeypot/index.js';
import { type RunningServer, startServer } from '../../src/web/index.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';
import { testApp } from '../helpers/web.js';

const run = promisify(execFile);

function event(seq: number, over: Record<string, unknown> = {}) {
  return {
    seq,
    eventid: 'login.failed',
    time: new Date(Date.UTC(2026, 11, 4, 1, 0, seq)).toISOString(),
    session: `sess-${seq}`,
    protocol: 'telnet',
    srcIp: '127.0.0.9',
    srcPort: 40000 + seq,
    dstPort: 2323,
    username: 'root',
    password: 'xc3511',
    summary: { attempt: seq },
    ...over,
  };
}

const hpEvent = (seq: number) => event(seq) as unknown as HoneypotEvent;

function batch(sensor: string, seqs: number[], over: Record<string, unknown> = {}) {
  return {
    sensor,
    batch: `batch-${seqs.join('-')}-${Math.random().toString(36).slice(2, 8)}`,
    queue: 'queue-aaaaaaaa',
    depth: 0,
    events: seqs.map((s) => event(s)),
    ...over,
  };
}

async function sensorEvents(t: TestStore, sensor: string): Promise<number> {
  const r = await t.store.db
    .selectFrom('honeypot_sensor_event')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('sensor', '=', sensor)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

async function waitFor(what: string, test: () => Promise<boolean> | boolean, ms = 20_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await test()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

for (const backend of testBackends()) {
  describe(`honeypot sensors (${backend})`, () => {
    let t: TestStore;
    let server: RunningServer;
    let dir: string;
    const cleanups: (() => Promise<void>)[] = [];

    beforeEach(async () => {
      t = await freshStore(backend);
      server = await startServer({ store: t.store, host: '127.0.0.1', port: 0, version: 'test' });
      dir = mkdtempSync(join(tmpdir(), 'mamori-sensor-'));
    });
    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c();
      await server.close();
      await t.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    const post = (body: unknown, token?: string) =>
      fetch(new URL(INGEST_PATH, server.url), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });

    it('stores a batch once: a replay, and an overlapping batch, add nothing twice', async () => {
      const { token } = await addSensor(t.store, 'osaka-1');
      const first = await post(batch('osaka-1', [1, 2, 3]), token);
      expect(first.status).toBe(200);
      expect(await first.json()).toMatchObject({ accepted: 3, duplicates: 0, highest: 3 });
      const body = batch('osaka-1', [4, 5]);
      expect(await (await post(body, token)).json()).toMatchObject({ accepted: 2 });
      const replay = await post(body, token);
      expect(replay.status).toBe(200);
      expect(await replay.json()).toMatchObject({ accepted: 0, duplicates: 2, highest: 5 });
      const overlap = await post(batch('osaka-1', [5, 6]), token);
      expect(await overlap.json()).toMatchObject({ accepted: 1, duplicates: 1 });
      expect(await sensorEvents(t, 'osaka-1')).toBe(6);
      const [s] = await listSensors(t.store);
      expect(s).toMatchObject({ name: 'osaka-1', events: 6, batches: 4, queueDepth: 0 });
      const { extras } = await honeypotReport(t.store, { sensor: 'osaka-1' });
      expect(extras.events).toBe(6);
      // The console's Honeypot page shows the sensor's status, in Japanese too.
      const { request } = await testApp(t.store, 'test', 'viewer');
      const page = await (await request('/honeypot')).text();
      expect(page).toMatch(
        /<tr data-sensor="osaka-1"><td><code>osaka-1<\/code><\/td><td>active<\/td>/,
      );
      expect(page).toMatch(/<td>0<\/td><td>6<\/td><td>4<\/td><\/tr>/);
      expect(await (await request('/honeypot?lang=ja')).text()).toContain('センサー');
    });

    it('refuses a missing, wrong, revoked or borrowed token and stores nothing', async () => {
      const a = await addSensor(t.store, 'sensor-a');
      const b = await addSensor(t.store, 'sensor-b');
      const none = await post(batch('sensor-a', [1]));
      expect(none.status).toBe(401);
      const wrong = await post(batch('sensor-a', [1]), `mhs_${'x'.repeat(43)}`);
      expect(wrong.status).toBe(401);
      expect(await wrong.json()).toMatchObject({ error: { code: 'E_AUTH' } });
      const borrowed = await post(batch('sensor-a', [1]), b.token);
      expect(borrowed.status).toBe(403);
      await revokeSensor(t.store, 'sensor-a');
      const revoked = await post(batch('sensor-a', [1]), a.token);
      expect(revoked.status).toBe(403);
      expect((await revoked.json()).error.message).toMatch(/revoked/);
      expect(await sensorEvents(t, 'sensor-a')).toBe(0);
      await expect(revokeSensor(t.store, 'nobody')).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
      await expect(addSensor(t.store, 'sensor-b')).rejects.toMatchObject({ code: 'E_USAGE' });
      await expect(addSensor(t.store, 'Bad Name')).rejects.toMatchObject({ code: 'E_USAGE' });
    });

    it('refuses malformed batches whole: one bad event stores none of its batch', async () => {
      const { token } = await addSensor(t.store, 'kobe-1');
      const bad: [string, unknown][] = [
        ['not JSON', '{"sensor":'],
        ['not an object', [1, 2]],
        ['unknown eventid', batch('kobe-1', [1], { events: [event(1, { eventid: 'rm -rf' })] })],
        ['seq zero', batch('kobe-1', [1], { events: [event(0)] })],
        ['seq twice', batch('kobe-1', [1], { events: [event(1), event(1)] })],
        ['bad time', batch('kobe-1', [1], { events: [event(1, { time: 'yesterday' })] })],
        ['bad port', batch('kobe-1', [1], { events: [event(1, { srcPort: 70000 })] })],
        [
          'nested summary',
          batch('kobe-1', [1], { events: [event(1), event(2, { summary: { a: { b: 1 } } })] }),
        ],
        ['no batch id', batch('kobe-1', [1], { batch: '' })],
        ['negative depth', batch('kobe-1', [1], { depth: -1 })],
      ];
      for (const [why, body] of bad) {
        const res = await post(body, token);
        expect(res.status, why).toBe(400);
        expect(await res.json(), why).toMatchObject({ error: { code: 'E_INPUT' } });
      }
      expect(await sensorEvents(t, 'kobe-1')).toBe(0);
      // A second queue file under the same name would reuse sequence numbers: refused.
      expect((await post(batch('kobe-1', [1]), token)).status).toBe(200);
      const other = await post(batch('kobe-1', [2], { queue: 'queue-bbbbbbbb' }), token);
      expect(other.status).toBe(409);
      expect(await sensorEvents(t, 'kobe-1')).toBe(1);
    });

    it('a sensor keeps its queue through a refusal and delivers once given a good token', async () => {
      const { token } = await addSensor(t.store, 'nara-1');
      const queue = await SensorQueue.open(join(dir, 'queue.db'));
      cleanups.push(() => queue.close());
      for (let i = 1; i <= 30; i++) await queue.recorder.record(hpEvent(i));
      const states: ReporterStatus[] = [];
      const refused = new SensorReporter({
        queue,
        url: server.url,
        sensor: 'nara-1',
        token: `mhs_${'y'.repeat(43)}`,
        onStatus: (s) => states.push(s),
      });
      refused.start();
      await waitFor('a refusal', () => states.some((s) => s.state === 'refused'));
      await refused.stop();
      expect(states.find((s) => s.state === 'refused')?.reason).toMatch(/^401/);
      expect(await queue.depth()).toBe(30);
      expect(await sensorEvents(t, 'nara-1')).toBe(0);
      const good = new SensorReporter({
        queue,
        url: server.url,
        sensor: 'nara-1',
        token,
        batchSize: 7,
      });
      good.start();
      expect(await good.drain(20_000)).toBe(true);
      await good.stop();
      expect(good.status).toMatchObject({ delivered: 30, duplicates: 0, batches: 5 });
      expect(await sensorEvents(t, 'nara-1')).toBe(30);
      // Revoked: new events stay queued, the refusal is reported.
      await revokeSensor(t.store, 'nara-1');
      await queue.recorder.record(hpEvent(31));
      const after: ReporterStatus[] = [];
      const r3 = new SensorReporter({
        queue,
        url: server.url,
        sensor: 'nara-1',
        token,
        onStatus: (s) => after.push(s),
      });
      r3.start();
      await waitFor('a refusal', () => after.some((s) => s.state === 'refused'));
      await r3.stop();
      expect(after.find((s) => s.state === 'refused')?.reason).toMatch(/^403.*revoked/);
      expect(await queue.depth()).toBe(1);
      expect(await sensorEvents(t, 'nara-1')).toBe(30);
    });

    it('plain http only to loopback unless told; https verifies the certificate (--ca)', async () => {
      expect(() => centreUrl('http://mamori.example:8080', false)).toThrow(/clear/);
      expect(centreUrl('http://mamori.example:8080', true).pathname).toBe(INGEST_PATH);
      expect(centreUrl('http://127.0.0.1:8080', false).pathname).toBe(INGEST_PATH);
      expect(() => centreUrl('ftp://127.0.0.1/', false)).toThrow(/https/);
      const cert = join(dir, 'cert.pem');
      const key = join(dir, 'key.pem');
      await run('openssl', [
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
      const tls = await startServer({
        store: t.store,
        host: '127.0.0.1',
        port: 0,
        version: 'test',
        tls: { certFile: cert, keyFile: key },
      });
      cleanups.push(() => tls.close());
      const { token } = await addSensor(t.store, 'tls-1');
      const queue = await SensorQueue.open(join(dir, 'tls-queue.db'));
      cleanups.push(() => queue.close());
      await queue.recorder.record(hpEvent(1));
      const states: ReporterStatus[] = [];
      const blind = new SensorReporter({
        queue,
        url: tls.url,
        sensor: 'tls-1',
        token,
        onStatus: (s) => states.push(s),
      });
      blind.start();
      await waitFor('a certificate failure', () => states.some((s) => s.state === 'unreachable'));
      await blind.stop();
      expect(states.find((s) => s.state === 'unreachable')?.reason).toMatch(
        /self.signed|certificate/i,
      );
      expect(await sensorEvents(t, 'tls-1')).toBe(0);
      const trusting = new SensorReporter({
        queue,
        url: tls.url,
        sensor: 'tls-1',
        token,
        ca: readFileSync(cert, 'utf8'),
      });
      trusting.start();
      expect(await trusting.drain(20_000)).toBe(true);
      await trusting.stop();
      expect(await sensorEvents(t, 'tls-1')).toBe(1);
    });
  });
}
