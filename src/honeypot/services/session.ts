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

  constructor(socket: Socket, protocol: Protocol, opts: ServiceOptions) {
    this.id = `${opts.runTag}-${++counter}`;
    this.srcIp = normaliseIp(socket.remoteAddress ?? '?');
    this.srcPort = socket.remotePort ?? 0;
    this.dstPort = socket.localPort ?? 0;
    this.protocol = protocol;
    this.#opts = opts;
    this.started = opts.clock.now();
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

/** `::ffff:10.0.0.1` → `10.0.0.1`. */
export function normaliseIp(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

/**
 * Caps concurrent sessions per source and in total (containment: one source cannot hold all
 * the honeypot's memory).
 * @example const l = new SourceLimiter(2, 100); l.acquire('10.0.0.1'); l.acquire('10.0.0.1'); l.acquire('10.0.0.1') === false
 */
export class SourceLimiter {
  readonly #perSource: number;
  readonly #total: number;
  readonly #open = new Map<string, number>();
  #all = 0;

  constructor(perSource = 32, total = 4096) {
    this.#perSource = perSource;
    this.#total = total;
  }

  acquire(ip: string): boolean {
    const n = this.#open.get(ip) ?? 0;
    if (n >= this.#perSource || this.#all >= this.#total) return false;
    this.#open.set(ip, n + 1);
    this.#all++;
    return true;
  }

  release(ip: string): void {
    const n = this.#open.get(ip) ?? 0;
    if (n <= 1) this.#open.delete(ip);
    else this.#open.set(ip, n - 1);
    if (this.#all > 0) this.#all--;
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
  const session = new Session(socket, protocol, opts);
  if (!opts.limiter.acquire(session.srcIp)) {
    socket.pause();
    session
      .emit('session.connect', { refused: 'concurrent session cap' })
      .catch(() => {})
      .finally(() => socket.destroy());
    return undefined;
  }
  let released = false;
  socket.once('close', () => {
    if (!released) {
      released = true;
      opts.limiter.release(session.srcIp);
    }
  });
  return session;
}
