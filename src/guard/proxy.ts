/**
 * The guard reverse proxy: HTTP/1.1 with keep-alive on both sides (node:http), request bodies
 * read up to a limit and inspected by phases 1 and 2 before anything reaches the upstream;
 * the upstream's headers (phase 3) and up to `responseBodyLimit` bytes of its body (phase 4)
 * are inspected before anything is sent back, and the rest is streamed. Requests Node's parser
 * refuses (conflicting Content-Length and Transfer-Encoding, bad framing, oversized headers)
 * and those core/front.ts refuses (bad request line, target, protocol or Host) get 400;
 * CONNECT is inspected, then answered 405 (a reverse proxy does not tunnel). In block mode the
 * CRS anomaly
 * threshold (rule 949110's deny) answers 403; in detect mode everything passes and is logged.
 * Every match is one JSON line (and an alert when the request is blocked).
 * Not a cache, a TLS terminator or a load balancer.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { MamoriError } from '../shared/errors.js';
import type { BlockInfo } from './alerting.js';
import { type Engine, formatMatch, newTransaction, runPhase } from './core/engine.js';
import { frontReject } from './core/front.js';
import type { HttpRequest } from './core/request.js';
import {
  inspectableBody,
  RESPONSE_BODY_LIMIT,
  readBodyPrefix,
  setResponseCollections,
} from './proxy-response.js';

export interface ProxyMatchLog {
  type: 'guard.match';
  time: string;
  requestId: string;
  ruleId: number;
  /** SecLang phase: 1, 2 (request) or 3, 4 (response). */
  phase: number;
  msg: string;
  matchedVar: string;
  matchedData: string;
  /** The rule's expanded `logdata` (e.g. `Matched Data: … found within ARGS:id: …`). */
  logData: string;
  anomalyScore: number;
  action: 'blocked' | 'logged';
  client: string;
  method: string;
  /** The request target as sent (path and query). */
  path: string;
}

export interface ProxyOptions {
  listen: { host: string; port: number };
  upstream: string;
  engine: Engine;
  mode: 'detect' | 'block';
  /** Largest request body accepted (bytes); larger gets 413. */
  bodyLimit?: number;
  /**
   * Response body bytes inspected by phase 4 (default 512 KiB); past it the rest is streamed
   * on uninspected, and only this much is ever held in memory.
   */
  responseBodyLimit?: number;
  /** Called for each match (JSON-line logging, store rows). */
  onMatch?: (m: ProxyMatchLog) => void;
  /** Called with each match as a ModSecurity-style audit line (the network test runner). */
  onAuditLine?: (line: string) => void;
  /**
   * Called once per blocked request; in detect mode, once per request (or response) that block
   * mode would have refused, with `detected: true` (it was passed on).
   */
  onBlock?: (info: BlockInfo) => void;
  now?: () => Date;
}

export interface RunningProxy {
  port: number;
  close(): Promise<void>;
}

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) over = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(over ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
]);

/**
 * @example const p = await startProxy({ listen: { host: '127.0.0.1', port: 8081 }, upstream: 'http://127.0.0.1:3000', engine, mode: 'block' })
 */
export async function startProxy(opts: ProxyOptions): Promise<RunningProxy> {
  const upstream = new URL(opts.upstream);
  if (upstream.protocol !== 'http:') {
    throw new MamoriError('E_USAGE', `--upstream must be an http:// URL, not ${opts.upstream}`);
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const limit = opts.bodyLimit ?? 1024 * 1024;
  const responseLimit = opts.responseBodyLimit ?? RESPONSE_BODY_LIMIT;
  const now = opts.now ?? (() => new Date());
  const server = http.createServer({ maxHeaderSize: 16 * 1024 }, (req, res) => {
    handle(req, res).catch(() => {
      // Once the upstream's headers are out, a broken body can only be cut off.
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end('bad gateway\n');
    });
  });
  // A client that half-closes after its request (shutdown(SHUT_WR), as raw-socket test tools
  // do) still gets its answer: by default Node's HTTP server ends such a socket at once, which
  // loses a response still waiting on the upstream and phase 4. (Long-standing Node property.)
  Object.assign(server, { httpAllowHalfOpen: true });
  server.on('clientError', (_err, socket) => {
    if (socket.writable)
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });

  // CONNECT never reaches 'request': it is inspected like any request, then refused
  server.on('connect', (req: http.IncomingMessage, socket: Duplex) => {
    socket.on('error', () => socket.destroy());
    const res = new http.ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket as Socket);
    res.on('finish', () => socket.end());
    handle(req, res, true).catch(() => socket.destroy());
  });

  async function handle(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    connect = false,
  ): Promise<void> {
    const requestId = randomUUID();
    const time = now().toISOString();
    const body = connect ? Buffer.alloc(0) : await readBody(req, limit);
    if (body === 'too-large') {
      res.writeHead(413, { 'content-type': 'text/plain', connection: 'close' });
      res.end('request body too large\n');
      return;
    }
    const headers: Array<[string, string]> = [];
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      headers.push([req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string]);
    }
    const request: HttpRequest = {
      method: req.method ?? 'GET',
      uri: req.url ?? '/',
      protocol: `HTTP/${req.httpVersion}`,
      headers,
      body: body.toString('latin1'),
      remoteAddr: req.socket.remoteAddress ?? '',
      remotePort: req.socket.remotePort ?? 0,
      serverPort: (server.address() as AddressInfo).port,
    };
    if (frontReject(request) !== undefined) {
      res.writeHead(400, { 'content-type': 'text/plain', connection: 'close' });
      res.end('bad request\n');
      return;
    }
    const t = newTransaction(opts.engine, request, requestId);
    t.ruleEngine = opts.mode === 'block' ? 'On' : 'DetectionOnly';
    runPhase(t, 1);
    runPhase(t, 2);
    const logMatches = (from: number, score: number, action: 'blocked' | 'logged') => {
      for (const m of t.matches.slice(from)) {
        opts.onAuditLine?.(formatMatch(m, requestId));
        opts.onMatch?.({
          type: 'guard.match',
          time,
          requestId,
          ruleId: m.id,
          phase: m.phase,
          msg: m.msg,
          matchedVar: m.matchedVarName,
          matchedData: m.matchedVar.slice(0, 1024),
          logData: m.data.slice(0, 1024),
          anomalyScore: score,
          action,
          client: request.remoteAddr,
          method: request.method,
          path: request.uri,
        });
      }
    };
    const report = (score: number, detected: boolean) =>
      opts.onBlock?.({
        requestId,
        ruleIds: t.matches.map((m) => m.id),
        score,
        uri: request.uri,
        client: request.remoteAddr,
        ...(detected ? { detected } : {}),
      });
    const refuse = (status: number, score: number, what: string) => {
      report(score, false);
      res.writeHead(status, { 'content-type': 'text/plain', 'x-request-id': requestId });
      res.end(`${what} blocked\n`);
    };
    const inbound = Number(
      t.tx.get('blocking_inbound_anomaly_score') ?? t.tx.get('anomaly_score') ?? 0,
    );
    const blocked = t.interruption !== undefined && opts.mode === 'block';
    logMatches(0, inbound, blocked ? 'blocked' : 'logged');
    if (blocked && t.interruption !== undefined) {
      refuse(t.interruption.status, inbound, 'request');
      return;
    }
    // detect mode: what block mode would have refused passes on, and is still reported
    const detectedInRequest = t.detected !== undefined;
    if (detectedInRequest) report(inbound, true);
    if (connect) {
      res.writeHead(405, {
        'content-type': 'text/plain',
        allow: 'GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH',
      });
      res.end('a reverse proxy does not tunnel CONNECT\n');
      return;
    }
    const outHeaders: http.OutgoingHttpHeaders = {};
    for (const [k, v] of headers) {
      const lk = k.toLowerCase();
      if (HOP_BY_HOP.has(lk)) continue;
      const prev = outHeaders[lk];
      outHeaders[lk] =
        prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [String(prev), v];
    }
    outHeaders['content-length'] = String(body.length);
    const upRes = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const up = http.request(
        {
          host: upstream.hostname,
          port: upstream.port || 80,
          method: request.method,
          path: request.uri,
          headers: outHeaders,
          agent,
        },
        resolve,
      );
      up.on('error', reject);
      up.end(body);
    });
    // Phases 3 and 4: nothing is sent to the client until they have run.
    const fromResponse = t.matches.length;
    setResponseCollections(t.collections, upRes);
    runPhase(t, 3);
    let held: Buffer[] = [];
    let ended = false;
    if (t.interruption === undefined && inspectableBody(request.method, upRes)) {
      const prefix = await readBodyPrefix(upRes, responseLimit);
      held = prefix.chunks;
      ended = prefix.ended;
      const text = Buffer.concat(held).subarray(0, responseLimit).toString('latin1');
      t.collections.set('RESPONSE_BODY', [{ key: '', value: text }]);
      t.collections.set('RESPONSE_CONTENT_LENGTH', [{ key: '', value: String(prefix.size) }]);
    }
    runPhase(t, 4);
    const outbound = Number(
      t.tx.get('blocking_outbound_anomaly_score') ?? t.tx.get('outbound_anomaly_score') ?? 0,
    );
    const responseBlocked = t.interruption !== undefined && opts.mode === 'block';
    logMatches(fromResponse, outbound, responseBlocked ? 'blocked' : 'logged');
    if (responseBlocked && t.interruption !== undefined) {
      upRes.destroy();
      refuse(t.interruption.status, outbound, 'response');
      return;
    }
    if (t.detected !== undefined && !detectedInRequest) report(outbound, true);
    const resHeaders: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(upRes.headers)) {
      if (!HOP_BY_HOP.has(k) && v !== undefined) resHeaders[k] = v;
    }
    res.writeHead(upRes.statusCode ?? 502, resHeaders);
    for (const c of held) res.write(c);
    if (ended) {
      res.end();
      return;
    }
    await new Promise<void>((resolve, reject) => {
      upRes.pipe(res);
      upRes.on('end', resolve);
      upRes.on('error', reject);
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.listen.port, opts.listen.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
