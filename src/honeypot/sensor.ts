/**
 * A honeypot sensor: its local queue and its delivery to a central `mamori serve`.
 *
 * The queue is the sensor's own SQLite file, written by the ordinary Recorder, so an event is on
 * disk before the attacker gets an answer ("acknowledged locally"). Its row id is the event's
 * sequence number (AUTOINCREMENT: never reused, even after pruning). A reporter sends what lies
 * past the delivery cursor in batches; the cursor moves only after the centre says the batch is
 * stored, and the centre keys events on (sensor, seq), so a batch resent after a lost answer adds
 * nothing: each acknowledged event arrives exactly once. The centre is reached over HTTPS with its
 * certificate verified (system CAs, or --ca); plain HTTP only to loopback or when told it is fine.
 * Not the centre: see sensors.ts.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { sleep } from '../shared/clock.js';
import { MamoriError } from '../shared/errors.js';
import { openDb, type Store } from '../storage/index.js';
import type { EventId, HoneypotEvent } from './core/events.js';
import { MAX_BATCH_EVENTS, SENSOR_NAME, type SensorEvent } from './core/ingest.js';
import { Recorder } from './recorder.js';

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\]|::1|localhost)$/i;

/** The path the centre serves batches on. */
export const INGEST_PATH = '/api/v1/honeypot/ingest';

/**
 * The sensor's on-disk queue.
 * @example const q = await SensorQueue.open('/var/lib/mamori/sensor-queue.db'); await q.recorder.record(ev);
 */
export class SensorQueue {
  readonly store: Store;
  readonly recorder: Recorder;
  readonly queueId: string;

  private constructor(store: Store, recorder: Recorder, queueId: string) {
    this.store = store;
    this.recorder = recorder;
    this.queueId = queueId;
  }

  /** `logPath`: the JSON-lines log every recorded event is also appended to (none when absent). */
  static async open(path: string, logPath?: string): Promise<SensorQueue> {
    const store = await openDb(path);
    if (store.backend !== 'sqlite') {
      await store.close();
      throw new MamoriError('E_USAGE', '--queue must be a file: a sensor queues in its own SQLite');
    }
    let row = await store.db
      .selectFrom('honeypot_sensor_outbox')
      .select('queue_id')
      .where('id', '=', 1)
      .executeTakeFirst();
    if (!row) {
      row = { queue_id: randomBytes(12).toString('base64url') };
      await store.db
        .insertInto('honeypot_sensor_outbox')
        .values({
          id: 1,
          queue_id: row.queue_id,
          delivered_seq: 0,
          updated_at: new Date().toISOString(),
        })
        .execute();
    }
    const recorder = await Recorder.open({ store, logPath });
    return new SensorQueue(store, recorder, row.queue_id);
  }

  async delivered(): Promise<number> {
    const row = await this.store.db
      .selectFrom('honeypot_sensor_outbox')
      .select('delivered_seq')
      .where('id', '=', 1)
      .executeTakeFirstOrThrow();
    return Number(row.delivered_seq);
  }

  /**
   * Events recorded and not yet delivered. AUTOINCREMENT ids have no gaps above the cursor (a
   * rolled-back batch rolls its sequence back too; pruning is only below it), so this is the
   * newest id less the cursor: no count over a long queue for every batch.
   */
  async depth(): Promise<number> {
    const after = await this.delivered();
    const row = await this.store.db
      .selectFrom('honeypot_event')
      .select((eb) => eb.fn.max('id').as('top'))
      .executeTakeFirst();
    return Math.max(0, Number(row?.top ?? 0) - after);
  }

  /** The next undelivered events, oldest first. */
  async take(limit: number): Promise<SensorEvent[]> {
    const after = await this.delivered();
    const rows = await this.store.db
      .selectFrom('honeypot_event')
      .selectAll()
      .where('id', '>', after)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      seq: Number(r.id),
      eventid: r.eventid as EventId,
      time: r.time,
      session: r.session,
      protocol: r.protocol as HoneypotEvent['protocol'],
      srcIp: r.src_ip,
      srcPort: r.src_port,
      dstPort: r.dst_port,
      username: r.username ?? undefined,
      password: r.password ?? undefined,
      summary: JSON.parse(r.summary) as HoneypotEvent['summary'],
    }));
  }

  /**
   * The centre stored everything up to `seq`. Delivered rows are pruned, all but the newest: the
   * newest keeps AUTOINCREMENT's high-water mark visible to anyone reading the file.
   */
  async markDelivered(seq: number): Promise<void> {
    await this.store.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('honeypot_sensor_outbox')
        .set({ delivered_seq: seq, updated_at: new Date().toISOString() })
        .where('id', '=', 1)
        .where('delivered_seq', '<', seq)
        .execute();
      await trx.deleteFrom('honeypot_event').where('id', '<', seq).execute();
    });
  }

  async close(): Promise<void> {
    await this.recorder.close();
    await this.store.close();
  }
}

export type ReporterState = 'starting' | 'delivering' | 'unreachable' | 'refused' | 'rejected';

export interface ReporterStatus {
  state: ReporterState;
  /** Why the last delivery failed (the centre's message, or the network error). */
  reason: string | null;
  delivered: number;
  duplicates: number;
  batches: number;
  lastDeliveryAt: string | null;
}

export interface ReporterOptions {
  queue: SensorQueue;
  /** The centre, e.g. https://mamori.example:8443 */
  url: string;
  sensor: string;
  token: string;
  /** PEM of the CA (or self-signed certificate) the centre's certificate must chain to. */
  ca?: string | undefined;
  /** Allow plain http:// to a non-loopback centre. */
  insecure?: boolean;
  batchSize?: number;
  /** Idle poll of the queue in ms (default 100). */
  pollMs?: number;
  /** Longest wait between retries after a network error (default 5 s). */
  maxBackoffMs?: number;
  /** Wait after a refusal (401/403/400) before trying again (default 30 s). */
  refusedRetryMs?: number;
  /** Called whenever the state or its reason changes. */
  onStatus?: (s: ReporterStatus) => void;
}

/**
 * Check where a sensor may send: https, or http only to loopback unless `insecure`.
 * @example centreUrl('https://mamori.example:8443', false).pathname === '/api/v1/honeypot/ingest'
 */
export function centreUrl(url: string, insecure: boolean): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new MamoriError('E_USAGE', `--report-to: not a URL: '${url}'`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:')
    throw new MamoriError('E_USAGE', '--report-to must be an https:// URL');
  if (u.protocol === 'http:' && !LOOPBACK.test(u.hostname) && !insecure)
    throw new MamoriError(
      'E_USAGE',
      `--report-to ${u.origin}: plain HTTP would send the sensor's token and events in clear`,
      {
        hint: 'use https:// (with --ca for a self-signed centre), or --insecure-http to accept it',
      },
    );
  return new URL(INGEST_PATH, u);
}

interface PostResult {
  status: number;
  body: unknown;
}

/**
 * Delivers the queue to the centre until stopped.
 * @example const r = new SensorReporter({ queue, url, sensor: 'tokyo-1', token }); r.start(); … await r.stop();
 */
export class SensorReporter {
  readonly #opts: ReporterOptions;
  readonly #target: URL;
  readonly #agent: HttpAgent | HttpsAgent;
  readonly #abort = new AbortController();
  #loop: Promise<void> | undefined;
  readonly status: ReporterStatus = {
    state: 'starting',
    reason: null,
    delivered: 0,
    duplicates: 0,
    batches: 0,
    lastDeliveryAt: null,
  };

  constructor(opts: ReporterOptions) {
    if (!SENSOR_NAME.test(opts.sensor))
      throw new MamoriError('E_USAGE', `--sensor: not a sensor name: '${opts.sensor}'`);
    this.#opts = opts;
    this.#target = centreUrl(opts.url, opts.insecure ?? false);
    this.#agent =
      this.#target.protocol === 'https:'
        ? new HttpsAgent({
            keepAlive: true,
            ...(opts.ca ? { ca: opts.ca } : {}),
            rejectUnauthorized: true,
          })
        : new HttpAgent({ keepAlive: true });
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
    this.#agent.destroy();
  }

  /** Deliver until the queue is empty or `signal` ends; for tests and a clean shutdown. */
  async drain(timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if ((await this.#opts.queue.depth()) === 0) return true;
      await sleep(50);
    }
    return false;
  }

  #set(state: ReporterState, reason: string | null): void {
    const changed = state !== this.status.state || reason !== this.status.reason;
    this.status.state = state;
    this.status.reason = reason;
    if (changed) this.#opts.onStatus?.({ ...this.status });
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    const size = Math.min(this.#opts.batchSize ?? 200, MAX_BATCH_EVENTS);
    let backoff = 250;
    while (!signal.aborted) {
      const events = await this.#opts.queue.take(size);
      if (events.length === 0) {
        await sleep(this.#opts.pollMs ?? 100, signal);
        continue;
      }
      const last = events[events.length - 1]!.seq;
      const depth = Math.max(0, (await this.#opts.queue.depth()) - events.length);
      const body = JSON.stringify({
        sensor: this.#opts.sensor,
        batch: randomBytes(12).toString('base64url'),
        queue: this.#opts.queue.queueId,
        depth,
        events,
      });
      let res: PostResult;
      try {
        res = await this.#post(body);
      } catch (err) {
        this.#set('unreachable', (err as Error).message);
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, this.#opts.maxBackoffMs ?? 5000);
        continue;
      }
      backoff = 250;
      if (res.status === 200) {
        const r = res.body as { accepted?: number; duplicates?: number; highest?: number };
        // Only what the centre says it holds is forgotten.
        if (r.highest !== last) {
          this.#set('rejected', `the centre answered for seq ${r.highest}, not ${last}`);
          await sleep(this.#opts.refusedRetryMs ?? 30_000, signal);
          continue;
        }
        await this.#opts.queue.markDelivered(last);
        this.status.delivered += r.accepted ?? 0;
        this.status.duplicates += r.duplicates ?? 0;
        this.status.batches++;
        this.status.lastDeliveryAt = new Date().toISOString();
        this.#set('delivering', null);
        continue;
      }
      const msg =
        (res.body as { error?: { message?: string } } | null)?.error?.message ??
        `HTTP ${res.status}`;
      if (res.status === 401 || res.status === 403) this.#set('refused', `${res.status}: ${msg}`);
      else if (res.status >= 400 && res.status < 500)
        this.#set('rejected', `${res.status}: ${msg}`);
      else {
        this.#set('unreachable', `${res.status}: ${msg}`);
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, this.#opts.maxBackoffMs ?? 5000);
        continue;
      }
      await sleep(this.#opts.refusedRetryMs ?? 30_000, signal);
    }
  }

  #post(body: string): Promise<PostResult> {
    const request = this.#target.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<PostResult>((resolve, reject) => {
      const req = request(
        this.#target,
        {
          method: 'POST',
          agent: this.#agent,
          timeout: 30_000,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            authorization: `Bearer ${this.#opts.token}`,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (d: Buffer) => {
            size += d.length;
            if (size <= 1 << 20) chunks.push(d);
          });
          res.on('end', () => {
            let parsed: unknown = null;
            try {
              parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            } catch {
              // not JSON: the status alone decides
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('the centre did not answer within 30 s')));
      req.on('error', reject);
      req.end(body);
    });
  }
}

/**
 * Read a token file (the output of `mamori sensor add --out`): one line, trimmed.
 * @example const token = readSensorToken('/etc/mamori/sensor.token');
 */
export function readSensorToken(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new MamoriError('E_USAGE', `--token: cannot read ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (!/^mhs_[A-Za-z0-9_-]{20,}$/.test(text))
    throw new MamoriError('E_USAGE', `--token: ${path} does not hold a sensor token`, {
      hint: 'make one with: mamori sensor add <name> --out <file>',
    });
  return text;
}

/** Read a PEM file for --ca. */
export function readCa(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new MamoriError('E_USAGE', `--ca: cannot read ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
