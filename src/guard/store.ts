/**
 * The guard's matches in the store: a recorder that takes matches from the proxy without
 * waiting (they are queued and written in batches on an interval, and whatever is queued is
 * written by `close()`), and the queries the CLI and the console read them back with.
 * Matched data is attacker-controlled: it is escaped and cut before it is stored, and always
 * bound as a parameter. Not the proxy (proxy.ts) and not the alerts (alerting.ts).
 */
import { sql } from 'kysely';
import { MamoriError } from '../shared/errors.js';
import type { Store } from '../storage/index.js';
import type { GuardMatchTable } from './schema.js';

/** One match as the proxy reports it (before escaping). */
export interface MatchInput {
  requestId: string;
  time: string;
  ruleId: number;
  phase: number;
  msg: string;
  matchedVar: string;
  matchedData: string;
  anomalyScore: number;
  action: 'blocked' | 'logged';
  client: string;
  method: string;
  path: string;
}

export type StoredMatch = Omit<GuardMatchTable, 'id'> & { id: number };

/** Longest matched data kept, in characters. */
export const MATCHED_DATA_MAX = 512;

/**
 * Make attacker text safe to store and show: the engine's byte strings are decoded as UTF-8
 * (bad sequences become U+FFFD), control characters and backslashes are written as escapes
 * (PostgreSQL refuses NUL in text), and the result is cut to `max` characters.
 * @example safeText('a\u0000b', 10) === 'a\\x00b'
 */
export function safeText(byteString: string, max: number): string {
  let s = byteString;
  // The engine works on byte strings (one char per byte); turn UTF-8 back into text.
  if (/[\x80-\xff]/.test(s) && !/[^\x00-\xff]/.test(s)) {
    s = Buffer.from(s, 'latin1').toString('utf8');
  }
  let out = '';
  for (const ch of s) {
    if (out.length >= max) return `${out}…`;
    const c = ch.codePointAt(0) as number;
    if (c < 0x20 || c === 0x7f || (c >= 0x80 && c < 0xa0)) {
      out += `\\x${c.toString(16).padStart(2, '0')}`;
    } else if (ch === '\\') out += '\\\\';
    else if (c >= 0xd800 && c <= 0xdfff) out += '\ufffd';
    else out += ch;
  }
  return out;
}

function toRow(m: MatchInput): Omit<GuardMatchTable, 'id'> {
  const q = m.path.indexOf('?');
  return {
    request_id: m.requestId.slice(0, 64),
    time: m.time,
    rule_id: m.ruleId,
    phase: m.phase,
    msg: safeText(m.msg, 512),
    matched_var: safeText(m.matchedVar, 256),
    matched_data: safeText(m.matchedData, MATCHED_DATA_MAX),
    data_length: m.matchedData.length,
    anomaly_score: Number.isFinite(m.anomalyScore) ? Math.trunc(m.anomalyScore) : 0,
    action: m.action,
    client: safeText(m.client, 64),
    method: safeText(m.method, 32),
    path: safeText(q === -1 ? m.path : m.path.slice(0, q), 1024),
  };
}

export interface MatchRecorderOptions {
  store: Store;
  /** How often queued matches are written (ms); default 200. */
  flushIntervalMs?: number;
  /** Rows per INSERT; default 200 (under both backends' parameter limits). */
  batchSize?: number;
  /** Largest queue; a match beyond it is refused (record() returns false) and counted. */
  maxQueue?: number;
  /** A failed write (the rows stay queued and are retried on the next tick). */
  onError?: (err: unknown) => void;
}

export interface RecorderStats {
  queued: number;
  written: number;
  refused: number;
  failedWrites: number;
}

/**
 * Batched writer for `guard_match`. `record()` never waits on the database, so the proxy's
 * request path does not either; `close()` writes everything accepted so far.
 * @example const r = new MatchRecorder({ store }); r.record(m); await r.close();
 */
export class MatchRecorder {
  readonly stats: RecorderStats = { queued: 0, written: 0, refused: 0, failedWrites: 0 };
  #queue: Array<Omit<GuardMatchTable, 'id'>> = [];
  #timer: NodeJS.Timeout;
  #writing: Promise<void> | undefined;
  #closed = false;
  readonly #opts: Required<Omit<MatchRecorderOptions, 'onError'>> &
    Pick<MatchRecorderOptions, 'onError'>;

  constructor(opts: MatchRecorderOptions) {
    this.#opts = {
      flushIntervalMs: 200,
      batchSize: 200,
      maxQueue: 100_000,
      ...opts,
    };
    this.#timer = setInterval(() => {
      void this.flush().catch(() => undefined);
    }, this.#opts.flushIntervalMs);
    this.#timer.unref();
  }

  /** Queue one match; false when the recorder is closed or its queue is full. */
  record(m: MatchInput): boolean {
    if (this.#closed || this.#queue.length >= this.#opts.maxQueue) {
      this.stats.refused++;
      return false;
    }
    this.#queue.push(toRow(m));
    this.stats.queued++;
    return true;
  }

  /** Write what is queued now (one writer at a time). */
  async flush(): Promise<void> {
    while (this.#writing) await this.#writing.catch(() => undefined);
    if (this.#queue.length === 0) return;
    this.#writing = this.#writeAll().finally(() => {
      this.#writing = undefined;
    });
    await this.#writing;
  }

  async #writeAll(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.slice(0, this.#opts.batchSize);
      try {
        await this.#opts.store.db.insertInto('guard_match').values(batch).execute();
      } catch (err) {
        this.stats.failedWrites++;
        this.#opts.onError?.(err);
        throw new MamoriError('E_STORAGE', 'could not store guard matches', { cause: err });
      }
      // Only what was written leaves the queue: a failed batch is retried on the next tick.
      this.#queue.splice(0, batch.length);
      this.stats.written += batch.length;
    }
  }

  /** Stop the timer and write everything accepted; throws E_STORAGE if that fails. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.flush();
  }
}

export interface MatchQuery {
  /** ISO-8601 lower bound on time (inclusive). */
  since?: string | undefined;
  until?: string | undefined;
  ruleId?: number | undefined;
  client?: string | undefined;
  action?: 'blocked' | 'logged' | undefined;
  limit?: number | undefined;
}

function filtered(store: Store, q: MatchQuery) {
  let b = store.db.selectFrom('guard_match');
  if (q.since !== undefined) b = b.where('time', '>=', q.since);
  if (q.until !== undefined) b = b.where('time', '<', q.until);
  if (q.ruleId !== undefined) b = b.where('rule_id', '=', q.ruleId);
  if (q.client !== undefined) b = b.where('client', '=', q.client);
  if (q.action !== undefined) b = b.where('action', '=', q.action);
  return b;
}

/**
 * Matches, newest first.
 * @example await listMatches(store, { since: '2026-12-01T00:00:00Z', ruleId: 942100, limit: 50 })
 */
export async function listMatches(store: Store, q: MatchQuery = {}): Promise<StoredMatch[]> {
  const rows = await filtered(store, q)
    .selectAll()
    .orderBy('time', 'desc')
    .orderBy('id', 'desc')
    .limit(Math.min(Math.max(q.limit ?? 100, 1), 10_000))
    .execute();
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

/** One match by id, with the other matches of the same request. */
export async function matchDetail(
  store: Store,
  id: number,
): Promise<{ match: StoredMatch; request: StoredMatch[] } | undefined> {
  const row = await store.db
    .selectFrom('guard_match')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) return undefined;
  const request = await store.db
    .selectFrom('guard_match')
    .selectAll()
    .where('request_id', '=', row.request_id)
    .orderBy('id')
    .execute();
  return {
    match: { ...row, id: Number(row.id) },
    request: request.map((r) => ({ ...r, id: Number(r.id) })),
  };
}

export interface MatchSummary {
  since: string | null;
  matches: number;
  requests: number;
  /** Distinct requests that were blocked / only logged. */
  blockedRequests: number;
  loggedRequests: number;
  /** Matches per UTC hour (`2026-12-04T02`), oldest first. */
  perHour: Array<{ hour: string; blocked: number; logged: number }>;
  topRules: Array<{ ruleId: number; msg: string; matches: number }>;
  topClients: Array<{ client: string; matches: number; blocked: number }>;
}

/**
 * What the console's Guard page and `/api/v1/guard/summary` show.
 * @example const s = await matchSummary(store, { since: '2026-12-03T00:00:00Z' }, 10)
 */
export async function matchSummary(
  store: Store,
  q: MatchQuery = {},
  top = 10,
): Promise<MatchSummary> {
  const n = (v: unknown) => Number(v ?? 0);
  const hour = sql<string>`substr(time, 1, 13)`;
  const [totals, reqs, hours, rules, clients] = await Promise.all([
    filtered(store, q)
      .select((eb) => eb.fn.countAll().as('c'))
      .executeTakeFirst(),
    filtered(store, q)
      .select(['action', (eb) => eb.fn.count('request_id').distinct().as('c')])
      .groupBy('action')
      .execute(),
    filtered(store, q)
      .select([hour.as('hour'), 'action', (eb) => eb.fn.countAll().as('c')])
      .groupBy([hour, 'action'])
      .orderBy(hour)
      .execute(),
    filtered(store, q)
      .select(['rule_id', (eb) => eb.fn.max('msg').as('msg'), (eb) => eb.fn.countAll().as('c')])
      .groupBy('rule_id')
      .orderBy('c', 'desc')
      .orderBy('rule_id')
      .limit(top)
      .execute(),
    filtered(store, q)
      .select([
        'client',
        (eb) => eb.fn.countAll().as('c'),
        (eb) => eb.fn.sum(eb.case().when('action', '=', 'blocked').then(1).else(0).end()).as('b'),
      ])
      .groupBy('client')
      .orderBy('c', 'desc')
      .orderBy('client')
      .limit(top)
      .execute(),
  ]);
  const perHour = new Map<string, { hour: string; blocked: number; logged: number }>();
  for (const h of hours) {
    const e = perHour.get(h.hour) ?? { hour: h.hour, blocked: 0, logged: 0 };
    if (h.action === 'blocked') e.blocked += n(h.c);
    else e.logged += n(h.c);
    perHour.set(h.hour, e);
  }
  const blockedRequests = n(reqs.find((r) => r.action === 'blocked')?.c);
  const loggedRequests = n(reqs.find((r) => r.action === 'logged')?.c);
  return {
    since: q.since ?? null,
    matches: n(totals?.c),
    requests: blockedRequests + loggedRequests,
    blockedRequests,
    loggedRequests,
    perHour: [...perHour.values()],
    topRules: rules.map((r) => ({
      ruleId: n(r.rule_id),
      msg: String(r.msg ?? ''),
      matches: n(r.c),
    })),
    topClients: clients.map((c) => ({ client: c.client, matches: n(c.c), blocked: n(c.b) })),
  };
}
