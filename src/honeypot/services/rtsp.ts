/**
 * The camera's RTSP side on node:net, in the manner of a Hipcam camera's "RealServer":
 * OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN and GET_PARAMETER with Basic auth per the mode, a
 * few stream paths (others are 404, so a path brute-forcer finds what a real camera has), and
 * real H.264 video over RTP (interleaved or UDP) after PLAY. Every reply carries a CSeq; a
 * request without one is a 400. A request cut short by a half-close is still answered.
 * Malformed or binary input is recorded as `input.invalid` and the connection closed.
 * Bounded: request head size, requests per connection, idle timeout, stream length.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { checkCredential } from '../core/credentials.js';
import { bytesPreview } from '../core/events.js';
import {
  basicCredentials,
  cameraSdp,
  digestUsername,
  MAX_RTSP_HEAD,
  parseRtspRequest,
  type RtspRequest,
  rtspResponse,
  streamPathOf,
  transportAsk,
} from '../core/rtsp.js';
import { CLIP_FPS, cameraFmtp, RtpStream, type RtpTarget, UdpPair } from './rtp.js';
import { openSession, type ServiceOptions } from './session.js';

const MAX_REQUESTS = 200;
const PUBLIC = 'OPTIONS, DESCRIBE, SETUP, TEARDOWN, PLAY, GET_PARAMETER';

/** @example createRtsp(opts).listen(8554, '127.0.0.1') */
export function createRtsp(opts: ServiceOptions): Server {
  let udp: UdpPair | undefined;
  const server = createServer({ allowHalfOpen: true }, (socket: Socket) => {
    const session = openSession(socket, 'rtsp', opts);
    if (!session) return;
    let buf: Buffer = Buffer.alloc(0);
    let requests = 0;
    let busy = false;
    let closed = false;
    let ended = false;
    const rtspSession = randomBytes(4).toString('hex').toUpperCase();
    let setup: RtpTarget | undefined;
    let stream: RtpStream | undefined;
    // When the current request head began to arrive: a head dribbled in slower than the
    // header timeout is a slowloris, whatever the idle timer says.
    let headSince = 0;
    const headerMs = Math.min(opts.idleMs ?? 10_000, 10_000);
    const connected = session.emit('session.connect').catch(() => {});
    socket.setTimeout(opts.idleMs ?? 30_000, () => socket.destroy());
    socket.on('error', () => {});
    socket.once('close', () => {
      closed = true;
      stream?.stop();
      session
        .emit('session.closed', {
          durationMs: opts.clock.now() - session.started,
          requests,
        })
        .catch(() => {});
    });

    const garbage = async (reason: string, bytes: Uint8Array, cseq?: string) => {
      closed = true;
      socket.pause();
      stream?.stop();
      await session.emit('input.invalid', { reason, bytes: bytesPreview(bytes) }).catch(() => {});
      if (socket.writable) socket.end(rtspResponse(400, 'Bad Request', cseq));
      else socket.destroy();
    };

    const drain = async () => {
      if (busy) return;
      busy = true;
      try {
        await connected;
        while (!closed) {
          // RTCP receiver reports interleaved by the viewer: `$`, channel, 16-bit length.
          if (buf[0] === 0x24) {
            if (buf.length < 4) break;
            const n = buf.readUInt16BE(2);
            if (buf.length < 4 + n) break;
            buf = buf.subarray(4 + n);
            continue;
          }
          let end = buf.indexOf('\r\n\r\n');
          let sep = 4;
          // A head cut short by the client's half-close is still a request.
          if (end < 0 && ended && buf.length > 0) {
            end = buf.length;
            sep = 0;
          }
          if (end < 0) {
            if (buf.length > 0 && Date.now() - headSince > headerMs)
              return await garbage('request timeout (slow client)', buf);
            if (buf.length > MAX_RTSP_HEAD) return await garbage('oversized request', buf);
            if (buf.length > 0 && buf[0] !== undefined && (buf[0] < 0x41 || buf[0] > 0x5a))
              return await garbage('not RTSP', buf);
            break;
          }
          const head = buf.subarray(0, end);
          const text = head.toString('latin1').replace(/\r?\n$/, '');
          const req = parseRtspRequest(text);
          if (!req) {
            // An HTTP or SIP request line (scanners try them on every port) gets the camera's
            // own 400, as the firmware does; anything else is garbage too.
            const cseq = /\r?\nCSeq:\s*(\d{1,9})/i.exec(text)?.[1];
            return await garbage(
              /^[A-Z_]{3,20} \S+ (?!RTSP\/)[A-Z]{3,8}\/\d\.\d/.test(text)
                ? 'not RTSP'
                : 'malformed RTSP',
              head,
              cseq,
            );
          }
          const length = Math.min(Number(req.headers['content-length'] ?? 0) || 0, 65536);
          if (buf.length < end + sep + length && !ended) break;
          buf = buf.subarray(Math.min(buf.length, end + sep + length));
          headSince = Date.now();
          if (++requests > MAX_REQUESTS) return await garbage('too many requests', head);
          await answer(req);
        }
        if (ended && !closed && buf.length === 0) socket.end();
      } finally {
        busy = false;
      }
    };

    const answer = async (req: RtspRequest) => {
      const cseq = req.headers.cseq;
      const pending: Promise<void>[] = [
        session.emit('rtsp.request', {
          method: req.method,
          uri: req.uri,
          ua: req.headers['user-agent'],
        }),
      ];
      let authed = opts.auth.mode === 'none';
      const auth = req.headers.authorization;
      const basic = basicCredentials(auth, (s) => Buffer.from(s, 'base64').toString('utf8'));
      if (basic) {
        const ok = checkCredential(opts.auth, basic.username, basic.password);
        if (session.firstTry(basic.username, basic.password))
          pending.push(
            session.emit(ok ? 'login.success' : 'login.failed', { via: 'basic' }, basic),
          );
        authed ||= ok;
      } else {
        const user = digestUsername(auth);
        // We never offer Digest, so its password cannot be checked or known: the guess is
        // kept with its user and marked, never as an empty password.
        if (user !== undefined && session.firstTry(user, undefined))
          pending.push(
            session.emit(
              authed ? 'login.success' : 'login.failed',
              { via: 'digest', password: 'unknown' },
              { username: user },
            ),
          );
      }
      const reply = await replyTo(req, cseq, authed, pending);
      await Promise.all(pending);
      if (socket.writable) socket.write(reply);
      if (req.method === 'PLAY' && reply.startsWith('RTSP/1.0 200') && !ended) stream?.start();
    };

    const replyTo = async (
      req: RtspRequest,
      cseq: string | undefined,
      authed: boolean,
      pending: Promise<void>[],
    ): Promise<string> => {
      if (cseq === undefined || !/^\d{1,9}$/.test(cseq.trim()))
        return rtspResponse(400, 'Bad Request', undefined);
      if (req.version !== 'RTSP/1.0') return rtspResponse(505, 'RTSP Version Not Supported', cseq);
      if (req.method === 'OPTIONS') return rtspResponse(200, 'OK', cseq, { Public: PUBLIC });
      if (!PUBLIC.split(', ').includes(req.method))
        return rtspResponse(405, 'Method Not Allowed', cseq, { Allow: PUBLIC });
      // The path is checked before the password, as the firmware does: an unknown stream is
      // 404 to everyone, so only the real paths ask for a login.
      const path = req.uri === '*' ? '/' : streamPathOf(req.uri);
      if (path === undefined) return rtspResponse(404, 'Stream Not Found', cseq);
      if (!authed)
        return rtspResponse(401, 'Unauthorized', cseq, {
          'WWW-Authenticate': 'Basic realm="HipcamRealServer"',
        });
      switch (req.method) {
        case 'DESCRIBE': {
          const host = socket.localAddress?.replace(/^::ffff:/, '') ?? '0.0.0.0';
          return rtspResponse(
            200,
            'OK',
            cseq,
            {
              'Content-Type': 'application/sdp',
              'Content-Base': `${req.uri.replace(/\/?$/, '/')}`,
            },
            cameraSdp(host, cameraFmtp(), CLIP_FPS),
          );
        }
        case 'SETUP': {
          if (stream) return rtspResponse(455, 'Method Not Valid in This State', cseq);
          const ask = transportAsk(req.headers.transport);
          if (!ask) return rtspResponse(461, 'Unsupported Transport', cseq);
          const maxMs = opts.maxStreamMs ?? 120_000;
          let transport: string;
          if (ask.kind === 'interleaved') {
            setup = {
              kind: 'interleaved',
              channel: ask.rtp,
              write: (b) => socket.writable && socket.write(b),
              backlog: () => socket.writableLength,
            };
            transport = `RTP/AVP/TCP;unicast;interleaved=${ask.rtp}-${ask.rtcp}`;
          } else {
            udp ??= new UdpPair(socket.localAddress ?? '127.0.0.1');
            const pair = await udp.get();
            setup = {
              kind: 'udp',
              socket: pair.rtp,
              // Only ever to the viewer's own address: never a reflector.
              host: socket.remoteAddress ?? session.srcIp,
              port: ask.rtp,
            };
            transport = `RTP/AVP;unicast;client_port=${ask.rtp}-${ask.rtcp};server_port=${pair.rtp.address().port}-${pair.rtcp.address().port}`;
          }
          stream = new RtpStream(setup, maxMs, () => {});
          return rtspResponse(200, 'OK', cseq, {
            Transport: `${transport};ssrc=${stream.ssrc.toString(16).toUpperCase().padStart(8, '0')}`,
            Session: `${rtspSession};timeout=60`,
          });
        }
        case 'PLAY':
          if (!stream) return rtspResponse(455, 'Method Not Valid in This State', cseq);
          pending.push(session.emit('stream.view', { kind: 'rtsp', uri: req.uri }));
          return rtspResponse(200, 'OK', cseq, {
            Session: rtspSession,
            Range: 'npt=0.000-',
            'RTP-Info': `url=${req.uri.replace(/\/?$/, '/')}trackID=1;seq=${stream.firstSeq};rtptime=${stream.firstTimestamp}`,
          });
        case 'TEARDOWN':
          stream?.stop();
          stream = undefined;
          return rtspResponse(200, 'OK', cseq, { Session: rtspSession });
        default:
          return rtspResponse(200, 'OK', cseq, { Session: rtspSession });
      }
    };

    socket.on('data', (chunk: Buffer) => {
      if (closed) return;
      if (buf.length === 0) headSince = Date.now();
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      if (buf.length > MAX_RTSP_HEAD + 65536) {
        void garbage('oversized request', buf);
        return;
      }
      drain().catch(() => socket.destroy());
    });
    socket.on('end', () => {
      // The viewer hung up its side: what it asked is answered, no more video is sent.
      ended = true;
      stream?.stop();
      drain().catch(() => socket.destroy());
    });
  });
  server.on('close', () => {
    void udp?.close();
  });
  return server;
}
