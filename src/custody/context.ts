/**
 * The custody context, the audit append and the transaction helper shared by the custody
 * modules. Decides nothing.
 */

import type { AlertSeverity, AlertSink } from '../alerts/index.js';
import { type Clock, isoUtc, systemClock } from '../shared/clock.js';
import { MamoriError } from '../shared/errors.js';
import type { Store } from '../storage/index.js';
import { canonicalJson, entryHash, GENESIS } from './core/audit.js';
import type { Signer } from './identity.js';

/** The domain an actor signs an audit entry's hash under. */
export const AUDIT_DOMAIN = 'mamori/audit.entry';

export type Tier = 'hot' | 'warm' | 'cold';
export const TIERS: Tier[] = ['hot', 'warm', 'cold'];

export interface CustodyContext {
  store: Store;
  clock?: Clock;
  /** Who is acting when no identity does (jobs, the watcher); default "cli". */
  actor?: string;
  /** The identity acting (`--as`): the audit actor, and it signs its entries. */
  signer?: Signer;
  /** Where forged authority and other custody alerts go (CRITICAL on forgery). */
  alerts?: AlertSink;
}

// The signer of the transaction an entry is appended in (set by inTx), so that call sites
// keep passing only the actor's name.
const txSigners = new WeakMap<object, Signer>();

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
  const hash = entryHash(entry);
  const signer = txSigners.get(trx);
  const sig =
    signer && signer.id === actor ? JSON.stringify(signer.sign(AUDIT_DOMAIN, at, { hash })) : null;
  await trx
    .insertInto('custody_audit')
    .values({ ...entry, hash, sig })
    .execute();
}

export async function inTx<T>(
  c: CustodyContext,
  fn: (trx: Trx, at: string, actor: string) => Promise<T>,
): Promise<T> {
  const at = isoUtc(now(c));
  try {
    return await c.store.db.transaction().execute((trx) => {
      if (c.signer) txSigners.set(trx, c.signer);
      return fn(trx, at, actorOf(c));
    });
  } catch (e) {
    // Raised after the rollback: the alert sink writes through the store's own connection.
    await raiseIfForged(c, e);
    throw e;
  }
}

/** Raise a custody alert when the context has a sink (best effort; never hides the refusal). */
export async function alert(
  c: CustodyContext,
  severity: AlertSeverity,
  kind: string,
  message: string,
  next: string,
  details: Record<string, unknown> = {},
): Promise<void> {
  try {
    await c.alerts?.raise({ area: 'custody', kind, severity, message, next, details });
  } catch {
    // the alert is best effort; the refusal that follows is what protects the funds
  }
}

const raised = new WeakSet<object>();

/**
 * A store row that does not verify against its signatures: the refusal to throw (E_POLICY,
 * `details.reason` "forged", `details.check` the failed check). Its CRITICAL alert is raised
 * by `raiseIfForged` once no transaction holds the store.
 */
export function forged(what: string, cause: unknown): MamoriError {
  const check =
    cause instanceof MamoriError ? String(cause.details?.reason ?? cause.code) : 'unknown';
  return new MamoriError(
    'E_POLICY',
    `${what} in the store does not verify against its signatures: ${(cause as Error).message}`,
    { details: { reason: 'forged', check, what }, cause },
  );
}

/** The CRITICAL alert for a forged row (once per error). */
export async function raiseIfForged(c: CustodyContext, e: unknown): Promise<void> {
  if (!(e instanceof MamoriError) || e.details?.reason !== 'forged' || raised.has(e)) return;
  raised.add(e);
  await alert(
    c,
    'critical',
    'custody.forged_authority',
    `${String(e.details.what)} in the store does not verify (${String(e.details.check)}): refused`,
    'someone with access to the server wrote it; treat the server as compromised and freeze',
    { what: e.details.what, check: e.details.check },
  );
}

/** The audit actor: the identity's id when one acts. */
export function actorOf(c: CustodyContext): string {
  return c.signer?.id ?? c.actor ?? 'cli';
}
