/**
 * Emulated devices for the exposure tests: a camera web UI (open / factory default / strong
 * password) with ONVIF, an RTSP server with and without auth, a telnet login prompt, SSH and FTP
 * banners, and unicast SSDP / WS-Discovery responders. Real sockets; run in-process on
 * 127.0.0.1 port 0, or as a script inside a network namespace the test made:
 *   node --import tsx test/exposure/devices.ts <json plan>   (prints "ready" when listening)
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';

export type CameraAuth = 'open' | 'default' | 'strong';

export interface DeviceSpec {
  kind: 'camera-http' | 'rtsp' | 'telnet' | 'ssh' | 'ftp' | 'ssdp' | 'wsd' | 'listener';
  host: string;
  port: number;
  auth?: CameraAuth;
  /** Strong password for `strong`; never used by the audit. */
  password?: string;
}

export interface RunningDevice {
  spec: DeviceSpec;
  port: number;
  /** Requests seen (method + path or first line), for "no video frame" and "no packet" checks. */
  log: string[];
  close(): Promise<void>;
}

const DEFAULT_USER = 'admin';
const DEFAULT_PASSWORD = 'labcam';

function acceptsBasic(header: string | undefined, auth: CameraAuth, strong: string): boolean {
  if (auth === 'open') return true;
  const m = /^Basic\s+(\S+)/i.exec(header ?? '');
  if (!m) return false;
  const [user, pass] = Buffer.from(m[1]!, 'base64').toString('utf8').split(':');
  return user === DEFAULT_USER && pass === (auth === 'default' ? DEFAULT_PASSWORD : strong);
}

const ONVIF_TIME = `<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:tt="http://www.onvif.org/ver10/schema"><s:Body><tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:UTCDateTime><tt:Time><tt:Hour>10</tt:Hour><tt:Minute>20</tt:Minute><tt:Second>30</tt:Second></tt:Time><tt:Date><tt:Year>2026</tt:Year><tt:Month>11</tt:Month><tt:Day>25</tt:Day></tt:Date></tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse></s:Body></s:Envelope>`;
const ONVIF_INFO = `<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:tds="http://www.onvif.org/ver10/device/wsdl"><s:Body><tds:GetDeviceInformationResponse><tds:Manufacturer>Mamori Lab</tds:Manufacturer><tds:Model>LabCam 100</tds:Model><tds:FirmwareVersion>1.0</tds:FirmwareVersion><tds:SerialNumber>LC100-0001</tds:SerialNumber></tds:GetDeviceInformationResponse></s:Body></s:Envelope>`;
// a 16x16 ICO header plus a few bytes: enough for the favicon hash to be computed
const FAVICON = Buffer.from(
  'AAABAAEAEBAAAAEAIABoBAAAFgAAACgAAAAQAAAAIAAAAAEAIAAAAAAAAAQAAA==',
  'base64',
);

function cameraHttp(spec: DeviceSpec, log: string[]): HttpServer {
  const auth = spec.auth ?? 'open';
  const strong = spec.password ?? '';
  return createHttpServer((req, res) => {
    log.push(`${req.method} ${req.url}`);
    res.setHeader('Server', 'Mamori-Emulated-Camera/1.0 (LabCam 100)');
    if (req.url === '/favicon.ico') {
      res.writeHead(200, { 'Content-Type': 'image/x-icon' }).end(FAVICON);
      return;
    }
    if (req.url === '/onvif/device_service' && req.method === 'POST') {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        if (body.includes('GetSystemDateAndTime')) {
          res.writeHead(200, { 'Content-Type': 'application/soap+xml' }).end(ONVIF_TIME);
        } else if (body.includes('GetDeviceInformation') && auth === 'open') {
          res.writeHead(200, { 'Content-Type': 'application/soap+xml' }).end(ONVIF_INFO);
        } else res.writeHead(401).end();
      });
      return;
    }
    if (!acceptsBasic(req.headers.authorization, auth, strong)) {
      res
        .writeHead(401, {
          'WWW-Authenticate': 'Basic realm="LabCam 100"',
          'Content-Type': 'text/html',
        })
        .end('<html><head><title>LabCam 100 - Login</title></head><body>Login</body></html>');
      return;
    }
    res
      .writeHead(200, { 'Content-Type': 'text/html' })
      .end(
        '<html><head><title>LabCam 100 - Live View</title></head><body><img src="/snapshot.jpg"></body></html>',
      );
  });
}

function rtsp(spec: DeviceSpec, log: string[]): Server {
  const auth = spec.auth ?? 'open';
  return createServer((sock) => {
    let buf = '';
    sock.on('error', () => {});
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      let idx = buf.indexOf('\r\n\r\n');
      while (idx >= 0) {
        const req = buf.slice(0, idx);
        buf = buf.slice(idx + 4);
        const first = req.split('\r\n')[0] ?? '';
        log.push(first);
        const cseq = /CSeq:\s*(\d+)/i.exec(req)?.[1] ?? '0';
        const authz = /\r\nAuthorization:\s*([^\r\n]+)/i.exec(req)?.[1];
        const method = first.split(' ')[0];
        const head = (status: string, extra = '') =>
          `RTSP/1.0 ${status}\r\nCSeq: ${cseq}\r\nServer: Mamori-Emulated-RTSP/1.0\r\n${extra}`;
        if (method === 'OPTIONS') {
          sock.write(
            `${head('200 OK', 'Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n')}\r\n`,
          );
        } else if (method === 'DESCRIBE') {
          if (!acceptsBasic(authz, auth, spec.password ?? '')) {
            sock.write(
              `${head('401 Unauthorized', 'WWW-Authenticate: Basic realm="LabCam"\r\n')}\r\n`,
            );
          } else {
            const sdp = 'v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=LabCam\r\nm=video 0 RTP/AVP 96\r\n';
            sock.write(
              `${head('200 OK', `Content-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n`)}\r\n${sdp}`,
            );
          }
        } else {
          // SETUP/PLAY would start video: the audit must never get here
          sock.write(`${head('455 Method Not Valid In This State')}\r\n`);
        }
        idx = buf.indexOf('\r\n\r\n');
      }
    });
  });
}

function talkFirst(text: (string | Buffer)[], log: string[]): Server {
  return createServer((sock) => {
    log.push('connect');
    sock.on('error', () => {});
    for (const t of text) sock.write(t);
    sock.on('data', (d) => log.push(`data ${d.length}`));
  });
}

function udpResponder(spec: DeviceSpec, log: string[]): UdpSocket {
  const s = createSocket(spec.host.includes(':') ? 'udp6' : 'udp4');
  s.on('message', (msg, rinfo) => {
    log.push(msg.toString('utf8').split('\r\n')[0] ?? '');
    if (spec.kind === 'ssdp' && msg.toString().startsWith('M-SEARCH')) {
      s.send(
        `HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nST: upnp:rootdevice\r\nUSN: uuid:labcam-1::upnp:rootdevice\r\nSERVER: Linux/3.10 UPnP/1.0 LabCam/1.0\r\nLOCATION: http://${spec.host}/desc.xml\r\n\r\n`,
        rinfo.port,
        rinfo.address,
      );
    } else if (spec.kind === 'wsd' && msg.toString().includes('Probe')) {
      s.send(
        `<?xml version="1.0"?><e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"><e:Body><d:ProbeMatches><d:ProbeMatch><d:Scopes>onvif://www.onvif.org/type/video_encoder onvif://www.onvif.org/hardware/LabCam%20100 onvif://www.onvif.org/name/Mamori%20Lab</d:Scopes><d:XAddrs>http://${spec.host}/onvif/device_service</d:XAddrs></d:ProbeMatch></d:ProbeMatches></e:Body></e:Envelope>`,
        rinfo.port,
        rinfo.address,
      );
    }
  });
  return s;
}

/** Start one device; resolves when it listens. */
export async function startDevice(spec: DeviceSpec): Promise<RunningDevice> {
  const log: string[] = [];
  if (spec.kind === 'ssdp' || spec.kind === 'wsd') {
    const s = udpResponder(spec, log);
    await new Promise<void>((r) => s.bind(spec.port, spec.host, () => r()));
    return {
      spec,
      port: s.address().port,
      log,
      close: () => new Promise((r) => s.close(() => r())),
    };
  }
  let server: Server | HttpServer;
  switch (spec.kind) {
    case 'camera-http':
      server = cameraHttp(spec, log);
      break;
    case 'rtsp':
      server = rtsp(spec, log);
      break;
    case 'telnet':
      server = talkFirst(
        [Buffer.from([255, 253, 24, 255, 253, 31]), '\r\nLabCam DVR\r\n(none) login: '],
        log,
      );
      break;
    case 'ssh':
      server = talkFirst(['SSH-2.0-OpenSSH_8.4p1 Debian-5\r\n'], log);
      break;
    case 'ftp':
      server = talkFirst(['220 (vsFTPd 3.0.3)\r\n'], log);
      break;
    default:
      server = talkFirst([], log);
  }
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s: import('node:net').Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(spec.port, spec.host, () => resolve());
  });
  const addr = server.address();
  return {
    spec,
    port: typeof addr === 'object' && addr ? addr.port : spec.port,
    log,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

// As a script: start the plan, print ready, report logs as JSON on SIGTERM / stdin end.
if (process.argv[1]?.endsWith('devices.ts') && process.argv[2]) {
  const plan = JSON.parse(process.argv[2]) as DeviceSpec[];
  const running = await Promise.all(plan.map(startDevice));
  process.stdout.write('ready\n');
  const stop = async () => {
    process.stdout.write(`${JSON.stringify(running.map((d) => ({ ...d.spec, log: d.log })))}\n`);
    await Promise.all(running.map((d) => d.close()));
    process.exit(0);
  };
  process.stdin.on('data', () => void stop());
  process.stdin.on('end', () => void stop());
}
