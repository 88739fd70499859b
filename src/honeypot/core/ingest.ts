/**
 * The sensor → centre batch: its shape, and the check the centre applies before it stores
 * anything. A batch is all or nothing: one bad event refuses the whole batch, so the sensor keeps
 * it and a person looks. Pure: no IO. Not the transport (../sensor.ts) nor the store (../sensors.ts).
 */
import { EVENT_IDS, type EventId, type HoneypotEvent, MAX_FIELD, MAX_SUMMARY } from './events.js';

/** Most events in one batch (the sensor sends at most this many). */
export const MAX_BATCH_EVENTS = 500;

/** A sensor's name: what `sensor add` accepts and a batch must carry. */
export const SENSOR_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** One queued event as it travels: the sensor's sequence number and the event. */
export interface SensorEvent extends HoneypotEvent {
  /** Position in the sensor's queue: unique per sensor, increasing, never reused. */
  seq: number;
}

export interface SensorBatch {
  sensor: string;
  /** Random id of this delivery attempt (a replay repeats it; the centre only logs it). */
  batch: string;
  /** Random id of the sensor's queue file, fixed for its life. */
  queue: string;
  /** Events still waiting in the sensor's queue after this batch. */
  depth: number;
  events: SensorEvent[];
}

const PROTOCOLS = new Set(['http', 'rtsp', 'telnet', 'onvif']);
const EVENTS = new Set<string>(EVENT_IDS);
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;
const ID = /^[A-Za-z0-9_-]{8,64}$/;

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function text(v: unknown, max: number): v is string {
  return typeof v === 'string' && v.length <= max;
}

function portOk(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535;
}

/** Why one event is refused, or null when it is well formed. */
function eventProblem(e: unknown): string | null {
  if (!isObj(e)) return 'not an object';
  if (!Number.isSafeInteger(e.seq) || (e.seq as number) < 1) return 'seq is not a positive integer';
  if (typeof e.eventid !== 'string' || !EVENTS.has(e.eventid)) return 'unknown eventid';
  if (typeof e.time !== 'string' || !ISO.test(e.time) || Number.isNaN(Date.parse(e.time)))
    return 'time is not ISO-8601 UTC';
  if (!text(e.session, 128) || e.session.length === 0) return 'bad session';
  if (typeof e.protocol !== 'string' || !PROTOCOLS.has(e.protocol)) return 'unknown protocol';
  if (!text(e.srcIp, 64) || e.srcIp.length === 0) return 'bad srcIp';
  if (!portOk(e.srcPort) || !portOk(e.dstPort)) return 'bad port';
  // The sensor bounded attacker text already (boundText adds a short marker past MAX_FIELD).
  const limit = MAX_FIELD + 16;
  if (e.username !== undefined && e.username !== null && !text(e.username, limit))
    return 'bad username';
  if (e.password !== undefined && e.password !== null && !text(e.password, limit))
    return 'bad password';
  if (!isObj(e.summary)) return 'summary is not an object';
  for (const v of Object.values(e.summary)) {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')
      return 'summary values must be strings, numbers or booleans';
  }
  if (JSON.stringify(e.summary).length > MAX_SUMMARY * 2) return 'summary too large';
  return null;
}

/**
 * Check a decoded JSON body; the batch back, typed, or the reason it is refused.
 * @example parseBatch({ sensor: 'tokyo-1', batch: 'b1b1b1b1', queue: 'q1q1q1q1', depth: 0, events: [] })
 */
export function parseBatch(
  body: unknown,
): { ok: true; batch: SensorBatch } | { ok: false; reason: string } {
  if (!isObj(body)) return { ok: false, reason: 'the body is not a JSON object' };
  if (typeof body.sensor !== 'string' || !SENSOR_NAME.test(body.sensor))
    return { ok: false, reason: 'sensor: not a sensor name' };
  if (typeof body.batch !== 'string' || !ID.test(body.batch))
    return { ok: false, reason: 'batch: not a batch id (8–64 of A-Z a-z 0-9 _ -)' };
  if (typeof body.queue !== 'string' || !ID.test(body.queue))
    return { ok: false, reason: 'queue: not a queue id' };
  if (!Number.isSafeInteger(body.depth) || (body.depth as number) < 0)
    return { ok: false, reason: 'depth: not a count' };
  if (!Array.isArray(body.events)) return { ok: false, reason: 'events: not a list' };
  if (body.events.length > MAX_BATCH_EVENTS)
    return { ok: false, reason: `events: more than ${MAX_BATCH_EVENTS} in one batch` };
  const seen = new Set<number>();
  for (let i = 0; i < body.events.length; i++) {
    const why = eventProblem(body.events[i]);
    if (why) return { ok: false, reason: `events[${i}]: ${why}` };
    const seq = (body.events[i] as { seq: number }).seq;
    if (seen.has(seq)) return { ok: false, reason: `events[${i}]: seq ${seq} twice in one batch` };
    seen.add(seq);
  }
  const events = (body.events as Record<string, unknown>[]).map(
    (e): SensorEvent => ({
      seq: e.seq as number,
      eventid: e.eventid as EventId,
      time: e.time as string,
      session: e.session as string,
      protocol: e.protocol as HoneypotEvent['protocol'],
      srcIp: e.srcIp as string,
      srcPort: e.srcPort as number,
      dstPort: e.dstPort as number,
      username: (e.username as string | null | undefined) ?? undefined,
      password: (e.password as string | null | undefined) ?? undefined,
      summary: e.summary as HoneypotEvent['summary'],
    }),
  );
  return {
    ok: true,
    batch: {
      sensor: body.sensor,
      batch: body.batch,
      queue: body.queue,
      depth: body.depth as number,
      events,
    },
  };
}
