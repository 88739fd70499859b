/** A stored event row (this machine's `honeypot_event` or a sensor's) as the report reads it. */
import type { EventId } from './core/events.js';
import type { ReportEvent } from './core/report.js';

export interface StoredEventRow {
  eventid: string;
  time: string;
  src_ip: string;
  protocol: string;
  username: string | null;
  password: string | null;
  summary: string;
}

/** @example builder.add(reportEvent(row)) */
export function reportEvent(r: StoredEventRow): ReportEvent {
  return {
    eventid: r.eventid as EventId,
    time: r.time,
    srcIp: r.src_ip,
    protocol: r.protocol,
    username: r.username,
    password: r.password,
    summary: JSON.parse(r.summary) as Record<string, unknown>,
  };
}
