/**
 * `startHoneypot()`: one process emulating a network camera — HTTP web UI, RTSP, telnet and
 * ONVIF listeners sharing one recorder — plus the run row that anchors "time to first contact".
 * Listens on 127.0.0.1 by default; makes no outbound connection, ever.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo, Server } from 'node:net';
import type { AlertSink } from '../alerts/index.js';
import { type Clock, systemClock } from '../shared/clock.js';
import { MamoriError } from '../shared/errors.js';
import type { Store } from '../storage/index.js';
import { withAlerts } from './alerting.js';
import type { AuthMode, AuthPolicy } from './core/credentials.js';
import { type EventSink, Recorder } from './recorder.js';
import { FrameSource } from './services/frames.js';
import { createCameraHttp } from './services/http.js';
import { createRtsp } from './services/rtsp.js';
import { SourceLimiter } from './services/session.js';
import { createTelnet } from './services/telnet.js';

export interface HoneypotPorts {
  http: number;
  rtsp: number;
  telnet: number;
  onvif: number;
}

export interface StartOptions {
  store: Store;
  bind?: string;
  /** 0 = any free port. */
  ports?: Partial<HoneypotPorts>;
  auth?: AuthMode;
  /**
   * The one real password in `flawed` and `strong` modes (user `admin`): the owner's, for
   * watching their own decoy. Random, and never printed, when absent.
   */
  password?: string;
  profile?: 'camera';
  logPath?: string | undefined;
  clock?: Clock;
  /** Concurrent sessions per source address (default 32) and in total (default 4096). */
  maxSessionsPerSource?: number;
  maxSessions?: number;
  maxStreamMs?: number;
  /** Idle and header timeouts of sessions in ms (slowloris bound; default 10–60 s). */
  idleMs?: number;
  /** Longest life of any session in ms (default 10 minutes). */
  maxSessionMs?: number;
  /** Replace the recorder (the benchmark's no-recording base). */
  sink?: EventSink;
  /** Raise first-contact and new-class alerts here (after each event is durable). */
  alerts?: AlertSink;
}

export interface RunningHoneypot {
  runId: string;
  bind: string;
  ports: HoneypotPorts;
  auth: AuthMode;
  recorder: Recorder | undefined;
  /** Sessions open right now (all protocols). */
  openSessions(): number;
  stop(): Promise<void>;
}

export const DEFAULT_PORTS: HoneypotPorts = { http: 8080, rtsp: 8554, telnet: 2323, onvif: 8000 };

async function listen(server: Server, port: number, host: string, what: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(
        new MamoriError(
          'E_USAGE',
          `cannot listen for ${what} on ${host}:${port}: ${err.code === 'EADDRINUSE' ? 'the port is in use' : err.code === 'EACCES' ? 'permission denied (use a port above 1023 and redirect, see docs/honeypot.md)' : err.message}`,
          { cause: err },
        ),
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const s = server as Server & { closeAllConnections?: () => void };
    server.close(() => resolve());
    s.closeAllConnections?.();
  });
}

/**
 * @example
 * const hp = await startHoneypot({ store, ports: { http: 0, rtsp: 0, telnet: 0, onvif: 0 } });
 * // … attackers come …
 * await hp.stop();
 */
export async function startHoneypot(opts: StartOptions): Promise<RunningHoneypot> {
  const bind = opts.bind ?? '127.0.0.1';
  const auth = opts.auth ?? 'weak';
  const clock = opts.clock ?? systemClock;
  const runId = randomBytes(6).toString('hex');
  const policy: AuthPolicy = {
    mode: auth,
    strongUser: 'admin',
    // Flawed/strong: a random 24-character password nobody is told; guessing cannot succeed.
    strongPassword: opts.password ?? randomBytes(18).toString('base64url'),
  };
  const recorder = opts.sink
    ? undefined
    : await Recorder.open({ store: opts.store, logPath: opts.logPath });
  const recorded = opts.sink ?? recorder!;
  const sink = opts.alerts ? withAlerts(recorded, opts.alerts) : recorded;
  const limiter = new SourceLimiter(opts.maxSessionsPerSource ?? 32, opts.maxSessions ?? 4096);
  const base = {
    sink,
    auth: policy,
    clock,
    limiter,
    runTag: runId,
    ...(opts.maxStreamMs !== undefined ? { maxStreamMs: opts.maxStreamMs } : {}),
    ...(opts.idleMs !== undefined ? { idleMs: opts.idleMs } : {}),
    ...(opts.maxSessionMs !== undefined ? { maxSessionMs: opts.maxSessionMs } : {}),
  };
  const frames = new FrameSource(clock);
  const ports: HoneypotPorts = { http: 0, rtsp: 0, telnet: 0, onvif: 0 };
  const rtspPort = () => ports.rtsp;
  const servers = {
    http: createCameraHttp({ ...base, frames, protocol: 'http', rtspPort }),
    rtsp: createRtsp(base),
    telnet: createTelnet(base),
    onvif: createCameraHttp({ ...base, frames, protocol: 'onvif', rtspPort }),
  };
  const want = { ...DEFAULT_PORTS, ...opts.ports };
  const started: Server[] = [];
  try {
    for (const k of ['http', 'rtsp', 'telnet', 'onvif'] as const) {
      ports[k] = await listen(servers[k], want[k], bind, k);
      started.push(servers[k]);
    }
  } catch (err) {
    await Promise.all(started.map(closeServer));
    await recorder?.close();
    throw err;
  }
  const startedAt = new Date(clock.now()).toISOString();
  if (!opts.sink) {
    await opts.store.db
      .insertInto('honeypot_run')
      .values({
        id: runId,
        started_at: startedAt,
        stopped_at: null,
        profile: opts.profile ?? 'camera',
        auth,
        bind,
        ports: JSON.stringify(ports),
      })
      .execute();
  }
  let stopped = false;
  return {
    runId,
    bind,
    ports,
    auth,
    recorder,
    openSessions: () => limiter.open,
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.all(Object.values(servers).map(closeServer));
      // Let the close handlers queue their session.closed events.
      await new Promise((r) => setTimeout(r, 20));
      await recorder?.close();
      if (!opts.sink) {
        await opts.store.db
          .updateTable('honeypot_run')
          .set({ stopped_at: new Date(clock.now()).toISOString() })
          .where('id', '=', runId)
          .execute();
      }
    },
  };
}
