/**
 * The centre's side of honeypot sensors: registering a sensor (its token is shown once; the store
 * keeps only its SHA-256, as the access area does for bearer tokens), revoking it, checking a
 * token, and storing a delivered batch exactly once. Not the sensor itself: see sensor.ts.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { MamoriError } from '../shared/errors.js';
import type { Store } from '../storage/index.js';
import { SENSOR_NAME, type SensorBatch } from './core/ingest.js';

const TOKEN_PREFIX = 'mhs_';
const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');
const iso = (ms: number) => new Date(ms).toISOString();

export interface SensorRow {
  name: string;
  createdAt: string;
  revokedAt: string | null;
  lastSeen: string | null;
  /** Events waiting in the sensor's queue, as it last reported. */
  queueDepth: number | null;
  events: number;
  batches: number;
}

/**
 * Register a sensor; the token is returned once and never stored in clear.
 * @example const { token } = await addSensor(store, 'tokyo-1');
 */
export async function addSensor(
  store: Store,
  name: string,
  now = Date.now(),
): Promise<{ name: string; token: string }> {
  if (!SENSOR_NAME.test(name))
    throw new MamoriError('E_USAGE', `not a sensor name: '${name}'`, {
      hint: 'lower-case letters, digits, . _ - (at most 63), starting with a letter or digit',
    });
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const exists = await store.db
    .selectFrom('honeypot_sensor')
    .select('name')
    .where('name', '=', name)
    .executeTakeFirst();
  if (exists)
    throw new MamoriError('E_USAGE', `sensor '${name}' exists`, {
      hint: 'revoke it and add a sensor with a new name',
    });
  await store.db
    .insertInto('honeypot_sensor')
    .values({ name, token_hash: sha256Hex(token), created_at: iso(now) })
    .execute();
  return { name, token };
}

/** @example for (const s of await listSensors(store)) console.log(s.name, s.lastSeen); */
export async function listSensors(store: Store): Promise<SensorRow[]> {
  const rows = await store.db.selectFrom('honeypot_sensor').selectAll().orderBy('name').execute();
  return rows.map((r) => ({
    name: r.name,
    createdAt: r.created_at,
    revokedAt: r.revoked_at,
    lastSeen: r.last_seen,
    queueDepth: r.queue_depth === null ? null : Number(r.queue_depth),
    events: Number(r.events),
    batches: Number(r.batches),
  }));
}

/** @example await revokeSensor(store, 'tokyo-1'); // its token now gets 403 */
export async function revokeSensor(store: Store, name: string, now = Date.now()): Promise<void> {
  const res = await store.db
    .updateTable('honeypot_sensor')
    .set({ revoked_at: iso(now) })
    .where('name', '=', name)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) === 0) {
    const row = await store.db
      .selectFrom('honeypot_sensor')
      .select('name')
      .where('name', '=', name)
      .executeTakeFirst();
    if (!row) throw new MamoriError('E_NOT_FOUND', `no sensor named '${name}'`);
  }
}

/** How a presented token stands: unknown (401), revoked or for another sensor (403), or fine. */
export type SensorAuth =
  | { ok: true; name: string }
  | { ok: false; status: 401 | 403; code: 'E_AUTH'; reason: string };

/**
 * Check a token before its body is read; `claimed` (the batch's sensor) must then match it.
 * @example const auth = await authenticateSensor(store, bearer, 'tokyo-1');
 */
export async function authenticateSensor(
  store: Store,
  token: string | undefined,
  claimed?: string,
): Promise<SensorAuth> {
  if (!token?.startsWith(TOKEN_PREFIX))
    return { ok: false, status: 401, code: 'E_AUTH', reason: 'no sensor token' };
  const hash = sha256Hex(token);
  const row = await store.db
    .selectFrom('honeypot_sensor')
    .select(['name', 'revoked_at', 'token_hash'])
    .where('token_hash', '=', hash)
    .executeTakeFirst();
  // The lookup is by hash; the compare is constant-time all the same.
  if (!row || !timingSafeEqual(Buffer.from(row.token_hash), Buffer.from(hash)))
    return { ok: false, status: 401, code: 'E_AUTH', reason: 'unknown sensor token' };
  if (row.revoked_at !== null)
    return { ok: false, status: 403, code: 'E_AUTH', reason: `sensor '${row.name}' is revoked` };
  if (claimed !== undefined && row.name !== claimed)
    return {
      ok: false,
      status: 403,
      code: 'E_AUTH',
      reason: `this token belongs to sensor '${row.name}', not '${claimed}'`,
    };
  return { ok: true, name: row.name };
}

export interface IngestResult {
  /** Events stored now. */
  accepted: number;
  /** Events already stored by an earlier delivery (a replay): not stored again. */
  duplicates: number;
  /** Highest sequence number in the batch (0 when empty): the sensor may forget up to here. */
  highest: number;
}

const ROWS_PER_INSERT = 250;

/**
 * Store one batch in one transaction, keyed on (sensor, seq): a replayed or overlapping batch
 * adds nothing, and the sensor's status (last seen, reported depth, counts) moves with it.
 * @example const r = await ingestBatch(store, batch); r.accepted + r.duplicates === batch.events.length
 */
export async function ingestBatch(
  store: Store,
  batch: SensorBatch,
  now = Date.now(),
): Promise<IngestResult> {
  const receivedAt = iso(now);
  return store.db.transaction().execute(async (trx) => {
    const sensor = await trx
      .selectFrom('honeypot_sensor')
      .select(['queue_id', 'revoked_at'])
      .where('name', '=', batch.sensor)
      .executeTakeFirst();
    if (!sensor || sensor.revoked_at !== null)
      throw new MamoriError('E_AUTH', `sensor '${batch.sensor}' is not accepted`);
    if (sensor.queue_id !== null && sensor.queue_id !== batch.queue)
      throw new MamoriError(
        'E_INPUT',
        `sensor '${batch.sensor}' delivered from another queue file before; its sequence numbers would collide`,
        { hint: 'a sensor whose queue file was replaced needs a new name: mamori sensor add' },
      );
    let accepted = 0;
    for (let i = 0; i < batch.events.length; i += ROWS_PER_INSERT) {
      const rows = batch.events.slice(i, i + ROWS_PER_INSERT).map((e) => ({
        sensor: batch.sensor,
        seq: e.seq,
        batch: batch.batch,
        received_at: receivedAt,
        time: e.time,
        eventid: e.eventid,
        session: e.session,
        protocol: e.protocol,
        src_ip: e.srcIp,
        src_port: e.srcPort,
        dst_port: e.dstPort,
        username: e.username ?? null,
        password: e.password ?? null,
        summary: JSON.stringify(e.summary),
      }));
      const res = await trx
        .insertInto('honeypot_sensor_event')
        .values(rows)
        .onConflict((oc) => oc.columns(['sensor', 'seq']).doNothing())
        .executeTakeFirst();
      accepted += Number(res.numInsertedOrUpdatedRows ?? 0);
    }
    await trx
      .updateTable('honeypot_sensor')
      .set((eb) => ({
        last_seen: receivedAt,
        queue_depth: batch.depth,
        queue_id: batch.queue,
        last_batch: batch.batch,
        events: eb('events', '+', accepted),
        batches: eb('batches', '+', 1),
      }))
      .where('name', '=', batch.sensor)
      .execute();
    const highest = batch.events.reduce((m, e) => Math.max(m, e.seq), 0);
    return { accepted, duplicates: batch.events.length - accepted, highest };
  });
}

/**
 * Honeypot runs on this machine that have no stop recorded: running now, or ended without a
 * clean stop (killed). The console says which it cannot tell.
 * @example (await openRuns(store)).map((r) => r.startedAt)
 */
export async function openRuns(
  store: Store,
): Promise<{ id: string; startedAt: string; profile: string; bind: string }[]> {
  const rows = await store.db
    .selectFrom('honeypot_run')
    .select(['id', 'started_at', 'profile', 'bind'])
    .where('stopped_at', 'is', null)
    .orderBy('started_at', 'desc')
    .limit(20)
    .execute();
  return rows.map((r) => ({ id: r.id, startedAt: r.started_at, profile: r.profile, bind: r.bind }));
}
