/**
 * Bad input on every port: oversized requests, slowloris, binary garbage, malformed RTSP,
 * telnet option storms and floods, and more sessions than a source may hold. The honeypot must
 * stay up, keep its buffers bounded, and record the garbage as `input.invalid`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningHoneypot, startHoneypot } from '../../src/honeypot/index.js';
import { freshStore, type TestStore } from '../helpers/db.js';
import { httpReq, RawClient } from './simulator.js';

/** Deterministic bytes (xorshift), never starting with a printable letter. */
function garbageBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  out[0] = 0x00;
  return out;
}

describe('honeypot under bad input', () => {
  let t: TestStore;
  let hp: RunningHoneypot;

  beforeAll(async () => {
    t = await freshStore('sqlite');
    hp = await startHoneypot({
      store: t.store,
      ports: { http: 0, rtsp: 0, telnet: 0, onvif: 0 },
      auth: 'weak',
      idleMs: 600,
      maxSessionsPerSource: 4,
    });
  });
  afterAll(async () => {
    await hp?.stop();
    await t?.cleanup();
  });

  async function invalidFrom(ip: string): Promise<{ protocol: string; reason: string }[]> {
    await hp.recorder!.flush();
    const rows = await t.store.db
      .selectFrom('honeypot_event')
      .select(['protocol', 'summary'])
      .where('eventid', '=', 'input.invalid')
      .where('src_ip', '=', ip)
      .orderBy('id')
      .execute();
    return rows.map((r) => ({ protocol: r.protocol, reason: JSON.parse(r.summary).reason }));
  }

  async function stillUp() {
    const r = await httpReq('127.0.0.1', hp.ports.http, '/');
    expect(r.status).toBe(200);
  }

  it('answers an oversized header with 431 and an oversized body with 413', async () => {
    const c = new RawClient('127.0.0.101', hp.ports.http);
    await c.ready;
    c.send(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'A'.repeat(20_000)}\r\n\r\n`);
    await c.waitFor(/^HTTP\/1\.1 431/);
    await c.waitClosed();
    const big = 'x'.repeat(100_000);
    const r = await httpReq('127.0.0.101', hp.ports.onvif, '/onvif/device_service', {
      method: 'POST',
      body: big,
    }).catch((e: Error) => ({ status: -1, error: e }));
    expect([413, -1]).toContain(r.status);
    const reasons = (await invalidFrom('127.0.0.101')).map((e) => `${e.protocol}:${e.reason}`);
    expect(reasons).toEqual(['http:oversized header', 'onvif:oversized body']);
    await stillUp();
  });

  it('cuts a slowloris client off after the header timeout', async () => {
    const c = new RawClient('127.0.0.102', hp.ports.http);
    await c.ready;
    c.send('GET / HTTP/1.1\r\nHost: x\r\n');
    let sent = 0;
    for (; sent < 40 && !c.closed; sent++) {
      c.send(`X-Slow-${sent}: y\r\n`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await c.waitClosed(5000);
    // cut off while it was still trickling headers, not after it gave up
    expect(sent).toBeLessThan(40);
    const reasons = (await invalidFrom('127.0.0.102')).map((e) => e.reason);
    expect(reasons).toEqual(['request timeout (slow client)']);
    await stillUp();
  });

  it('records binary garbage on every port as such and stays up', async () => {
    const ip = '127.0.0.103';
    for (const [i, port] of [
      hp.ports.http,
      hp.ports.rtsp,
      hp.ports.telnet,
      hp.ports.onvif,
    ].entries()) {
      const c = new RawClient(ip, port);
      await c.ready;
      if (port === hp.ports.telnet) await c.waitFor(/login: $/);
      c.send(garbageBytes(4096, 1234 + i));
      await c.waitClosed(5000);
    }
    const got = await invalidFrom(ip);
    expect(got.map((e) => e.protocol)).toEqual(['http', 'rtsp', 'telnet', 'onvif']);
    expect(got[1]!.reason).toBe('not RTSP');
    expect(['binary garbage', 'telnet option storm']).toContain(got[2]!.reason);
    await stillUp();
  });

  it('rejects malformed and oversized RTSP', async () => {
    const ip = '127.0.0.104';
    const cases = [
      'DESCRIBE rtsp://127.0.0.1/ RTSP/1.0\r\nNoColonHere\r\n\r\n',
      'OPTIONS * HTTP/1.1\r\nCSeq: 1\r\n\r\n',
      `OPTIONS rtsp://127.0.0.1/ RTSP/1.0\r\nX: ${'A'.repeat(20_000)}`,
    ];
    for (const text of cases) {
      const c = new RawClient(ip, hp.ports.rtsp);
      await c.ready;
      c.send(text);
      // Every reply carries a CSeq, a 400 too: the request's, or 0 when it had none.
      await c.waitFor(/^RTSP\/1\.0 400 Bad Request\r\nCSeq: [01]\r\n/);
      await c.waitClosed();
    }
    expect((await invalidFrom(ip)).map((e) => e.reason)).toEqual([
      'malformed RTSP',
      'not RTSP',
      'oversized request',
    ]);
  });

  it('answers each telnet option once and ends an option storm', async () => {
    const ip = '127.0.0.105';
    const c = new RawClient(ip, hp.ports.telnet);
    await c.ready;
    await c.waitFor(/login: $/);
    const storm: number[] = [];
    for (let i = 0; i < 3000; i++) storm.push(255, 253, 24 + (i % 8));
    c.send(Uint8Array.from(storm));
    await c.waitClosed();
    // The server's answers are bounded: at most one refusal per option, not one per request.
    expect(c.received.length).toBeLessThan(200);
    expect((await invalidFrom(ip)).map((e) => e.reason)).toEqual(['telnet option storm']);
    await stillUp();
  });

  it('ends a telnet flood without a newline after a bounded amount', async () => {
    const ip = '127.0.0.106';
    const c = new RawClient(ip, hp.ports.telnet);
    await c.ready;
    await c.waitFor(/login: $/);
    const chunk = 'A'.repeat(64 * 1024);
    for (let i = 0; i < 16 && !c.closed; i++) c.send(chunk);
    await c.waitClosed();
    const reasons = (await invalidFrom(ip)).map((e) => e.reason);
    expect(reasons.length).toBe(1);
    expect(['overlong line', 'input flood']).toContain(reasons[0]);
  });

  it('caps concurrent sessions per source and records the refusals', async () => {
    const ip = '127.0.0.107';
    const clients = Array.from({ length: 6 }, () => new RawClient(ip, hp.ports.telnet));
    await Promise.all(clients.map((c) => c.ready.catch(() => {})));
    await new Promise((r) => setTimeout(r, 300));
    const open = clients.filter((c) => !c.closed);
    expect(open.length).toBe(4);
    await hp.recorder!.flush();
    const refused = await t.store.db
      .selectFrom('honeypot_event')
      .select('summary')
      .where('src_ip', '=', ip)
      .where('eventid', '=', 'session.connect')
      .execute();
    expect(refused.filter((r) => r.summary.includes('concurrent session cap')).length).toBe(2);
    await Promise.all(open.map((c) => c.close()));
  });

  it('keeps memory bounded over a thousand garbage connections', async () => {
    const before = process.memoryUsage().heapUsed;
    for (let round = 0; round < 50; round++) {
      await Promise.all(
        Array.from({ length: 20 }, async (_, k) => {
          const ip = `127.0.1.${(round * 20 + k) % 250}`;
          const port = [hp.ports.http, hp.ports.rtsp, hp.ports.onvif][k % 3]!;
          const c = new RawClient(ip, port);
          await c.ready;
          c.send(garbageBytes(2048, round * 100 + k + 1));
          await c.waitClosed(5000);
        }),
      );
    }
    // The server sees each close a moment after the client does: wait (bounded) for the last ones.
    await expect.poll(() => hp.openSessions(), { timeout: 10_000 }).toBe(0);
    await hp.recorder!.flush();
    expect(hp.recorder!.stats.queued).toBe(0);
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(64 * 1024 * 1024);
    await stillUp();
  });
});
