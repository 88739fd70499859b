/**
 * Row types of the honeypot sensors' tables (prefixed `honeypot_sensor`), for Kysely. Types only;
 * the tables are created by `src/storage/migrations/honeypot.ts`. The centre keeps sensors and
 * the events they delivered; a sensor keeps its delivery cursor in its own queue file.
 */
import type { Generated } from 'kysely';

/** One sensor the admin registered at the centre. Only the token's SHA-256 is kept. */
export interface HoneypotSensorTable {
  name: string;
  token_hash: string;
  created_at: string;
  revoked_at: string | null;
  /** Last accepted batch (ISO-8601 UTC). */
  last_seen: string | null;
  /** Events waiting in the sensor's queue, as the sensor last reported it. */
  queue_depth: number | null;
  /** Events accepted from this sensor (duplicates not counted). */
  events: Generated<number>;
  batches: Generated<number>;
  /** The id of the sensor's queue file, bound at its first batch. */
  queue_id: string | null;
  last_batch: string | null;
}

/** One event delivered by a sensor; (sensor, seq) is its identity, so a replay adds nothing. */
export interface HoneypotSensorEventTable {
  sensor: string;
  seq: number;
  batch: string;
  received_at: string;
  time: string;
  eventid: string;
  session: string;
  protocol: string;
  src_ip: string;
  src_port: number;
  dst_port: number;
  username: string | null;
  password: string | null;
  summary: string;
}

/** The sensor side: one row, how far its queue has been delivered. */
export interface HoneypotSensorOutboxTable {
  id: number;
  queue_id: string;
  delivered_seq: number;
  updated_at: string;
}

export interface HoneypotSensorTables {
  honeypot_sensor: HoneypotSensorTable;
  honeypot_sensor_event: HoneypotSensorEventTable;
  honeypot_sensor_outbox: HoneypotSensorOutboxTable;
}
