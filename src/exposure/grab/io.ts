/**
 * Socket plumbing shared by the grabbers: one bounded exchange on a TCP (or TLS) connection —
 * optional request, read until a condition, a byte cap or the deadline — always ending in
 * destroy() so no path leaks a file descriptor. Not a protocol: see the grabbers beside it.
 */
import { createConnection, type Socket } from 'node:net';
import { type PeerCertificate, type TLSSocket, connect as tlsConnect } from 'node:tls';

export interface ExchangeOptions {
  host: string;
  port: number;
  timeoutMs: number;
  /** Bytes to write once connected (or a function of what has been read, for replies). */
  send?: Uint8Array | string;
  /** Stop reading when this returns true. */
  until?: (received: Buffer) => boolean;
  /** Called on each chunk; may write replies (telnet negotiation). */
  onData?: (chunk: Buffer, socket: Socket) => void;
  maxBytes?: number;
  tls?: boolean;
  servername?: string;
}

export interface ExchangeResult {
  data: Buffer;
  /** connected, then: 'until' | 'cap' | 'closed' | 'timeout' */
  end: 'until' | 'cap' | 'closed' | 'timeout' | 'error';
  connected: boolean;
  cert?: PeerCertificate;
  tlsProtocol?: string;
  error?: string;
}

/** One bounded TCP/TLS exchange. Never throws: failures are in the result. */
export function exchange(opts: ExchangeOptions): Promise<ExchangeResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let connected = false;
    let settled = false;
    let cert: PeerCertificate | undefined;
    let tlsProtocol: string | undefined;
    const max = opts.maxBytes ?? 64 * 1024;
    const socket: Socket = opts.tls
      ? tlsConnect({
          host: opts.host,
          port: opts.port,
          rejectUnauthorized: false,
          ...(opts.servername ? { servername: opts.servername } : {}),
        })
      : createConnection({ host: opts.host, port: opts.port });
    const finish = (end: ExchangeResult['end'], error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const r: ExchangeResult = { data: Buffer.concat(chunks), end, connected };
      if (cert) r.cert = cert;
      if (tlsProtocol) r.tlsProtocol = tlsProtocol;
      if (error) r.error = error;
      resolve(r);
    };
    const timer = setTimeout(() => finish('timeout'), opts.timeoutMs);
    socket.once(opts.tls ? 'secureConnect' : 'connect', () => {
      connected = true;
      if (opts.tls) {
        const t = socket as TLSSocket;
        cert = t.getPeerCertificate(false);
        tlsProtocol = t.getProtocol() ?? undefined;
      }
      if (opts.send !== undefined) socket.write(opts.send);
    });
    socket.on('data', (chunk: Buffer) => {
      const room = max - size;
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
      chunks.push(part);
      size += part.length;
      opts.onData?.(part, socket);
      if (size >= max) return finish('cap');
      if (opts.until?.(Buffer.concat(chunks))) finish('until');
    });
    socket.on('end', () => finish('closed'));
    socket.on('close', () => finish('closed'));
    socket.on('error', (err) => finish(connected ? 'closed' : 'error', err.message));
  });
}

/** Split an HTTP/RTSP response head into status and lower-cased headers (repeated ones joined). */
export function parseHead(data: Buffer):
  | {
      protocol: string;
      status: number;
      headers: Record<string, string>;
      body: Buffer;
    }
  | undefined {
  const idx = data.indexOf('\r\n\r\n');
  const headEnd = idx >= 0 ? idx : data.length;
  const head = data.subarray(0, headEnd).toString('latin1');
  const lines = head.split(/\r?\n/);
  const m = /^(HTTP|RTSP)\/\d(?:\.\d)?\s+(\d{3})/.exec(lines[0] ?? '');
  if (!m) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const c = line.indexOf(':');
    if (c <= 0) continue;
    const k = line.slice(0, c).trim().toLowerCase();
    const v = line.slice(c + 1).trim();
    headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
  }
  return {
    protocol: m[1]!,
    status: Number(m[2]),
    headers,
    body: idx >= 0 ? data.subarray(idx + 4) : Buffer.alloc(0),
  };
}

/** True once a full head and (when given) Content-Length bytes of body have arrived. */
export function headComplete(buf: Buffer): boolean {
  const idx = buf.indexOf('\r\n\r\n');
  if (idx < 0) return false;
  const head = buf.subarray(0, idx).toString('latin1');
  const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (!cl) return !!/^RTSP\//.test(head);
  return buf.length - idx - 4 >= Number(cl[1]);
}
