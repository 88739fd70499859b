/**
 * The attacker simulator: scanners, banner grabbers, a Mirai-style credential guesser, viewers,
 * PTZ operators and an exploiter, each from its own loopback address (127.0.0.0/8), played
 * against a honeypot on 127.0.0.1. Real sockets, real protocols; bounded in time.
 * Only ever connects to 127.0.0.1.
 */
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';

export const TARGET = '127.0.0.1';

function assertLoopback(host: string): void {
  if (!/^127\./.test(host)) throw new Error(`simulator refuses non-loopback ${host}`);
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One HTTP request from `from`; for MJPEG, stops after `maxBytes`. */
export function httpReq(
  from: string,
  port: number,
  path: string,
  opts: {
    method?: string;
    auth?: string;
    body?: string;
    headers?: Record<string, string>;
    maxBytes?: number;
    timeoutMs?: number;
  } = {},
): Promise<HttpResult> {
  assertLoopback(from);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: TARGET,
        port,
        path,
        method: opts.method ?? 'GET',
        localAddress: from,
        agent: false,
        headers: {
          'User-Agent': 'sim/1.0',
          ...(opts.auth
            ? { Authorization: `Basic ${Buffer.from(opts.auth).toString('base64')}` }
            : {}),
          ...(opts.body !== undefined
            ? { 'Content-Length': String(Buffer.byteLength(opts.body)) }
            : {}),
          ...opts.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          chunks.push(c);
          size += c.length;
          if (opts.maxBytes && size >= opts.maxBytes) {
            res.destroy();
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks),
            });
          }
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(opts.timeoutMs ?? 10_000, () => req.destroy(new Error(`timeout ${path}`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A raw TCP client that collects what it receives (telnet IAC sequences removed). */
export class RawClient {
  readonly socket: Socket;
  received = Buffer.alloc(0);
  closed = false;
  readonly ready: Promise<void>;

  constructor(from: string, port: number) {
    assertLoopback(from);
    this.socket = connect({ host: TARGET, port, localAddress: from });
    this.ready = new Promise((resolve, reject) => {
      this.socket.once('connect', () => resolve());
      this.socket.once('error', reject);
    });
    this.socket.on('error', () => {});
    this.socket.on('data', (d: Buffer) => {
      this.received = Buffer.concat([this.received, d]);
    });
    this.socket.on('close', () => {
      this.closed = true;
    });
  }

  /** Received text with telnet commands (IAC x y) stripped. */
  text(): string {
    const out: number[] = [];
    const b = this.received;
    for (let i = 0; i < b.length; i++) {
      if (b[i] === 255 && i + 1 < b.length && b[i + 1]! >= 251) i += 2;
      else if (b[i] === 255) i += 1;
      else out.push(b[i]!);
    }
    return Buffer.from(out).toString('latin1');
  }

  async waitFor(re: RegExp, timeoutMs = 5000, from = 0): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const t = this.text().slice(from);
      if (re.test(t)) return t;
      if (this.closed) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`timed out waiting for ${re} (got ${JSON.stringify(this.text().slice(-200))})`);
  }

  async waitClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    if (!this.closed) throw new Error('connection not closed');
  }

  send(s: string | Uint8Array): void {
    this.socket.write(s);
  }

  close(): Promise<void> {
    this.socket.end();
    return this.waitClosed();
  }
}

export interface Ports {
  http: number;
  rtsp: number;
  telnet: number;
  onvif: number;
}

/** Connect and close without sending a byte (a SYN/connect scanner). */
export async function scan(from: string, ports: number[]): Promise<void> {
  for (const p of ports) {
    const c = new RawClient(from, p);
    await c.ready;
    c.socket.destroy();
    await c.waitClosed();
  }
}

/** Fetch the web root and ask RTSP for its options (a banner grabber). */
export async function grabBanners(from: string, ports: Ports): Promise<void> {
  const r = await httpReq(from, ports.http, '/');
  if (r.status !== 200) throw new Error(`grab / → ${r.status}`);
  const c = new RawClient(from, ports.rtsp);
  await c.ready;
  c.send('OPTIONS rtsp://127.0.0.1/ RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: grabber\r\n\r\n');
  await c.waitFor(/Public:/);
  await c.close();
}

/**
 * Mirai-style: telnet, try each credential (3 per connection, as Mirai's scanner does), and on
 * success send the Mirai probe sequence. Returns the credential that worked, if any.
 */
export async function telnetGuess(
  from: string,
  port: number,
  creds: readonly (readonly [string, string])[],
  afterLogin: string[] = [],
): Promise<[string, string] | undefined> {
  let i = 0;
  while (i < creds.length) {
    const c = new RawClient(from, port);
    await c.ready;
    await c.waitFor(/login: $/);
    for (let k = 0; k < 3 && i < creds.length; k++, i++) {
      const [u, p] = creds[i]!;
      const mark = c.text().length;
      c.send(`${u}\r\n`);
      await c.waitFor(/Password: $/, 5000, mark);
      const mark2 = c.text().length;
      c.send(`${p}\r\n`);
      const t = await c.waitFor(/(login: $|# $|Login incorrect\r\n$)/, 5000, mark2);
      if (t.endsWith('# ')) {
        for (const cmd of afterLogin) {
          const m = c.text().length;
          c.send(`${cmd}\r\n`);
          if (/^(exit|logout)$/.test(cmd)) break;
          await c.waitFor(/# $/, 5000, m);
        }
        await c.close();
        return [u, p];
      }
    }
    if (!c.closed) await c.close();
  }
  return undefined;
}

/** View: read the first MJPEG frame with Basic auth; returns the HTTP status. */
export async function viewMjpeg(from: string, port: number, auth: string): Promise<number> {
  const r = await httpReq(from, port, '/video.mjpg', { auth, maxBytes: 400 });
  return r.status;
}

/** View over RTSP: DESCRIBE, SETUP, PLAY with Basic auth. */
export async function viewRtsp(from: string, port: number, auth: string): Promise<void> {
  const c = new RawClient(from, port);
  await c.ready;
  const a = `Authorization: Basic ${Buffer.from(auth).toString('base64')}\r\n`;
  c.send(`DESCRIBE rtsp://127.0.0.1/live/ch00_0 RTSP/1.0\r\nCSeq: 2\r\n${a}\r\n`);
  await c.waitFor(/CSeq: 2[\s\S]*m=video/);
  c.send(
    `SETUP rtsp://127.0.0.1/live/ch00_0/trackID=1 RTSP/1.0\r\nCSeq: 3\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n${a}\r\n`,
  );
  await c.waitFor(/CSeq: 3/);
  c.send(`PLAY rtsp://127.0.0.1/live/ch00_0 RTSP/1.0\r\nCSeq: 4\r\n${a}\r\n`);
  await c.waitFor(/CSeq: 4[\s\S]*Range/);
  await c.close();
}

export function soap(op: string, inner = '', username?: string, password?: string): string {
  const header = username
    ? `<s:Header><wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><wsse:UsernameToken><wsse:Username>${username}</wsse:Username><wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText">${password ?? ''}</wsse:Password></wsse:UsernameToken></wsse:Security></s:Header>`
    : '';
  return `<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:tptz="http://www.onvif.org/ver20/ptz/wsdl" xmlns:tt="http://www.onvif.org/ver10/schema">${header}<s:Body><${op}>${inner}</${op}></s:Body></s:Envelope>`;
}

/** Operate: log in by form, view, then pan with Dahua CGI and ONVIF ContinuousMove + Stop. */
export async function operate(
  from: string,
  ports: Ports,
  user: string,
  password: string,
): Promise<void> {
  const login = await httpReq(from, ports.http, '/login.cgi', {
    method: 'POST',
    body: `user=${encodeURIComponent(user)}&pwd=${encodeURIComponent(password)}`,
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  });
  if (login.status !== 302) throw new Error(`login → ${login.status}`);
  const cookie = String(login.headers['set-cookie']).split(';')[0]!;
  const snap = await httpReq(from, ports.http, '/cgi-bin/snapshot.cgi', {
    headers: { Cookie: cookie },
  });
  if (snap.status !== 200) throw new Error(`snapshot → ${snap.status}`);
  const ptz = await httpReq(
    from,
    ports.http,
    '/cgi-bin/ptz.cgi?action=start&code=Left&arg1=0&arg2=1',
    {
      headers: { Cookie: cookie },
    },
  );
  if (ptz.status !== 200) throw new Error(`ptz → ${ptz.status}`);
  const move = await httpReq(from, ports.onvif, '/onvif/ptz_service', {
    method: 'POST',
    body: soap(
      'tptz:ContinuousMove',
      '<tptz:ProfileToken>Profile_1</tptz:ProfileToken><tptz:Velocity><tt:PanTilt x="0.5" y="-0.25"/></tptz:Velocity>',
      user,
      password,
    ),
    headers: { 'Content-Type': 'application/soap+xml' },
  });
  if (move.status !== 200) throw new Error(`ContinuousMove → ${move.status} ${move.body}`);
  const stop = await httpReq(from, ports.onvif, '/onvif/ptz_service', {
    method: 'POST',
    body: soap('tptz:Stop', '<tptz:ProfileToken>Profile_1</tptz:ProfileToken>', user, password),
    headers: { 'Content-Type': 'application/soap+xml' },
  });
  if (stop.status !== 200) throw new Error(`Stop → ${stop.status}`);
}
