/**
 * Row types of the honeypot area's tables (all prefixed `honeypot_`), for Kysely. Types only.
 * The tables themselves are created by `src/storage/migrations/honeypot.ts`.
 */
import type { Generated } from 'kysely';

/** One recorded event (Cowrie-style `eventid`). */
export interface HoneypotEventTable {
  id: Generated<number>;
  /** ISO-8601 UTC. */
  time: string;
  eventid: string;
  session: string;
  protocol: string;
  src_ip: string;
  src_port: number;
  dst_port: number;
  username: string | null;
  password: string | null;
  /** JSON, bounded to 2 KiB. */
  summary: string;
}

/** One run of `mamori honeypot start` (the reference for "time to first contact"). */
export interface HoneypotRunTable {
  id: string;
  started_at: string;
  stopped_at: string | null;
  profile: string;
  auth: string;
  bind: string;
  /** JSON: { http, rtsp, telnet, onvif }. */
  ports: string;
}

export interface HoneypotTables {
  honeypot_event: HoneypotEventTable;
  honeypot_run: HoneypotRunTable;
}
