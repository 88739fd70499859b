/**
 * The watcher's rows in the store: its own chain cursor and heartbeat (`custody_watch`), the
 * spends it has judged (`custody_watch_spend`), and the reads it needs from the rest of custody
 * (our coins, our scripts, recorded withdrawal transactions). Not the judgement (`core/watch.ts`)
 * and not the loop (`watch.ts`).
 */
import { isoUtc, systemClock } from '../shared/clock.js';
import type { Store } from '../storage/index.js';
import { bytesToHex } from './core/descriptor.js';
import { decodePsbt } from './core/psbt.js';
import { type Heartbeat, type RecordedSpend, watcherHealth } from './core/watch.js';
import type { CustodyContext } from './service.js';

type Db = Store['db'];

export interface Cursor {
  height: number | null;
  hashes: Record<string, string>;
}

/** How many block hashes below the cursor are kept to notice a reorg. */
export const CURSOR_DEPTH = 100;

export async function loadHeartbeat(db: Db, name: string): Promise<Heartbeat | undefined> {
  const r = await db
    .selectFrom('custody_watch')
    .selectAll()
    .where('name', '=', name)
    .executeTakeFirst();
  if (!r) return undefined;
  return {
    name: r.name,
    startedAt: r.started_at,
    stoppedAt: r.stopped_at,
    lastPollAt: r.last_poll_at,
    lastOkAt: r.last_ok_at,
    tipHeight: r.tip_height === null ? null : Number(r.tip_height),
    cursorHeight: r.cursor_height === null ? null : Number(r.cursor_height),
    blindSince: r.blind_since,
    blindReason: r.blind_reason,
    blindAfterMs: Number(r.blind_after_ms),
    polls: Number(r.polls),
    lastError: r.last_error,
  };
}

export async function loadCursor(db: Db, name: string): Promise<Cursor> {
  const r = await db
    .selectFrom('custody_watch')
    .select(['cursor_height', 'cursor_hashes'])
    .where('name', '=', name)
    .executeTakeFirst();
  return {
    height: r?.cursor_height == null ? null : Number(r.cursor_height),
    hashes: r ? (JSON.parse(r.cursor_hashes) as Record<string, string>) : {},
  };
}

/** Start (or restart) a watcher's row; keeps its cursor. */
export async function startHeartbeat(
  db: Db,
  name: string,
  at: string,
  blindAfterMs: number,
): Promise<void> {
  const fresh = {
    started_at: at,
    stopped_at: null,
    last_poll_at: at,
    last_ok_at: null,
    blind_since: null,
    blind_reason: null,
    blind_after_ms: blindAfterMs,
    polls: 0,
    last_error: null,
  };
  const done = await db
    .updateTable('custody_watch')
    .set(fresh)
    .where('name', '=', name)
    .executeTakeFirst();
  if (Number(done.numUpdatedRows) === 0) {
    await db
      .insertInto('custody_watch')
      .values({
        name,
        cursor_height: null,
        cursor_hashes: '{}',
        tip_height: null,
        tip_changed_at: null,
        ...fresh,
      })
      .onConflict((oc) => oc.column('name').doUpdateSet(fresh))
      .execute();
  }
}

/** Make sure a watcher's row exists (for `pollOnce` used without `watch`); keeps an existing one. */
export async function ensureWatchRow(
  db: Db,
  name: string,
  at: string,
  blindAfterMs: number,
): Promise<void> {
  await db
    .insertInto('custody_watch')
    .values({
      name,
      cursor_height: null,
      cursor_hashes: '{}',
      started_at: at,
      stopped_at: null,
      last_poll_at: at,
      last_ok_at: null,
      tip_height: null,
      tip_changed_at: null,
      blind_since: null,
      blind_reason: null,
      blind_after_ms: blindAfterMs,
      polls: 0,
      last_error: null,
    })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
}

export interface HeartbeatUpdate {
  lastPollAt: string;
  lastOkAt?: string | null;
  tipHeight?: number | null;
  tipChangedAt?: string | null;
  blindSince?: string | null;
  blindReason?: string | null;
  polls?: number;
  lastError?: string | null;
  stoppedAt?: string | null;
}

export async function writeHeartbeat(db: Db, name: string, u: HeartbeatUpdate): Promise<void> {
  const set: Record<string, unknown> = { last_poll_at: u.lastPollAt };
  if (u.lastOkAt !== undefined) set.last_ok_at = u.lastOkAt;
  if (u.tipHeight !== undefined) set.tip_height = u.tipHeight;
  if (u.tipChangedAt !== undefined) set.tip_changed_at = u.tipChangedAt;
  if (u.blindSince !== undefined) set.blind_since = u.blindSince;
  if (u.blindReason !== undefined) set.blind_reason = u.blindReason;
  if (u.polls !== undefined) set.polls = u.polls;
  if (u.lastError !== undefined) set.last_error = u.lastError;
  if (u.stoppedAt !== undefined) set.stopped_at = u.stoppedAt;
  await db.updateTable('custody_watch').set(set).where('name', '=', name).execute();
}

export async function saveCursor(db: Db, name: string, cursor: Cursor): Promise<void> {
  if (cursor.height !== null) {
    for (const h of Object.keys(cursor.hashes))
      if (Number(h) <= cursor.height - CURSOR_DEPTH) delete cursor.hashes[h];
  }
  await db
    .updateTable('custody_watch')
    .set({ cursor_height: cursor.height, cursor_hashes: JSON.stringify(cursor.hashes) })
    .where('name', '=', name)
    .execute();
}

/**
 * Where a new cursor starts: at `fromHeight - 1` when given, else just below our oldest coin
 * (so every spend of a coin we know of is judged once, whoever synced it), else at the tip.
 */
export async function initialCursorHeight(
  db: Db,
  tip: number,
  fromHeight: number | undefined,
): Promise<number> {
  if (fromHeight !== undefined) return Math.min(tip, fromHeight - 1);
  const r = await db
    .selectFrom('custody_utxo')
    .select((eb) => eb.fn.min('height').as('h'))
    .executeTakeFirst();
  const h = r?.h;
  return h === null || h === undefined ? tip : Math.min(tip, Number(h) - 1);
}

/**
 * Our coins that a block above `aboveHeight` (or the mempool) may spend: unspent, spent in the
 * mempool, or spent above that height. Keyed by outpoint `txid:vout`.
 */
export async function coinsAtRisk(db: Db, aboveHeight: number): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('custody_utxo')
    .select(['txid', 'vout', 'value'])
    .where((eb) =>
      eb.or([
        eb('spent_txid', 'is', null),
        eb('spent_height', 'is', null),
        eb('spent_height', '>', aboveHeight),
      ]),
    )
    .execute();
  return new Map(rows.map((r) => [`${r.txid}:${Number(r.vout)}`, Number(r.value)]));
}

/** Which of these output scripts belong to one of our wallets. */
export async function ownScripts(db: Db, scripts: string[]): Promise<Set<string>> {
  if (!scripts.length) return new Set();
  const rows = await db
    .selectFrom('custody_address')
    .select('script')
    .where('script', 'in', [...new Set(scripts)])
    .execute();
  return new Set(rows.map((r) => r.script));
}

/** The transactions Mamori built for approved withdrawals (built or broadcast PSBTs). */
export async function recordedSpends(db: Db): Promise<(RecordedSpend & { bound: boolean })[]> {
  const rows = await db
    .selectFrom('custody_psbt')
    .innerJoin('custody_wallet', 'custody_wallet.id', 'custody_psbt.wallet_id')
    .select([
      'custody_psbt.txid',
      'custody_psbt.psbt',
      'custody_psbt.fee',
      'custody_wallet.genesis_hash',
    ])
    .where('custody_psbt.status', 'in', ['built', 'broadcast'])
    .execute();
  const out: (RecordedSpend & { bound: boolean })[] = [];
  for (const r of rows) {
    const tx = decodePsbt(r.psbt);
    const inputs: string[] = [];
    for (let i = 0; i < tx.inputsLength; i++) {
      const inp = tx.getInput(i);
      inputs.push(`${bytesToHex(inp.txid!)}:${inp.index}`);
    }
    const outputs: RecordedSpend['outputs'] = [];
    for (let i = 0; i < tx.outputsLength; i++) {
      const o = tx.getOutput(i);
      outputs.push({ script: bytesToHex(o.script!), value: Number(o.amount ?? 0n) });
    }
    out.push({
      txid: r.txid,
      inputs,
      outputs,
      fee: Number(r.fee),
      bound: r.genesis_hash !== null,
    });
  }
  return out;
}

export interface SpendClaim {
  txid: string;
  verdict: string;
  matchedTxid: string | null;
  reason: string | null;
  coins: string[];
  height: number | null;
  at: string;
}

/**
 * Record a judged spend once. Returns whether an alert for it is still owed: true when this
 * call recorded an unapproved spend, or an earlier one was recorded but never alerted (the
 * watcher died between the two), so an alert is raised at least once.
 */
export async function claimSpend(
  db: Db,
  s: SpendClaim,
): Promise<{ fresh: boolean; owed: boolean }> {
  const ins = await db
    .insertInto('custody_watch_spend')
    .values({
      txid: s.txid,
      verdict: s.verdict,
      matched_txid: s.matchedTxid,
      reason: s.reason,
      coins: JSON.stringify(s.coins),
      height: s.height,
      first_seen_at: s.at,
      alerted_at: null,
    })
    .onConflict((oc) => oc.column('txid').doNothing())
    .executeTakeFirst();
  const fresh = Number(ins.numInsertedOrUpdatedRows ?? 0n) > 0;
  const row = await db
    .selectFrom('custody_watch_spend')
    .select(['verdict', 'alerted_at'])
    .where('txid', '=', s.txid)
    .executeTakeFirstOrThrow();
  return { fresh, owed: row.verdict === 'unapproved' && row.alerted_at === null };
}

export async function markAlerted(db: Db, txid: string, at: string): Promise<void> {
  await db
    .updateTable('custody_watch_spend')
    .set({ alerted_at: at })
    .where('txid', '=', txid)
    .execute();
}

/** Whether a spend has already been judged (and alerted, if it needed one). */
export async function judgedSpend(db: Db, txid: string) {
  return db
    .selectFrom('custody_watch_spend')
    .select(['verdict', 'alerted_at'])
    .where('txid', '=', txid)
    .executeTakeFirst();
}

/**
 * The watcher's health for `custody tiers`, the posture API and the dashboard: never-run,
 * watching, blind, down (no heartbeat for longer than its blind-after) or stopped.
 * @example (await watcherStatus({ store })).state
 */
export async function watcherStatus(c: CustodyContext, name = 'default') {
  const hb = await loadHeartbeat(c.store.db, name);
  const now = (c.clock ?? systemClock).now();
  const h = watcherHealth(hb, now);
  return {
    name,
    state: h.state,
    /** How long ago the last heartbeat was written, in ms. */
    ageMs: h.ageMs,
    lastPollAt: hb?.lastPollAt ?? null,
    lastOkAt: hb?.lastOkAt ?? null,
    tipHeight: hb?.tipHeight ?? null,
    cursorHeight: hb?.cursorHeight ?? null,
    blindSince: hb?.blindSince ?? null,
    blindReason: hb?.blindReason ?? null,
    blindAfterMs: hb?.blindAfterMs ?? null,
    polls: hb?.polls ?? 0,
    lastError: hb?.lastError ?? null,
    at: isoUtc(now),
  };
}
