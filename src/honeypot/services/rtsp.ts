/**
 * The camera's RTSP side on node:net: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN and
 * GET_PARAMETER with Basic auth per the mode. PLAY is answered and recorded as a view; no RTP
 * is sent. Malformed or binary input is recorded as `input.invalid` and the connection closed.
 * Bounded: request head size, requests per connection, idle timeout.
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
  rtspResponse,
} from '../core/rtsp.js';
import { openSession, type ServiceOptions } from './session.js';

const MAX_REQUESTS = 200;

/** @example createRtsp(opts).listen(8554, '127.0.0.1') */
export function createRtsp(opts: ServiceOptions): Server {
  const server = createServer((socket: Socket) => {
    const session = openSession(socket, 'rtsp', opts);
    if (!session) return;
    let buf: Buffer = Buffer.alloc(0);
    let requests = 0;
    let busy = false;
    let closed = false;
    const rtspSession = randomBytes(4).toString('hex').toUpperCase();
    const connected = session.emit('session.connect').catch(() => {});
    socket.setTimeout(opts.idleMs ?? 30_000, () => socket.destroy());
    socket.on('error', () => {});
    socket.once('close', () => {
      closed = true;
      session
        .emit('session.closed', {
          durationMs: opts.clock.now() - session.started,
          requests,
        })
        .catch(() => {});
    });

    const garbage = async (reason: string, bytes: Uint8Array) => {
      closed = true;
      socket.pause();
      await session.emit('input.invalid', { reason, bytes: bytesPreview(bytes) }).catch(() => {});
      if (socket.writable) socket.end(rtspResponse(400, 'Bad Request', undefined));
      else socket.destroy();
    };

    const drain = async () => {
      if (busy) return;
      busy = true;
      try {
        await connected;
        while (!closed) {
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) {
            if (buf.length > MAX_RTSP_HEAD) return await garbage('oversized request', buf);
            if (buf.length > 0 && buf[0] !== undefined && (buf[0] < 0x41 || buf[0] > 0x5a))
              return await garbage('not RTSP', buf);
            return;
          }
          const head = buf.subarray(0, end);
          const text = head.toString('latin1');
          const req = parseRtspRequest(text);
          if (!req) return await garbage('malformed RTSP', head);
          const length = Math.min(Number(req.headers['content-length'] ?? 0) || 0, 65536);
          if (buf.length < end + 4 + length) return;
          buf = buf.subarray(end + 4 + length);
          if (++requests > MAX_REQUESTS) return await garbage('too many requests', head);
          await answer(req);
        }
      } finally {
        busy = false;
      }
    };

    const answer = async (req: NonNullable<ReturnType<typeof parseRtspRequest>>) => {
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
        pending.push(session.emit(ok ? 'login.success' : 'login.failed', { via: 'basic' }, basic));
        authed ||= ok;
      } else {
        const user = digestUsername(auth);
        if (user !== undefined)
          pending.push(session.emit('login.failed', { via: 'digest' }, { username: user }));
      }
      let reply: string;
      const needsAuth = req.method !== 'OPTIONS';
      if (needsAuth && !authed) {
        reply = rtspResponse(401, 'Unauthorized', cseq, {
          'WWW-Authenticate': 'Basic realm="IPCAM"',
        });
      } else {
        switch (req.method) {
          case 'OPTIONS':
            reply = rtspResponse(200, 'OK', cseq, {
              Public: 'OPTIONS, DESCRIBE, SETUP, TEARDOWN, PLAY, GET_PARAMETER',
            });
            break;
          case 'DESCRIBE':
            reply = rtspResponse(
              200,
              'OK',
              cseq,
              {
                'Content-Type': 'application/sdp',
                'Content-Base': `${req.uri.replace(/\/?$/, '/')}`,
              },
              cameraSdp(socket.localAddress ?? '0.0.0.0'),
            );
            break;
          case 'SETUP':
            reply = rtspResponse(200, 'OK', cseq, {
              Transport: (req.headers.transport ?? 'RTP/AVP;unicast').slice(0, 200),
              Session: `${rtspSession};timeout=60`,
            });
            break;
          case 'PLAY':
            pending.push(session.emit('stream.view', { kind: 'rtsp', uri: req.uri }));
            reply = rtspResponse(200, 'OK', cseq, {
              Session: rtspSession,
              Range: 'npt=0.000-',
            });
            break;
          case 'TEARDOWN':
          case 'GET_PARAMETER':
            reply = rtspResponse(200, 'OK', cseq, { Session: rtspSession });
            break;
          default:
            reply = rtspResponse(405, 'Method Not Allowed', cseq);
        }
      }
      await Promise.all(pending);
      if (socket.writable) socket.write(reply);
    };

    socket.on('data', (chunk: Buffer) => {
      if (closed) return;
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      if (buf.length > MAX_RTSP_HEAD + 65536) {
        void garbage('oversized request', buf);
        return;
      }
      drain().catch(() => socket.destroy());
    });
  });
  return server;
}
