/**
 * Source classification: each source address is placed on the ladder
 * scanner → grabber → credential guesser → viewer → operator → exploiter by the furthest rung
 * its events reached. Pure: events in, classes out.
 */
import type { EventId } from './events.js';

export const SOURCE_CLASSES = [
  'scanner',
  'grabber',
  'guesser',
  'viewer',
  'operator',
  'exploiter',
] as const;
export type SourceClass = (typeof SOURCE_CLASSES)[number];

/** The rung one event proves a source reached (0 = scanner … 5 = exploiter). */
export function rungOf(ev: { eventid: EventId; summary?: Record<string, unknown> }): number {
  switch (ev.eventid) {
    case 'session.connect':
    case 'session.closed':
      return 0;
    case 'login.failed':
    case 'login.success':
      return 2;
    case 'stream.view':
      return 3;
    case 'ptz.command':
      return 4;
    case 'download.attempt':
      return 5;
    case 'telnet.command':
      return ev.summary?.malware === true ? 5 : 1;
    default:
      // http.request, rtsp.request, input.invalid: it sent something and read the answer
      return 1;
  }
}

/**
 * Incremental classifier: feed events of any sources, read each source's class.
 * @example
 * const c = new SourceClassifier(); c.add({ srcIp: '10.0.0.1', eventid: 'stream.view' });
 * c.classOf('10.0.0.1') === 'viewer'
 */
export class SourceClassifier {
  readonly #rung = new Map<string, number>();

  add(ev: { srcIp: string; eventid: EventId; summary?: Record<string, unknown> }): void {
    const r = rungOf(ev);
    const prev = this.#rung.get(ev.srcIp);
    if (prev === undefined || r > prev) this.#rung.set(ev.srcIp, r);
  }

  classOf(srcIp: string): SourceClass | undefined {
    const r = this.#rung.get(srcIp);
    return r === undefined ? undefined : SOURCE_CLASSES[r];
  }

  /** Sources per class (each source counted once, in its furthest class) and the total. */
  counts(): Record<SourceClass | 'total', number> {
    const out = {
      total: this.#rung.size,
      scanner: 0,
      grabber: 0,
      guesser: 0,
      viewer: 0,
      operator: 0,
      exploiter: 0,
    };
    for (const r of this.#rung.values()) out[SOURCE_CLASSES[r]!]++;
    return out;
  }

  entries(): [string, SourceClass][] {
    return [...this.#rung.entries()].map(([ip, r]) => [ip, SOURCE_CLASSES[r]!]);
  }
}
