/**
 * The custody context, the audit append and the transaction helper shared by the custody
 * modules. Decides nothing.
 */
import { type Clock, isoUtc, systemClock } from '../shared/clock.js';
import type { Store } from '../storage/index.js';
import { canonicalJson, entryHash, GENESIS } from './core/audit.js';

export type Tier = 'hot' | 'warm' | 'cold';
export const TIERS: Tier[] = ['hot', 'warm', 'cold'];

export interface CustodyContext {
  store: Store;
  clock?: Clock;
  /** Who is acting (for the audit log); default "cli". */
  actor?: string;
}

export type Db = Store['db'];
export type Trx = Parameters<Parameters<ReturnType<Db['transaction']>['execute']>[0]>[0];

export const now = (c: CustodyContext) => (c.clock ?? systemClock).now();

/** Append one entry to the hash chain, inside the caller's transaction. */
export async function appendAudit(
  trx: Trx | Db,
  at: string,
  actor: string,
  action: string,
  data: unknown,
): Promise<void> {
  const last = await trx
    .selectFrom('custody_audit')
    .select(['seq', 'hash'])
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  const entry = {
    seq: Number(last?.seq ?? 0) + 1,
    at,
    actor,
    action,
    data: canonicalJson(data),
    prev_hash: last?.hash ?? GENESIS,
  };
  await trx
    .insertInto('custody_audit')
    .values({ ...entry, hash: entryHash(entry) })
    .execute();
}

export async function inTx<T>(
  c: CustodyContext,
  fn: (trx: Trx, at: string, actor: string) => Promise<T>,
): Promise<T> {
  const at = isoUtc(now(c));
  return c.store.db.transaction().execute((trx) => fn(trx, at, c.actor ?? 'cli'));
}
