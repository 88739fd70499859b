/**
 * Freeze and unfreeze of all withdrawals. An unfreeze needs k approver signatures over
 * the freeze id; a lifted freeze without them is not believed.
 */

import { sha256 } from '@noble/hashes/sha2.js';
import { systemClock } from '../shared/clock.js';
import { MamoriError } from '../shared/errors.js';
import { appendAudit, type CustodyContext, type Db, forged, inTx, type Trx } from './context.js';
import { canonicalJson } from './core/audit.js';
import { bytesToHex } from './core/descriptor.js';
import { approverQuorum, parsePolicy, quorum } from './core/policy.js';
import { checkGenesis, countSignatures, type Signature, type TrustRoot } from './core/trust.js';

export interface FreezeState {
  frozen: boolean;
  /** sha256 of the freeze's (since, reason, txid): what unfreeze votes sign. */
  id?: string;
  since?: string;
  reason?: string;
  txid?: string;
  /** Unbound stores: approver names; bound: the ids of signed votes. */
  votes?: string[];
  signedVotes?: Signature[];
  /** The last lifted freeze and the approver signatures that lifted it. */
  lifted?: { id: string; votes: Signature[] };
}

export async function getState<T>(db: Trx | Db, key: string): Promise<T | undefined> {
  const row = await db
    .selectFrom('custody_state')
    .select('value')
    .where('key', '=', key)
    .executeTakeFirst();
  return row ? (JSON.parse(row.value) as T) : undefined;
}

export async function setState(db: Trx | Db, key: string, value: unknown): Promise<void> {
  const text = JSON.stringify(value);
  const done = await db
    .updateTable('custody_state')
    .set({ value: text })
    .where('key', '=', key)
    .executeTakeFirst();
  if (Number(done.numUpdatedRows) === 0) {
    await db.insertInto('custody_state').values({ key, value: text }).execute();
  }
}

export async function freezeState(c: CustodyContext): Promise<FreezeState> {
  return (await getState<FreezeState>(c.store.db, 'freeze')) ?? { frozen: false };
}

export const UNFREEZE_DOMAIN = 'mamori/custody.unfreeze';

/** The trust root of the store's bound wallets (the first bound wallet's), if any. */
async function boundRoot(db: Trx | Db, nowMs: number): Promise<TrustRoot | undefined> {
  const w = await db
    .selectFrom('custody_wallet')
    .select('genesis_hash')
    .where('genesis_hash', 'is not', null)
    .orderBy('id')
    .executeTakeFirst();
  if (!w?.genesis_hash) return undefined;
  const g = await db
    .selectFrom('custody_genesis')
    .select('document')
    .where('hash', '=', w.genesis_hash)
    .executeTakeFirst();
  try {
    if (!g) throw new MamoriError('E_POLICY', 'the genesis document is missing');
    return checkGenesis(JSON.parse(g.document), nowMs, w.genesis_hash);
  } catch (e) {
    throw forged('the genesis of the bound wallets', e);
  }
}

function liftIsSigned(root: TrustRoot, freezeId: string, votes: Signature[], nowMs: number) {
  return countSignatures(
    votes,
    root.genesis.approvers,
    root.identities,
    UNFREEZE_DOMAIN,
    { freeze: freezeId },
    nowMs,
    'unfreeze',
  );
}

/**
 * Refuse (E_FROZEN) while frozen. With bound wallets, a lifted freeze is believed only with k
 * approver signatures over the last freeze's id: a lift written into the store by hand is
 * forged, still frozen, and raises the CRITICAL alert.
 */
export async function assertNotFrozen(db: Trx | Db, c?: CustodyContext): Promise<void> {
  const f = await getState<FreezeState>(db, 'freeze');
  if (f?.frozen) {
    throw new MamoriError('E_FROZEN', `custody is frozen since ${f.since}: ${f.reason}`, {
      hint: 'all withdrawals are halted; lift with mamori custody unfreeze --as <approver id file> (quorum)',
    });
  }
  const last = await db
    .selectFrom('custody_audit')
    .select('data')
    .where('action', '=', 'freeze')
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  const id = last ? (JSON.parse(last.data) as { id?: string }).id : undefined;
  if (!id) return;
  const nowMs = (c?.clock ?? systemClock).now();
  const root = await boundRoot(db, nowMs);
  if (!root) return;
  let ok = false;
  try {
    ok =
      f?.lifted?.id === id &&
      liftIsSigned(root, id, f.lifted.votes, nowMs).signers.length >=
        root.genesis.approverThreshold;
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new MamoriError(
      'E_FROZEN',
      `custody was frozen (${id.slice(0, 12)}…) and the lift carries no approver quorum: still frozen`,
      {
        details: { reason: 'forged', check: 'unfreeze-unsigned', what: 'the freeze state' },
        hint: 'lift with mamori custody unfreeze --as <approver id file> (quorum)',
      },
    );
  }
}

/** Freeze all withdrawals (idempotent). */
export async function freeze(
  c: CustodyContext,
  reason: string,
  txid?: string,
): Promise<FreezeState> {
  return inTx(c, async (trx, at, actor) => {
    const cur = await getState<FreezeState>(trx, 'freeze');
    if (cur?.frozen) return cur;
    const id = bytesToHex(
      sha256(new TextEncoder().encode(canonicalJson({ since: at, reason, txid: txid ?? null }))),
    );
    const state: FreezeState = {
      frozen: true,
      id,
      since: at,
      reason,
      ...(txid ? { txid } : {}),
      votes: [],
      signedVotes: [],
    };
    await setState(trx, 'freeze', state);
    await appendAudit(trx, at, actor, 'freeze', { id, reason, txid: txid ?? null });
    return state;
  });
}

/** One approver's vote to lift the freeze; lifted when the approvers' quorum is reached. */
export async function unfreeze(
  c: CustodyContext,
  by?: string | Signature,
): Promise<FreezeState & { needed: number; approvers: string[] }> {
  return inTx(c, async (trx, at, actor) => {
    const cur = (await getState<FreezeState>(trx, 'freeze')) ?? { frozen: false };
    const root = await boundRoot(trx, Date.parse(at));
    if (root) {
      const g = root.genesis;
      const base = { needed: g.approverThreshold, approvers: g.approvers };
      if (!cur.frozen) return { ...cur, ...base };
      if (!cur.id) throw new MamoriError('E_INPUT', 'the freeze has no id to vote on');
      const body = { freeze: cur.id };
      const sig = typeof by === 'object' ? by : c.signer?.sign(UNFREEZE_DOMAIN, at, body);
      if (!sig)
        throw new MamoriError('E_AUTH', 'an unfreeze vote is signed: pass --as <identity file>');
      if (!g.approvers.includes(sig.by)) {
        throw new MamoriError('E_AUTH', `${sig.by} is not an approver of the genesis`, {
          details: { reason: 'not-an-approver' },
        });
      }
      const mine = liftIsSigned(root, cur.id, [sig], Date.parse(at));
      if (!mine.signers.length)
        throw new MamoriError('E_AUTH', 'the unfreeze vote does not verify');
      const votes = [...(cur.signedVotes ?? []).filter((v) => v.by !== sig.by), sig];
      const met =
        liftIsSigned(root, cur.id, votes, Date.parse(at)).signers.length >= g.approverThreshold;
      const next: FreezeState = met
        ? { frozen: false, lifted: { id: cur.id, votes } }
        : { ...cur, signedVotes: votes, votes: votes.map((v) => v.by) };
      await setState(trx, 'freeze', next);
      await appendAudit(trx, at, actor, met ? 'unfreeze' : 'unfreeze-vote', {
        id: cur.id,
        by: sig.by,
        votes: votes.map((v) => v.by),
      });
      return { ...next, votes: votes.map((v) => v.by), ...base };
    }
    if (typeof by !== 'string') throw new MamoriError('E_USAGE', 'unfreeze needs an approver');
    const policies = await trx.selectFrom('custody_policy').select('rules').execute();
    const q = approverQuorum(policies.map((p) => parsePolicy(JSON.parse(p.rules))));
    if (!q) {
      throw new MamoriError(
        'E_POLICY',
        'no approvers are configured, so nobody can lift a freeze',
        {
          hint: 'set approvers with: mamori custody policy set <wallet> --approvers a,b,c --quorum 2',
        },
      );
    }
    if (!cur.frozen) return { ...cur, needed: q.k, approvers: q.approvers };
    if (!q.approvers.includes(by)) {
      throw new MamoriError(
        'E_AUTH',
        `"${by}" is not one of the approvers (${q.approvers.join(', ')})`,
      );
    }
    const votes = [...new Set([...(cur.votes ?? []), by])];
    const met = quorum(q, votes).met;
    const next: FreezeState = met ? { frozen: false, votes } : { ...cur, votes };
    await setState(trx, 'freeze', next);
    await appendAudit(trx, at, actor, met ? 'unfreeze' : 'unfreeze-vote', { by, votes });
    return { ...next, needed: q.k, approvers: q.approvers };
  });
}
