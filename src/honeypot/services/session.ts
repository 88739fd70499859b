/**
 * What every protocol service shares: one Session per TCP connection (its id, source and the
 * `emit()` that records an event with it), the per-source concurrent-session cap, and the
 * service options. Not a protocol.
 */
import type { Socket } from 'node:net';
import type { Clock } from '../../shared/clock.js';
import type { AuthPolicy } from '../core/credentials.js';
import {
  boundSummary,
  boundText,
  type EventId,
  type HoneypotEvent,
  type Protocol,
} from '../core/events.js';
import type { EventSink } from '../recorder.js';
import { peerOf } from './peer.js';

export interface ServiceOptions {
  sink: EventSink;
  auth: AuthPolicy;
  clock: Clock;
  limiter: SourceLimiter;
  /** Unique per run: session ids are `<runTag>-<n>`. */
  runTag: string;
  /** Bounds: longest stream in ms (MJPEG), idle timeout in ms. */
  maxStreamMs?: number;
  idleMs?: number;
  /** Longest life of any session in ms, however busy (default 10 minutes). */
  maxSessionMs?: number;
}

let counter = 0;

export class Session {
  readonly id: string;
  readonly srcIp: string;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly started: number;
  readonly #opts: ServiceOptions;
  readonly protocol: Protocol;
  readonly #tried = new Set<string>();

  constructor(socket: Socket, protocol: Protocol, opts: ServiceOptions) {
    this.id = `${opts.runTag}-${++counter}`;
    // A connection reset before it was accepted has lost its peer to getpeername(); the
    // kernel still knows it (peer.ts). `?` only where even that fails.
    const peer = peerOf(socket);
    this.srcIp = normaliseIp(peer?.address ?? UNKNOWN_SOURCE);
    this.srcPort = peer?.port ?? 0;
    this.dstPort = socket.localPort ?? 0;
    this.protocol = protocol;
    this.#opts = opts;
    this.started = opts.clock.now();
  }

  /**
   * Is this the first time this connection offers this credential? A client that logs in
   * once and then sends it with every request (RTSP, HTTP Basic) made one login, not one per
   * request. `password` undefined = not known (a digest).
   */
  firstTry(username: string, password: string | undefined): boolean {
    const key = `${username}\u0000${password === undefined ? '\u0001' : password}`;
    if (this.#tried.has(key)) return false;
    if (this.#tried.size < 64) this.#tried.add(key);
    return true;
  }

  /** Record one event; resolves when it is durable. */
  emit(
    eventid: EventId,
    summary: Record<string, string | number | boolean | undefined> = {},
    cred?: { username: string; password?: string | undefined },
  ): Promise<void> {
    const ev: HoneypotEvent = {
      eventid,
      time: new Date(this.#opts.clock.now()).toISOString(),
      session: this.id,
      protocol: this.protocol,
      srcIp: this.srcIp,
      srcPort: this.srcPort,
      dstPort: this.dstPort,
      summary: boundSummary(summary),
    };
    if (cred) {
      ev.username = boundText(cred.username, 128);
      if (cred.password !== undefined) ev.password = boundText(cred.password, 128);
    }
    return this.#opts.sink.record(ev);
  }
}

/** The source of a connection whose peer address could not be read at all. */
export const UNKNOWN_SOURCE = '?';

/** `::ffff:10.0.0.1` → `10.0.0.1`. */
export function normaliseIp(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

/**
 * Caps concurrent sessions per source and in total (containment: one source cannot hold all
 * the honeypot's memory). Fair when full: a source with fewer sessions than the busiest one
 * still gets in, and the busiest source's oldest session is closed to make room, so a few
 * sources holding the total cannot shut out a new one.
 * @example const l = new SourceLimiter(2, 100); l.acquire('10.0.0.1', close1); l.acquire('10.0.0.1', close2); l.acquire('10.0.0.1', close3) === false
 */
export class SourceLimiter {
  readonly #perSource: number;
  readonly #total: number;
  /** Per source, its open sessions oldest first, each with how to close it. */
  readonly #open = new Map<string, Set<() => void>>();
  #all = 0;

  constructor(perSource = 32, total = 4096) {
    this.#perSource = perSource;
    this.#total = total;
  }

  /** Admit a session from `ip`; `evict` closes it if room is needed later. */
  acquire(ip: string, evict: () => void): boolean {
    const mine = this.#open.get(ip);
    const n = mine?.size ?? 0;
    if (n >= this.#perSource) return false;
    if (this.#all >= this.#total) {
      let busiest: Set<() => void> | undefined;
      for (const s of this.#open.values()) if (!busiest || s.size > busiest.size) busiest = s;
      if (!busiest || busiest.size <= n + 1) return false;
      const oldest = busiest.values().next().value!;
      busiest.delete(oldest);
      this.#all--;
      oldest();
    }
    const set = mine ?? new Set();
    set.add(evict);
    this.#open.set(ip, set);
    this.#all++;
    return true;
  }

  /** Release the session admitted with `evict` (a no-op when it was evicted). */
  release(ip: string, evict: () => void): void {
    const set = this.#open.get(ip);
    if (!set?.delete(evict)) return;
    this.#all--;
    if (set.size === 0) this.#open.delete(ip);
  }

  get open(): number {
    return this.#all;
  }
}

/**
 * Common connection start for the TCP services: apply the cap (a refused connection is
 * recorded, then closed) and record `session.connect`. Returns undefined when refused.
 */
export function openSession(
  socket: Socket,
  protocol: Protocol,
  opts: ServiceOptions,
): Session | undefined {
  // A reset (a connect scan's RST) is never an uncaught error, whichever way the session goes:
  // a refused one waits, unread, for its event to commit before it is destroyed.
  socket.on('error', () => {});
  const session = new Session(socket, protocol, opts);
  const evict = () => socket.destroy();
  if (!opts.limiter.acquire(session.srcIp, evict)) {
    socket.pause();
    session
      .emit('session.connect', { refused: 'concurrent session cap' })
      .catch(() => {})
      .finally(() => socket.destroy());
    return undefined;
  }
  let released = false;
  // However busy a session is, it ends: a slow drip of bytes cannot hold a slot for ever.
  const lifetime = setTimeout(() => socket.destroy(), opts.maxSessionMs ?? 600_000);
  lifetime.unref();
  socket.once('close', () => {
    clearTimeout(lifetime);
    if (!released) {
      released = true;
      opts.limiter.release(session.srcIp, evict);
    }
  });
  return session;
}
