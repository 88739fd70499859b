/**
 * What real scanners do at the edges of a connection: reset it at once (connect scans), send
 * another protocol's request to the telnet login, half-close after a request, leave out CSeq,
 * and hold the session cap with many sources. Each answer and each recorded event is checked.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningHoneypot, startHoneypot } from '../../src/honeypot/index.js';
import { freshStore, type TestStore } from '../helpers/db.js';
import { RawClient } from './simulator.js';

describe('connection edges', () => {
  let t: TestStore;
  let hp: RunningHoneypot;
  beforeAll(async () => {
    t = await freshStore('sqlite');
    hp = await startHoneypot({
      store: t.store,
      ports: { http: 0, rtsp: 0, telnet: 0, onvif: 0 },
      auth: 'weak',
      maxSessionsPerSource: 4,
      maxSessions: 8,
      idleMs: 5000,
    });
  });
  afterAll(async () => {
    await hp?.stop();
    await t?.cleanup();
  });

  async function events(ip: string) {
    await new Promise((r) => setTimeout(r, 50));
    await hp.recorder!.flush();
    const rows = await t.store.db
      .selectFrom('honeypot_event')
      .select(['eventid', 'protocol', 'src_ip', 'username', 'password', 'summary'])
      .where('src_ip', '=', ip)
      .orderBy('id')
      .execute();
    return rows.map((r) => ({ ...r, summary: JSON.parse(r.summary) as Record<string, unknown> }));
  }

  it('keeps the source of connections reset at once (connect scans), never `?`', async () => {
    const ip = '127.0.0.141';
    const n = 40;
    await Promise.all(
      Array.from(
        { length: n },
        (_, i) =>
          new Promise<void>((resolve) => {
            const port = [hp.ports.http, hp.ports.rtsp, hp.ports.telnet, hp.ports.onvif][i % 4]!;
            const s = connect({ host: '127.0.0.1', port, localAddress: ip }, () => {
              s.resetAndDestroy();
            });
            s.on('error', () => {});
            s.on('close', () => resolve());
          }),
      ),
    );
    const deadline = Date.now() + 5000;
    while (hp.openSessions() > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    const mine = (await events(ip)).filter((e) => e.eventid === 'session.connect');
    expect(mine.length).toBe(n);
    await hp.recorder!.flush();
    const unknown = await t.store.db
      .selectFrom('honeypot_event')
      .select('id')
      .where('src_ip', '=', '?')
      .execute();
    expect(unknown).toEqual([]);
  });

  it('takes a SIP or HTTP request at the telnet login as a probe, not a login', async () => {
    const ip = '127.0.0.142';
    const c = new RawClient(ip, hp.ports.telnet);
    await c.ready;
    await c.waitFor(/IPCAM login: $/);
    // nmap's SIPOptions probe, byte for byte.
    c.send(
      'OPTIONS sip:nm SIP/2.0\r\nVia: SIP/2.0/TCP nm;branch=foo\r\nFrom: <sip:nm@nm>;tag=root\r\nTo: <sip:nm2@nm2>\r\nCall-ID: 50000\r\nCSeq: 42 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\nContact: <sip:nm@nm>\r\nAccept: application/sdp\r\n\r\n',
    );
    await c.waitClosed();
    const ev = await events(ip);
    expect(ev.filter((e) => e.eventid.startsWith('login.'))).toEqual([]);
    expect(ev.filter((e) => e.eventid === 'input.invalid').map((e) => e.summary.reason)).toEqual([
      'protocol probe (SIP)',
    ]);
  });

  it('opens telnet as BusyBox does and echoes the username, never the password', async () => {
    const c = new RawClient('127.0.0.143', hp.ports.telnet);
    await c.ready;
    await c.waitFor(/IPCAM login: $/);
    expect([...c.received.subarray(0, 15)]).toEqual([
      255, 253, 1, 255, 253, 31, 255, 253, 33, 255, 251, 1, 255, 251, 3,
    ]);
    c.send('root\r\n');
    await c.waitFor(/login: root\r\nPassword: $/);
    c.send('wrong-secret\r\n');
    const after = await c.waitFor(/Login incorrect\r\nIPCAM login: $/);
    expect(after).not.toContain('wrong-secret');
    await c.close();
  });

  it('answers and records an HTTP request followed by a half-close', async () => {
    const ip = '127.0.0.144';
    const c = new RawClient(ip, hp.ports.http);
    await c.ready;
    c.send('GET /snapshot.jpg HTTP/1.1\r\nHost: cam\r\n\r\n');
    c.socket.end();
    await c.waitFor(/^HTTP\/1\.1 401 Unauthorized\r\n/);
    await c.waitClosed();
    const ev = await events(ip);
    expect(ev.filter((e) => e.eventid === 'http.request').map((e) => e.summary.path)).toEqual([
      '/snapshot.jpg',
    ]);
  });

  it('answers and records an RTSP request followed by a half-close', async () => {
    const ip = '127.0.0.145';
    const c = new RawClient(ip, hp.ports.rtsp);
    await c.ready;
    c.send('OPTIONS rtsp://127.0.0.1/11 RTSP/1.0\r\nCSeq: 5\r\n\r\n');
    c.socket.end();
    await c.waitFor(/^RTSP\/1\.0 200 OK\r\nCSeq: 5\r\n/);
    await c.waitClosed();
    const ev = await events(ip);
    expect(ev.filter((e) => e.eventid === 'rtsp.request').map((e) => e.summary.method)).toEqual([
      'OPTIONS',
    ]);
  });

  it('refuses an RTSP request without CSeq (400 with CSeq 0) and 404s unknown streams', async () => {
    const c = new RawClient('127.0.0.146', hp.ports.rtsp);
    await c.ready;
    c.send('OPTIONS rtsp://127.0.0.1/ RTSP/1.0\r\n\r\n');
    await c.waitFor(/^RTSP\/1\.0 400 Bad Request\r\nCSeq: 0\r\n/);
    const mark = c.text().length;
    c.send('DESCRIBE rtsp://127.0.0.1/no/such/stream RTSP/1.0\r\nCSeq: 2\r\n\r\n');
    await c.waitFor(/^RTSP\/1\.0 404 Stream Not Found\r\nCSeq: 2\r\n/, 5000, mark);
    await c.close();
  });

  it('lets a new source in when a few sources hold every session', async () => {
    // 2 sources × 4 sessions fill the total of 8; a third source must still get a session.
    const holders: RawClient[] = [];
    for (const ip of ['127.0.0.151', '127.0.0.152'])
      for (let i = 0; i < 4; i++) {
        const c = new RawClient(ip, hp.ports.telnet);
        await c.ready;
        await c.waitFor(/login: $/);
        holders.push(c);
      }
    expect(hp.openSessions()).toBe(8);
    const late = new RawClient('127.0.0.153', hp.ports.telnet);
    await late.ready;
    await late.waitFor(/IPCAM login: $/);
    // A busiest source lost its oldest session to make room.
    const deadline = Date.now() + 2000;
    while (!holders.some((h) => h.closed) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    expect(holders.filter((h) => h.closed).length).toBe(1);
    expect(hp.openSessions()).toBe(8);
    await late.close();
    for (const h of holders) if (!h.closed) await h.close();
  });
});
