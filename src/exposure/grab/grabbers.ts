/**
 * Protocol grabbers: what one open TCP port says about itself (HTTP/HTTPS with title, favicon
 * hash and certificate; RTSP OPTIONS/DESCRIBE; Telnet; SSH; FTP), plus unicast UDP probes
 * (SSDP M-SEARCH, ONVIF WS-Discovery) and the ONVIF device-service SOAP calls. Each grab is a
 * few bounded exchanges; none logs in, and RTSP never goes past DESCRIBE (no video frame).
 * Not the scheduler (scan.ts) nor the fingerprinting (fingerprint.ts).
 */
import { createHash } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { faviconHash, htmlTitle } from '../core/banner.js';
import { exchange, headComplete, parseHead } from './io.js';

export interface CertInfo {
  subject_cn?: string;
  subject: string;
  issuer: string;
  sans: string[];
  fingerprint_sha256: string;
  valid_to?: string;
}

export interface GrabResult {
  protocol: string;
  /** Raw bytes as received (capped): the banner stored with the scan. */
  raw: Buffer;
  /** Structured facts for search and fingerprinting. */
  data: {
    http?: {
      status: number;
      headers: Record<string, string>;
      title?: string;
      favicon_hash?: number;
      favicon_md5?: string;
    };
    tls?: CertInfo & { protocol?: string };
    rtsp?: { status: number; server?: string; public?: string; describe_status?: number };
    onvif?: { manufacturer?: string; model?: string; firmware?: string; datetime_utc?: string };
    telnet?: { prompt?: string };
    ssh?: { version: string };
    ftp?: { banner: string };
    udp?: { reply: string };
  };
  authRequired: boolean | null;
  /** Fingerprint inputs: database names (most specific first) → text. */
  fingerprintInputs: { dbs: string[]; text: string }[];
}

export interface GrabOptions {
  timeoutMs: number;
}

const HTTPS_PORTS = new Set([443, 8443, 4443, 7443, 9443]);
const RTSP_PORTS = new Set([554, 8554, 10554]);
const HTTP_PORTS = new Set([80, 81, 82, 88, 8000, 8001, 8008, 8080, 8081, 8088, 8888]);
const ONVIF_PATH = '/onvif/device_service';

function httpRequest(
  host: string,
  port: number,
  path: string,
  method = 'GET',
  body?: string,
  headers: Record<string, string> = {},
): string {
  const hostHeader = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return `${method} ${path} HTTP/1.1\r\nHost: ${hostHeader}\r\nUser-Agent: mamori-exposure\r\nAccept: */*\r\nConnection: close\r\n${extra}${body === undefined ? '' : `Content-Length: ${Buffer.byteLength(body)}\r\n`}\r\n${body ?? ''}`;
}

/** One HTTP(S) request; undefined when the port does not speak HTTP. */
export async function httpFetch(
  host: string,
  port: number,
  path: string,
  opts: GrabOptions & {
    tls?: boolean;
    method?: string;
    body?: string;
    headers?: Record<string, string>;
    maxBytes?: number;
  },
) {
  const r = await exchange({
    host,
    port,
    timeoutMs: opts.timeoutMs,
    tls: opts.tls ?? false,
    send: httpRequest(host, port, path, opts.method, opts.body, opts.headers),
    until: headComplete,
    maxBytes: opts.maxBytes ?? 256 * 1024,
  });
  const head = parseHead(r.data);
  if (head?.protocol !== 'HTTP')
    return {
      raw: r.data,
      head: undefined,
      cert: r.cert,
      tlsProtocol: r.tlsProtocol,
      connected: r.connected,
    };
  return { raw: r.data, head, cert: r.cert, tlsProtocol: r.tlsProtocol, connected: r.connected };
}

function certInfo(
  cert: NonNullable<Awaited<ReturnType<typeof httpFetch>>['cert']>,
): CertInfo | undefined {
  if (!cert?.fingerprint256) return undefined;
  const name = (o: Record<string, unknown> | undefined) =>
    o
      ? Object.entries(o)
          .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : String(v)}`)
          .join(', ')
      : '';
  const subject = cert.subject as unknown as Record<string, unknown> | undefined;
  const cn = subject?.CN;
  const info: CertInfo = {
    subject: name(subject),
    issuer: name(cert.issuer as unknown as Record<string, unknown> | undefined),
    sans: (cert.subjectaltname ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    fingerprint_sha256: cert.fingerprint256.replace(/:/g, '').toLowerCase(),
  };
  if (cn !== undefined) info.subject_cn = Array.isArray(cn) ? String(cn[0]) : String(cn);
  if (cert.valid_to) info.valid_to = new Date(cert.valid_to).toISOString();
  return info;
}

export async function grabHttp(
  host: string,
  port: number,
  opts: GrabOptions & { tls?: boolean },
): Promise<GrabResult | undefined> {
  const r = await httpFetch(host, port, '/', opts);
  if (!r.head) return undefined;
  const { head } = r;
  const bodyText = head.body.toString('utf8');
  const http: NonNullable<GrabResult['data']['http']> = {
    status: head.status,
    headers: head.headers,
  };
  const title = htmlTitle(bodyText);
  if (title !== undefined) http.title = title;
  const fav = await httpFetch(host, port, '/favicon.ico', { ...opts, maxBytes: 128 * 1024 });
  if (fav.head && fav.head.status === 200 && fav.head.body.length > 0) {
    http.favicon_hash = faviconHash(fav.head.body.toString('base64'));
    http.favicon_md5 = createHash('md5').update(fav.head.body).digest('hex');
  }
  const result: GrabResult = {
    protocol: opts.tls ? 'https' : 'http',
    raw: r.raw,
    data: { http },
    authRequired:
      head.status === 401 ? true : head.status >= 200 && head.status < 400 ? false : null,
    fingerprintInputs: [],
  };
  if (opts.tls && r.cert) {
    const ci = certInfo(r.cert);
    if (ci) {
      result.data.tls = { ...ci, ...(r.tlsProtocol ? { protocol: r.tlsProtocol } : {}) };
      result.fingerprintInputs.push({
        dbs: ['x509.subject'],
        text: ci.subject.replace(/, /g, ','),
      });
      result.fingerprintInputs.push({ dbs: ['x509.issuer'], text: ci.issuer.replace(/, /g, ',') });
    }
  }
  const h = head.headers;
  if (h.server)
    result.fingerprintInputs.push({
      dbs: ['mamori.http_server', 'http_header.server'],
      text: h.server,
    });
  if (title)
    result.fingerprintInputs.push({ dbs: ['mamori.html_title', 'html_title'], text: title });
  if (h['www-authenticate'])
    result.fingerprintInputs.push({
      dbs: ['mamori.http_wwwauth', 'http_header.wwwauth'],
      text: h['www-authenticate'],
    });
  if (h['x-powered-by'])
    result.fingerprintInputs.push({ dbs: ['http_header.x-powered-by'], text: h['x-powered-by'] });
  if (h['set-cookie'])
    result.fingerprintInputs.push({ dbs: ['http_header.cookie'], text: h['set-cookie'] });
  if (http.favicon_md5)
    result.fingerprintInputs.push({ dbs: ['favicon.md5'], text: http.favicon_md5 });
  const onvif = await grabOnvif(host, port, opts);
  if (onvif) {
    result.data.onvif = onvif;
    if (onvif.manufacturer)
      result.fingerprintInputs.unshift({
        dbs: ['mamori.onvif_device'],
        text: `Manufacturer=${onvif.manufacturer};Model=${onvif.model ?? ''};FirmwareVersion=${onvif.firmware ?? ''}`,
      });
  }
  return result;
}

function soap(body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:tds="http://www.onvif.org/ver10/device/wsdl"><s:Body>${body}</s:Body></s:Envelope>`;
}

function xmlText(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<(?:\\w+:)?${tag}>([^<]*)</(?:\\w+:)?${tag}>`).exec(xml);
  return m ? m[1]!.trim() : undefined;
}

/** ONVIF GetSystemDateAndTime (never needs auth) and GetDeviceInformation (may). */
export async function grabOnvif(host: string, port: number, opts: GrabOptions & { tls?: boolean }) {
  const headers = { 'Content-Type': 'application/soap+xml; charset=utf-8' };
  const dt = await httpFetch(host, port, ONVIF_PATH, {
    ...opts,
    method: 'POST',
    headers,
    body: soap('<tds:GetSystemDateAndTime/>'),
  });
  if (
    dt.head?.status !== 200 ||
    !/GetSystemDateAndTimeResponse/.test(dt.head.body.toString('utf8'))
  ) {
    return undefined;
  }
  const xml = dt.head.body.toString('utf8');
  const out: NonNullable<GrabResult['data']['onvif']> = {};
  const y = xmlText(xml, 'Year');
  if (y) {
    const p = (t: string) => (xmlText(xml, t) ?? '0').padStart(2, '0');
    out.datetime_utc = `${y}-${p('Month')}-${p('Day')}T${p('Hour')}:${p('Minute')}:${p('Second')}Z`;
  }
  const info = await httpFetch(host, port, ONVIF_PATH, {
    ...opts,
    method: 'POST',
    headers,
    body: soap('<tds:GetDeviceInformation/>'),
  });
  if (info.head?.status === 200) {
    const ix = info.head.body.toString('utf8');
    const man = xmlText(ix, 'Manufacturer');
    const model = xmlText(ix, 'Model');
    const fw = xmlText(ix, 'FirmwareVersion');
    if (man) out.manufacturer = man;
    if (model) out.model = model;
    if (fw) out.firmware = fw;
  }
  return out;
}

export async function grabRtsp(
  host: string,
  port: number,
  opts: GrabOptions,
): Promise<GrabResult | undefined> {
  const url = `rtsp://${host.includes(':') ? `[${host}]` : host}:${port}/`;
  const o = await exchange({
    host,
    port,
    timeoutMs: opts.timeoutMs,
    send: `OPTIONS ${url} RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: mamori-exposure\r\n\r\n`,
    until: headComplete,
  });
  const head = parseHead(o.data);
  if (head?.protocol !== 'RTSP') return undefined;
  // DESCRIBE only asks for the session description: it shows whether auth is demanded without
  // SETUP or PLAY, so no video is ever fetched.
  const d = await exchange({
    host,
    port,
    timeoutMs: opts.timeoutMs,
    send: `DESCRIBE ${url} RTSP/1.0\r\nCSeq: 2\r\nAccept: application/sdp\r\nUser-Agent: mamori-exposure\r\n\r\n`,
    until: headComplete,
  });
  const dh = parseHead(d.data);
  const rtsp: NonNullable<GrabResult['data']['rtsp']> = { status: head.status };
  const server = head.headers.server ?? dh?.headers.server;
  if (server) rtsp.server = server;
  if (head.headers.public) rtsp.public = head.headers.public;
  if (dh) rtsp.describe_status = dh.status;
  return {
    protocol: 'rtsp',
    raw: Buffer.concat([o.data, d.data]),
    data: { rtsp },
    authRequired: dh ? (dh.status === 401 ? true : dh.status === 200 ? false : null) : null,
    fingerprintInputs: server
      ? [{ dbs: ['mamori.rtsp_server', 'rtsp_header.server'], text: server }]
      : [],
  };
}

const IAC = 255;

/** Answer every telnet DO/WILL with WONT/DONT so the server moves on to its banner. */
function telnetRefuse(chunk: Buffer, socket: { write(b: Uint8Array): unknown }) {
  const replies: number[] = [];
  for (let i = 0; i + 2 < chunk.length; i++) {
    if (chunk[i] !== IAC) continue;
    const cmd = chunk[i + 1]!;
    const opt = chunk[i + 2]!;
    if (cmd === 253)
      replies.push(IAC, 252, opt); // DO → WONT
    else if (cmd === 251) replies.push(IAC, 254, opt); // WILL → DONT
    if (cmd >= 251 && cmd <= 254) i += 2;
  }
  if (replies.length) socket.write(Uint8Array.from(replies));
}

function stripTelnet(buf: Buffer): Buffer {
  const out: number[] = [];
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === IAC && i + 1 < buf.length) {
      const cmd = buf[i + 1]!;
      if (cmd >= 251 && cmd <= 254) i += 2;
      else if (cmd === 250) {
        const se = buf.indexOf(Buffer.from([IAC, 240]), i);
        i = se < 0 ? buf.length : se + 1;
      } else i += 1;
      continue;
    }
    out.push(buf[i]!);
  }
  return Buffer.from(out);
}

/**
 * Read what a silent-until-asked or talk-first service says first, and classify SSH, FTP and
 * Telnet from it. Undefined when it says nothing.
 */
export async function grabTalkFirst(
  host: string,
  port: number,
  opts: GrabOptions,
): Promise<GrabResult | undefined> {
  const r = await exchange({
    host,
    port,
    timeoutMs: Math.min(opts.timeoutMs, 2000),
    onData: telnetRefuse,
    until: (b) => {
      const s = stripTelnet(b).toString('latin1');
      return (
        /^SSH-[\d.]+-[^\r\n]*\r?\n/.test(s) ||
        (/^220[ -][^\n]*\n/.test(s) && !/^220-/m.test(s.split('\n').pop() ?? '')) ||
        /(?:login|username|password)\s*:\s*$/i.test(s) ||
        (/[#$>]\s*$/.test(s) && s.length > 2)
      );
    },
    maxBytes: 16 * 1024,
  });
  if (r.data.length === 0) return undefined;
  const clean = stripTelnet(r.data);
  const text = clean.toString('latin1');
  const ssh = /^SSH-([\d.]+)-([^\r\n]*)/.exec(text);
  if (ssh) {
    return {
      protocol: 'ssh',
      raw: r.data,
      data: { ssh: { version: ssh[0] } },
      authRequired: true,
      fingerprintInputs: [{ dbs: ['ssh.banner'], text: ssh[2]! }],
    };
  }
  if (/^220[ -]/.test(text)) {
    const first = text.split(/\r?\n/)[0]!.replace(/^220[ -]/, '');
    return {
      protocol: 'ftp',
      raw: r.data,
      data: { ftp: { banner: first } },
      authRequired: null,
      fingerprintInputs: [{ dbs: ['ftp.banner'], text: first }],
    };
  }
  const isTelnet =
    r.data.includes(IAC) ||
    /(?:login|username|password)\s*:\s*$/i.test(text) ||
    port === 23 ||
    port === 2323;
  const prompt = /([^\r\n]*(?:login|username|password)\s*:)\s*$/i.exec(text)?.[1];
  const shell = !prompt && /[#$]\s*$/.test(text);
  return {
    protocol: isTelnet ? 'telnet' : 'unknown',
    raw: r.data,
    data: isTelnet ? { telnet: prompt ? { prompt } : {} } : {},
    authRequired: prompt ? true : shell ? false : null,
    fingerprintInputs: isTelnet
      ? [{ dbs: ['mamori.telnet_banner', 'telnet_banners'], text: text.replace(/^[\r\n]+/, '') }]
      : [],
  };
}

/**
 * Grab one open TCP port: protocol by port first, then by what the service says or answers.
 */
export async function grabTcp(host: string, port: number, opts: GrabOptions): Promise<GrabResult> {
  if (RTSP_PORTS.has(port)) {
    const r = await grabRtsp(host, port, opts);
    if (r) return r;
  }
  if (HTTPS_PORTS.has(port)) {
    const r = await grabHttp(host, port, { ...opts, tls: true });
    if (r) return r;
  }
  if (HTTP_PORTS.has(port)) {
    const r = await grabHttp(host, port, opts);
    if (r) return r;
  }
  const talk = await grabTalkFirst(host, port, opts);
  if (talk) return talk;
  const http = await grabHttp(host, port, opts);
  if (http) return http;
  const rtsp = await grabRtsp(host, port, opts);
  if (rtsp) return rtsp;
  const https = await grabHttp(host, port, { ...opts, tls: true });
  if (https) return https;
  return {
    protocol: 'unknown',
    raw: Buffer.alloc(0),
    data: {},
    authRequired: null,
    fingerprintInputs: [],
  };
}

const SSDP_SEARCH =
  'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n';

function wsDiscoveryProbe(id: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope" xmlns:w="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dn="http://www.onvif.org/ver10/network/wsdl"><e:Header><w:MessageID>uuid:${id}</w:MessageID><w:To e:mustUnderstand="true">urn:schemas-xmlsoap-org:ws:2005:04:discovery</w:To><w:Action e:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</w:Action></e:Header><e:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></e:Body></e:Envelope>`;
}

/** One unicast UDP request/answer (never multicast: the target is the host itself). */
export function udpAsk(
  host: string,
  port: number,
  payload: string,
  timeoutMs: number,
): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    let done = false;
    const finish = (b?: Buffer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.close();
      resolve(b);
    };
    const timer = setTimeout(() => finish(), timeoutMs);
    sock.on('message', (msg) => finish(msg.subarray(0, 64 * 1024)));
    sock.on('error', () => finish());
    sock.send(payload, port, host, (err) => {
      if (err) finish();
    });
  });
}

/** UPnP SSDP M-SEARCH and ONVIF WS-Discovery, sent unicast to one in-scope host. */
export async function grabUdp(
  host: string,
  opts: GrabOptions & { id: string },
): Promise<{ port: number; result: GrabResult }[]> {
  const out: { port: number; result: GrabResult }[] = [];
  const [ssdp, wsd] = await Promise.all([
    udpAsk(host, 1900, SSDP_SEARCH, opts.timeoutMs),
    udpAsk(host, 3702, wsDiscoveryProbe(opts.id), opts.timeoutMs),
  ]);
  if (ssdp) {
    const head = parseHead(ssdp);
    const server = head?.headers.server;
    out.push({
      port: 1900,
      result: {
        protocol: 'ssdp',
        raw: ssdp,
        data: {
          udp: { reply: ssdp.toString('utf8').slice(0, 2048) },
          ...(head ? { http: { status: head.status, headers: head.headers } } : {}),
        },
        authRequired: null,
        fingerprintInputs: server ? [{ dbs: ['http_header.server'], text: server }] : [],
      },
    });
  }
  if (wsd && /ProbeMatch/.test(wsd.toString('utf8'))) {
    const xml = wsd.toString('utf8');
    const scopes = xmlText(xml, 'Scopes') ?? '';
    const hw = /onvif:\/\/www\.onvif\.org\/hardware\/(\S+)/.exec(scopes)?.[1];
    const name = /onvif:\/\/www\.onvif\.org\/name\/(\S+)/.exec(scopes)?.[1];
    out.push({
      port: 3702,
      result: {
        protocol: 'ws-discovery',
        raw: wsd,
        data: {
          udp: { reply: xml.slice(0, 4096) },
          onvif: {
            ...(name ? { manufacturer: decodeURIComponent(name) } : {}),
            ...(hw ? { model: decodeURIComponent(hw) } : {}),
          },
        },
        authRequired: null,
        fingerprintInputs:
          name && hw
            ? [
                {
                  dbs: ['mamori.onvif_device'],
                  text: `Manufacturer=${decodeURIComponent(name)};Model=${decodeURIComponent(hw)};FirmwareVersion=`,
                },
              ]
            : [],
      },
    });
  }
  return out;
}
