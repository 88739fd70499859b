/**
 * The camera's web side on node:http: a login page, a live view streaming MJPEG test frames,
 * snapshot, config and PTZ endpoints in the URL styles of common vendors (Hikvision ISAPI,
 * Dahua CGI, Foscam/GoAhead CGI, Axis VAPIX), and the ONVIF device/PTZ SOAP services.
 * Every request is recorded (`http.request`) and answered only after its events are durable.
 * Bounded: header size, body size, header/request timeouts, per-source sessions.
 * Not a real camera: no setting changes anything but the recorded PTZ position.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { checkCredential, WEAK_CREDENTIALS } from '../core/credentials.js';
import { bytesPreview } from '../core/events.js';
import type { FrameSource } from './frames.js';
import { openSession, type ServiceOptions, type Session } from './session.js';

/** Largest request body read (ONVIF SOAP, login forms). */
export const MAX_BODY = 64 * 1024;
export const MAX_HEADER = 8 * 1024;

/**
 * The Foscam-clone family's embedded server (the cameras of `/videostream.cgi`,
 * `/decoder_control.cgi`, `/get_params.cgi` and the `/system.ini` leak): nmap -sV and Recog
 * both name it an IP camera.
 */
const SERVER_HEADER = 'Netwave IP Camera';
const MODEL = { manufacturer: 'IPCAM', model: 'IPC-HD2130', firmware: 'V5.4.0 build 160526' };

type Kind = 'page' | 'login' | 'stream' | 'snapshot' | 'config' | 'ptz' | 'onvif' | 'other';

interface Route {
  kind: Kind;
  /** Open without a password in `flawed` mode (the classic unauthenticated vendor paths). */
  flawedOpen?: boolean;
  vendor?: string;
}

const STREAM_PATHS = new Set([
  '/video.mjpg',
  '/mjpg/video.mjpg',
  '/videostream.cgi',
  '/cgi-bin/mjpg/video.cgi',
  '/axis-cgi/mjpg/video.cgi',
]);

const SNAPSHOT_PATHS: Record<string, Route> = {
  '/snapshot.jpg': { kind: 'snapshot' },
  '/snapshot.cgi': { kind: 'snapshot', flawedOpen: true, vendor: 'foscam' },
  '/tmpfs/auto.jpg': { kind: 'snapshot', flawedOpen: true, vendor: 'hipcam' },
  '/onvif-http/snapshot': { kind: 'snapshot', flawedOpen: true, vendor: 'hikvision' },
  '/cgi-bin/snapshot.cgi': { kind: 'snapshot', vendor: 'dahua' },
  '/ISAPI/Streaming/channels/101/picture': { kind: 'snapshot', vendor: 'hikvision' },
  '/Streaming/channels/1/picture': { kind: 'snapshot', vendor: 'hikvision' },
  '/axis-cgi/jpg/image.cgi': { kind: 'snapshot', vendor: 'axis' },
};

const CONFIG_PATHS: Record<string, Route> = {
  '/system.ini': { kind: 'config', flawedOpen: true, vendor: 'goahead' },
  '/get_params.cgi': { kind: 'config', flawedOpen: true, vendor: 'goahead' },
  '/ISAPI/System/deviceInfo': { kind: 'config', vendor: 'hikvision' },
  '/System/configurationFile': { kind: 'config', flawedOpen: true, vendor: 'hikvision' },
  '/cgi-bin/configManager.cgi': { kind: 'config', vendor: 'dahua' },
};

const PTZ_PATHS: Record<string, Route> = {
  '/cgi-bin/ptz.cgi': { kind: 'ptz', vendor: 'dahua' },
  '/decoder_control.cgi': { kind: 'ptz', vendor: 'foscam' },
  '/axis-cgi/com/ptz.cgi': { kind: 'ptz', vendor: 'axis' },
  '/ISAPI/PTZCtrl/channels/1/continuous': { kind: 'ptz', vendor: 'hikvision' },
  '/ptzctrl.cgi': { kind: 'ptz', vendor: 'hipcam' },
};

const FOSCAM_COMMANDS: Record<string, string> = {
  '0': 'up',
  '1': 'stop',
  '2': 'down',
  '3': 'stop',
  '4': 'left',
  '5': 'stop',
  '6': 'right',
  '7': 'stop',
  '25': 'home',
};

export function routeOf(path: string): Route {
  if (path === '/' || path === '/index.html' || path === '/live.html' || path === '/view.html')
    return { kind: 'page' };
  if (path === '/login.cgi' || path === '/login') return { kind: 'login' };
  if (STREAM_PATHS.has(path)) return { kind: 'stream' };
  if (path.startsWith('/onvif/')) return { kind: 'onvif', vendor: 'onvif' };
  return SNAPSHOT_PATHS[path] ?? CONFIG_PATHS[path] ?? PTZ_PATHS[path] ?? { kind: 'other' };
}

export interface CameraHttpOptions extends ServiceOptions {
  frames: FrameSource;
  /** 'http' for the web UI port, 'onvif' for the ONVIF port (same handler). */
  protocol: 'http' | 'onvif';
  /** The RTSP port once listening, for ONVIF GetStreamUri. */
  rtspPort?: () => number;
}

interface Credential {
  username: string;
  password: string | undefined;
  via: string;
}

/** Credentials an attacker supplied in this request (Basic, query string or form). */
function suppliedCredential(
  req: IncomingMessage,
  url: URL,
  form: URLSearchParams | undefined,
): Credential | undefined {
  const h = req.headers.authorization;
  if (h && /^Basic /i.test(h)) {
    const text = Buffer.from(h.slice(6).trim(), 'base64').toString('utf8');
    const i = text.indexOf(':');
    return {
      username: i < 0 ? text : text.slice(0, i),
      password: i < 0 ? '' : text.slice(i + 1),
      via: 'basic',
    };
  }
  for (const [u, p] of [
    ['user', 'pwd'],
    ['usr', 'pwd'],
    ['loginuse', 'loginpas'],
    ['username', 'password'],
    ['user', 'password'],
  ] as const) {
    const src = form?.has(u) ? form : url.searchParams.has(u) ? url.searchParams : undefined;
    if (src) return { username: src.get(u) ?? '', password: src.get(p) ?? '', via: 'form' };
  }
  return undefined;
}

function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

const LOGIN_PAGE = (error: string) => `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>IPCAM Web Client</title></head>
<body style="font-family:sans-serif;background:#1d2b3a;color:#eee">
<div style="width:320px;margin:80px auto;padding:24px;background:#2c3e50;border-radius:6px">
<h2>IP Camera</h2><p>${MODEL.model}</p>
${error ? `<p style="color:#f66">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/login.cgi">
<p><label>User <input name="user" autocomplete="username"></label></p>
<p><label>Password <input name="pwd" type="password" autocomplete="current-password"></label></p>
<p><button type="submit">Login</button></p>
</form></div></body></html>`;

const LIVE_PAGE = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>IPCAM Live View</title></head>
<body style="font-family:sans-serif;background:#111;color:#eee">
<h2>Live View - CAM 01</h2>
<img src="/video.mjpg" width="640" height="480" alt="live">
<form method="get" action="/cgi-bin/ptz.cgi">
<input type="hidden" name="action" value="start">
<button name="code" value="Up">Up</button><button name="code" value="Left">Left</button>
<button name="code" value="Right">Right</button><button name="code" value="Down">Down</button>
</form><p><a href="/snapshot.jpg">Snapshot</a> | <a href="/system.ini">Settings</a></p>
</body></html>`;

function systemIni(): string {
  // The classic GoAhead-camera leak: a config file naming the (decoy) accounts.
  return [
    '[network]',
    'dhcp=1',
    '[users]',
    `user1=${WEAK_CREDENTIALS[0]![0]}`,
    'user1_level=admin',
    '[device]',
    `model=${MODEL.model}`,
    `firmware=${MODEL.firmware}`,
    '',
  ].join('\r\n');
}

function ptzActionOf(route: Route, url: URL, body: string): string {
  const q = url.searchParams;
  switch (route.vendor) {
    case 'dahua':
      return `${q.get('action') ?? 'start'}:${q.get('code') ?? '?'}`;
    case 'foscam':
      return FOSCAM_COMMANDS[q.get('command') ?? ''] ?? `command:${q.get('command') ?? '?'}`;
    case 'axis':
      return q.get('move') ?? (q.has('pan') ? `pan:${q.get('pan')}` : [...q.keys()].join(','));
    case 'hikvision': {
      const pan = /<pan>(-?\d+)<\/pan>/i.exec(body)?.[1] ?? '0';
      const tilt = /<tilt>(-?\d+)<\/tilt>/i.exec(body)?.[1] ?? '0';
      return `continuous:pan=${pan},tilt=${tilt}`;
    }
    default:
      return q.get('act') ?? q.get('command') ?? '?';
  }
}

/** The ONVIF operation named by the first element of the SOAP body. */
export function soapOperation(body: string): string | undefined {
  return /<(?:[\w-]+:)?Body[^>]*>\s*<(?:[\w-]+:)?([A-Za-z]{1,64})/.exec(body)?.[1];
}

/** WS-Security UsernameToken: username and either the clear password or the digest parts. */
function wsseToken(body: string):
  | {
      username: string;
      password?: string;
      digest?: { value: string; nonce: string; created: string };
    }
  | undefined {
  const user = /<(?:[\w-]+:)?Username>([^<]{0,128})</.exec(body)?.[1];
  if (user === undefined) return undefined;
  const pw = /<(?:[\w-]+:)?Password([^>]*)>([^<]{0,256})</.exec(body);
  if (!pw) return { username: user };
  if (/PasswordDigest/.test(pw[1] ?? '')) {
    const nonce = /<(?:[\w-]+:)?Nonce[^>]*>([^<]{0,256})</.exec(body)?.[1] ?? '';
    // `<Created xmlns="…wss-wssecurity-utility-1.0.xsd">` (the npm onvif client) has attributes.
    const created = /<(?:[\w-]+:)?Created(?:\s[^>]*)?>([^<]{0,64})</.exec(body)?.[1] ?? '';
    return { username: user, digest: { value: pw[2] ?? '', nonce, created } };
  }
  return { username: user, password: pw[2] ?? '' };
}

function wsseDigest(nonceB64: string, created: string, password: string): string {
  return createHash('sha1')
    .update(Buffer.concat([Buffer.from(nonceB64, 'base64'), Buffer.from(created + password)]))
    .digest('base64');
}

/** The Device, Media and PTZ services' addresses, on the port the client reached. */
function capabilities(hostHeader: string | undefined): string {
  const base = `http://${escapeHtml((hostHeader ?? 'camera').slice(0, 255))}/onvif`;
  return `<tds:GetCapabilitiesResponse><tds:Capabilities><tt:Device><tt:XAddr>${base}/device_service</tt:XAddr></tt:Device><tt:Media><tt:XAddr>${base}/media_service</tt:XAddr><tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>true</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media><tt:PTZ><tt:XAddr>${base}/ptz_service</tt:XAddr></tt:PTZ></tds:Capabilities></tds:GetCapabilitiesResponse>`;
}

/** One Profile S media profile: the H.264 main stream with a PTZ configuration. */
const PROFILES = `<trt:Profiles token="Profile_1" fixed="true"><tt:Name>mainStream</tt:Name><tt:VideoSourceConfiguration token="VideoSourceConfig_1"><tt:Name>VideoSourceConfig_1</tt:Name><tt:UseCount>1</tt:UseCount><tt:SourceToken>VideoSource_1</tt:SourceToken><tt:Bounds x="0" y="0" width="320" height="240"/></tt:VideoSourceConfiguration><tt:VideoEncoderConfiguration token="VideoEncoderConfig_1"><tt:Name>VideoEncoderConfig_1</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding><tt:Resolution><tt:Width>320</tt:Width><tt:Height>240</tt:Height></tt:Resolution><tt:Quality>4</tt:Quality><tt:RateControl><tt:FrameRateLimit>10</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>200</tt:BitrateLimit></tt:RateControl><tt:H264><tt:GovLength>10</tt:GovLength><tt:H264Profile>Baseline</tt:H264Profile></tt:H264><tt:SessionTimeout>PT60S</tt:SessionTimeout></tt:VideoEncoderConfiguration><tt:PTZConfiguration token="PTZConfig_1"><tt:Name>PTZConfig_1</tt:Name><tt:UseCount>1</tt:UseCount><tt:NodeToken>PTZNode_1</tt:NodeToken></tt:PTZConfiguration></trt:Profiles>`;

const VIDEO_SOURCES = `<trt:GetVideoSourcesResponse><trt:VideoSources token="VideoSource_1"><tt:Framerate>10</tt:Framerate><tt:Resolution><tt:Width>320</tt:Width><tt:Height>240</tt:Height></tt:Resolution></trt:VideoSources></trt:GetVideoSourcesResponse>`;

function soapEnvelope(inner: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:trt="http://www.onvif.org/ver10/media/wsdl" xmlns:tptz="http://www.onvif.org/ver20/ptz/wsdl" xmlns:tt="http://www.onvif.org/ver10/schema"><SOAP-ENV:Body>${inner}</SOAP-ENV:Body></SOAP-ENV:Envelope>`;
}

function soapFault(reason: string): string {
  return soapEnvelope(
    `<SOAP-ENV:Fault><SOAP-ENV:Code><SOAP-ENV:Value>SOAP-ENV:Sender</SOAP-ENV:Value></SOAP-ENV:Code><SOAP-ENV:Reason><SOAP-ENV:Text xml:lang="en">${escapeHtml(reason)}</SOAP-ENV:Text></SOAP-ENV:Reason></SOAP-ENV:Fault>`,
  );
}

/**
 * Create the camera's HTTP (or ONVIF) server. Not listening yet.
 * @example const srv = createCameraHttp({ ...opts, protocol: 'http' }); srv.listen(8080, '127.0.0.1');
 */
export function createCameraHttp(opts: CameraHttpOptions): Server {
  const sessions = new WeakMap<Socket, Session>();
  const cookies = new Map<string, string>();
  const streams = new Set<ServerResponse>();
  const server = createServer({
    maxHeaderSize: MAX_HEADER,
    headersTimeout: opts.idleMs ?? 10_000,
    requestTimeout: Math.max(opts.idleMs ?? 30_000, 1000),
    connectionsCheckingInterval: Math.min(
      1000,
      Math.max(100, Math.floor((opts.idleMs ?? 10_000) / 4)),
    ),
    keepAliveTimeout: 5_000,
  });
  // A request followed by the client's half-close (`printf 'GET / …' | nc -N`) is answered:
  // by default node:http drops the response of a request still in flight at the FIN, and ours
  // are in flight until their events commit. (A public field since Node 0.x, not in @types.)
  (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;

  server.on('connection', (socket: Socket) => {
    const session = openSession(socket, opts.protocol, opts);
    if (!session) return;
    sessions.set(socket, session);
    let requests = 0;
    socket.on('data', () => {
      requests++;
    });
    socket.setTimeout(opts.idleMs ?? 30_000, () => socket.destroy());
    session.emit('session.connect').catch(() => {});
    socket.once('close', () => {
      session
        .emit('session.closed', {
          durationMs: opts.clock.now() - session.started,
          chunks: requests,
        })
        .catch(() => {});
    });
  });

  const errored = new WeakSet<object>();
  server.on('clientError', (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket) => {
    // One garbage record per connection: what a client sends after we gave up is not news.
    // A reset is the client hanging up, not input: session.closed records it.
    if (errored.has(socket) || err.code === 'ECONNRESET' || err.code === 'EPIPE') {
      socket.destroy();
      return;
    }
    errored.add(socket);
    const session = sessions.get(socket as Socket);
    const reason =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? 'oversized header'
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? 'request timeout (slow client)'
          : `malformed request (${err.code ?? 'parse error'})`;
    const answer =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n'
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n'
          : 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n';
    const finish = () => {
      if (socket.writable) socket.end(answer);
      else socket.destroy();
    };
    if (!session) return finish();
    session
      .emit('input.invalid', {
        reason,
        bytes: err.rawPacket ? bytesPreview(err.rawPacket) : undefined,
      })
      .then(finish, () => socket.destroy());
  });

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const session = sessions.get(req.socket);
    if (!session) {
      req.socket.destroy();
      return;
    }
    handle(req, res, session).catch(() => {
      if (!res.headersSent) {
        res.writeHead(503, { Server: SERVER_HEADER, Connection: 'close' });
        res.end();
      } else res.destroy();
    });
  });

  // Open-proxy probes (CONNECT host:port) and upgrade requests bypass 'request' in node:http;
  // without these they would be dropped unrecorded. Both are answered with a refusal.
  const refuseSpecial = (req: IncomingMessage, socket: Socket, kind: string) => {
    const session = sessions.get(socket);
    if (!session) {
      socket.destroy();
      return;
    }
    session
      .emit('http.request', {
        method: req.method ?? '?',
        path: req.url ?? '',
        ua: req.headers['user-agent'] ?? '',
        kind,
      })
      .then(
        () => {
          if (socket.writable)
            socket.end(
              `HTTP/1.1 405 Method Not Allowed\r\nServer: ${SERVER_HEADER}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
            );
        },
        () => socket.destroy(),
      );
  };
  server.on('connect', (req: IncomingMessage, socket: Socket) =>
    refuseSpecial(req, socket, 'proxy'),
  );
  server.on('upgrade', (req: IncomingMessage, socket: Socket) =>
    refuseSpecial(req, socket, 'upgrade'),
  );

  server.on('close', () => {
    for (const s of streams) s.destroy();
  });

  async function readBody(req: IncomingMessage): Promise<string | undefined> {
    if (req.method === 'GET' || req.method === 'HEAD') {
      req.resume();
      return '';
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_BODY) return undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY) return undefined;
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  async function handle(req: IncomingMessage, res: ServerResponse, session: Session) {
    const url = new URL(req.url ?? '/', 'http://camera.invalid');
    const path = url.pathname;
    const route = routeOf(path);
    const body = await readBody(req);
    const common = {
      method: req.method ?? '?',
      path: `${path}${url.search}`,
      ua: req.headers['user-agent'] ?? '',
      kind: route.kind,
    };
    if (body === undefined) {
      await session.emit('input.invalid', { reason: 'oversized body', ...common });
      res.writeHead(413, { Server: SERVER_HEADER, Connection: 'close' });
      res.end();
      req.socket.destroySoon();
      return;
    }
    const pending: Promise<void>[] = [session.emit('http.request', common)];
    const form =
      route.kind === 'login' && body ? new URLSearchParams(body.slice(0, 4096)) : undefined;
    const cred = route.kind === 'onvif' ? undefined : suppliedCredential(req, url, form);
    let authed = opts.auth.mode === 'none';
    if (cred) {
      const ok = checkCredential(opts.auth, cred.username, cred.password ?? '');
      // Basic auth repeats the credential on every request: one login per connection.
      if (session.firstTry(cred.username, cred.password))
        pending.push(
          session.emit(ok ? 'login.success' : 'login.failed', { via: cred.via, path }, cred),
        );
      authed ||= ok;
    }
    const sid = /(?:^|;\s*)sid=([0-9a-f]{32})/.exec(req.headers.cookie ?? '')?.[1];
    if (sid && cookies.has(sid)) authed = true;
    // Hikvision's published backdoor (CVE-2017-7921): `?auth=YWRtaW46MTEK` opens ISAPI paths.
    if (
      opts.auth.mode === 'flawed' &&
      (route.flawedOpen ||
        ((path.startsWith('/ISAPI/') || path.startsWith('/System/')) &&
          url.searchParams.get('auth') === 'YWRtaW46MTEK'))
    )
      authed = true;

    const send = async (
      status: number,
      type: string,
      payload: string | Uint8Array,
      headers: Record<string, string> = {},
    ) => {
      await Promise.all(pending);
      res.writeHead(status, {
        Server: SERVER_HEADER,
        'Content-Type': type,
        'Content-Length': String(
          typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length,
        ),
        'Cache-Control': 'no-store',
        ...headers,
      });
      res.end(req.method === 'HEAD' ? undefined : payload);
    };
    const deny = () =>
      route.kind === 'page'
        ? send(
            200,
            'text/html; charset=utf-8',
            LOGIN_PAGE(cred ? 'Wrong user name or password' : ''),
          )
        : send(401, 'text/html', '<h1>401 Unauthorized</h1>', {
            'WWW-Authenticate': 'Basic realm="IPCAM"',
          });

    switch (route.kind) {
      case 'page':
        if (!authed) return deny();
        return send(
          200,
          'text/html; charset=utf-8',
          path === '/' || path === '/index.html' ? LIVE_PAGE : LIVE_PAGE,
        );
      case 'login': {
        if (req.method !== 'POST' && !cred)
          return send(200, 'text/html; charset=utf-8', LOGIN_PAGE(''));
        if (!authed)
          return send(200, 'text/html; charset=utf-8', LOGIN_PAGE('Wrong user name or password'));
        const newSid = randomBytes(16).toString('hex');
        if (cookies.size >= 10_000) cookies.delete(cookies.keys().next().value!);
        cookies.set(newSid, cred?.username ?? '');
        return send(302, 'text/html', '', {
          Location: '/live.html',
          'Set-Cookie': `sid=${newSid}; HttpOnly; Path=/`,
        });
      }
      case 'snapshot':
        if (!authed) return deny();
        pending.push(session.emit('stream.view', { kind: 'snapshot', path, vendor: route.vendor }));
        return send(200, 'image/jpeg', opts.frames.current());
      case 'config':
        if (!authed) return deny();
        if (
          path === '/system.ini' ||
          path === '/get_params.cgi' ||
          path === '/System/configurationFile'
        )
          return send(200, 'application/octet-stream', systemIni());
        if (path === '/ISAPI/System/deviceInfo')
          return send(
            200,
            'application/xml',
            `<?xml version="1.0" encoding="UTF-8"?>\n<DeviceInfo><deviceName>IPCAM</deviceName><model>${MODEL.model}</model><firmwareVersion>${MODEL.firmware}</firmwareVersion></DeviceInfo>`,
          );
        return send(
          200,
          'text/plain',
          `table.General.MachineName=IPCAM\r\ntable.General.Model=${MODEL.model}\r\n`,
        );
      case 'ptz': {
        if (!authed) return deny();
        const action = ptzActionOf(route, url, body);
        pending.push(session.emit('ptz.command', { vendor: route.vendor, action }));
        return route.vendor === 'hikvision'
          ? send(
              200,
              'application/xml',
              '<?xml version="1.0" encoding="UTF-8"?>\n<ResponseStatus><statusCode>1</statusCode><statusString>OK</statusString></ResponseStatus>',
            )
          : send(200, 'text/plain', 'OK\r\n');
      }
      case 'stream': {
        if (!authed) return deny();
        pending.push(session.emit('stream.view', { kind: 'mjpeg', path }));
        await Promise.all(pending);
        return streamMjpeg(res, req);
      }
      case 'onvif':
        return onvif(req, res, session, body, pending, send);
      default:
        return send(404, 'text/html', '<h1>404 Not Found</h1>');
    }
  }

  async function onvif(
    req: IncomingMessage,
    _res: ServerResponse,
    session: Session,
    body: string,
    pending: Promise<void>[],
    send: (s: number, t: string, p: string) => Promise<void>,
  ) {
    const soap = 'application/soap+xml; charset=utf-8';
    if (req.method !== 'POST') return send(405, 'text/plain', 'Method Not Allowed');
    const op = soapOperation(body);
    if (!op) {
      pending.push(
        session.emit('input.invalid', {
          reason: 'not a SOAP request',
          bytes: bytesPreview(Buffer.from(body)),
        }),
      );
      return send(400, soap, soapFault('not a SOAP envelope'));
    }
    let authed = opts.auth.mode === 'none';
    const token = wsseToken(body);
    if (token) {
      let password = token.password;
      let ok = false;
      if (token.digest) {
        const candidates =
          opts.auth.mode === 'weak'
            ? WEAK_CREDENTIALS.filter(([u]) => u === token.username).map(([, p]) => p)
            : [opts.auth.strongPassword];
        password = candidates.find(
          (p) => wsseDigest(token.digest!.nonce, token.digest!.created, p) === token.digest!.value,
        );
        ok =
          opts.auth.mode === 'none' ||
          (password !== undefined && checkCredential(opts.auth, token.username, password));
      } else ok = checkCredential(opts.auth, token.username, password ?? '');
      // A digest that matches no candidate hides its password: the guess is kept with its user
      // and marked unknown, never as an empty password. Each SOAP request carries a fresh
      // token; one login per connection.
      if (session.firstTry(token.username, password))
        pending.push(
          session.emit(
            ok ? 'login.success' : 'login.failed',
            {
              via: token.digest ? 'wsse-digest' : 'wsse',
              operation: op,
              ...(password === undefined ? { password: 'unknown' } : {}),
            },
            { username: token.username, password },
          ),
        );
      authed ||= ok;
    }
    // Per the ONVIF core spec these two are answered before authentication.
    if (op === 'GetSystemDateAndTime') {
      const d = new Date(opts.clock.now());
      return send(
        200,
        soap,
        soapEnvelope(
          `<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>NTP</tt:DateTimeType><tt:UTCDateTime><tt:Time><tt:Hour>${d.getUTCHours()}</tt:Hour><tt:Minute>${d.getUTCMinutes()}</tt:Minute><tt:Second>${d.getUTCSeconds()}</tt:Second></tt:Time><tt:Date><tt:Year>${d.getUTCFullYear()}</tt:Year><tt:Month>${d.getUTCMonth() + 1}</tt:Month><tt:Day>${d.getUTCDate()}</tt:Day></tt:Date></tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>`,
        ),
      );
    }
    if (!authed) return send(400, soap, soapFault('Sender not Authorized'));
    switch (op) {
      case 'GetDeviceInformation':
        return send(
          200,
          soap,
          soapEnvelope(
            `<tds:GetDeviceInformationResponse><tds:Manufacturer>${MODEL.manufacturer}</tds:Manufacturer><tds:Model>${MODEL.model}</tds:Model><tds:FirmwareVersion>${MODEL.firmware}</tds:FirmwareVersion><tds:SerialNumber>IPC0123456789</tds:SerialNumber><tds:HardwareId>88</tds:HardwareId></tds:GetDeviceInformationResponse>`,
          ),
        );
      case 'GetCapabilities':
        return send(200, soap, soapEnvelope(capabilities(req.headers.host)));
      case 'GetProfiles':
        return send(
          200,
          soap,
          soapEnvelope(`<trt:GetProfilesResponse>${PROFILES}</trt:GetProfilesResponse>`),
        );
      case 'GetProfile':
        return send(
          200,
          soap,
          soapEnvelope(
            `<trt:GetProfileResponse>${PROFILES.replace(/Profiles/g, 'Profile')}</trt:GetProfileResponse>`,
          ),
        );
      case 'GetVideoSources':
        return send(200, soap, soapEnvelope(VIDEO_SOURCES));
      case 'GetStreamUri':
      case 'GetSnapshotUri': {
        const host = (req.headers.host ?? '').replace(/:\d+$/, '') || 'camera';
        const uri =
          op === 'GetStreamUri'
            ? `rtsp://${escapeHtml(host)}:${opts.rtspPort?.() || 554}/11`
            : `http://${escapeHtml(req.headers.host ?? host)}/snapshot.jpg`;
        return send(
          200,
          soap,
          soapEnvelope(
            `<trt:${op}Response><trt:MediaUri><tt:Uri>${uri}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:${op}Response>`,
          ),
        );
      }
      case 'ContinuousMove':
      case 'Stop':
      case 'AbsoluteMove':
      case 'RelativeMove':
      case 'GotoPreset':
      case 'GotoHomePosition': {
        const pan = /PanTilt[^>]*\bx="(-?[\d.]{1,12})"/.exec(body)?.[1];
        const tilt = /PanTilt[^>]*\by="(-?[\d.]{1,12})"/.exec(body)?.[1];
        pending.push(
          session.emit('ptz.command', {
            vendor: 'onvif',
            action:
              op === 'ContinuousMove' ? `ContinuousMove:pan=${pan ?? 0},tilt=${tilt ?? 0}` : op,
          }),
        );
        return send(200, soap, soapEnvelope(`<tptz:${op}Response/>`));
      }
      default:
        return send(400, soap, soapFault(`Action not supported: ${op}`));
    }
  }

  function streamMjpeg(res: ServerResponse, req: IncomingMessage): void {
    const boundary = 'ipcamframe';
    res.writeHead(200, {
      Server: SERVER_HEADER,
      'Content-Type': `multipart/x-mixed-replace; boundary=${boundary}`,
      'Cache-Control': 'no-store',
      Connection: 'close',
    });
    streams.add(res);
    const started = opts.clock.now();
    const maxMs = opts.maxStreamMs ?? 120_000;
    const push = () => {
      // A slow reader gets no more frames until it drains: memory stays bounded per viewer.
      if (res.writableLength > 256 * 1024) return;
      const frame = opts.frames.current();
      res.write(
        `--${boundary}\r\nContent-Type: image/jpeg\r\nContent-Length: ${frame.length}\r\n\r\n`,
      );
      res.write(frame);
      res.write('\r\n');
    };
    push();
    const timer = setInterval(() => {
      if (opts.clock.now() - started > maxMs) {
        stop();
        res.end();
        return;
      }
      push();
    }, 500);
    const stop = () => {
      clearInterval(timer);
      streams.delete(res);
    };
    req.socket.setTimeout(0);
    res.once('close', stop);
  }

  return server;
}
