/**
 * Freeze and unfreeze of all withdrawals. An unfreeze needs k approver signatures over
 * the freeze id; a lifted freeze without them is not believed.
 */
import { MamoriError } from '../shared/errors.js';
import { appendAudit, type CustodyContext, type Db, inTx, type Trx } from './context.js';
import { approverQuorum, parsePolicy, quorum } from './core/policy.js';

export interface FreezeState {
  frozen: boolean;
  since?: string;
  reason?: string;
  txid?: string;
  votes?: string[];
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

export async function assertNotFrozen(db: Trx | Db): Promise<void> {
  const f = await getState<FreezeState>(db, 'freeze');
  if (f?.frozen) {
    throw new MamoriError('E_FROZEN', `custody is frozen since ${f.since}: ${f.reason}`, {
      hint: 'all withdrawals are halted; lift with mamori custody unfreeze --by <approver> (quorum)',
    });
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
    const state: FreezeState = {
      frozen: true,
      since: at,
      reason,
      ...(txid ? { txid } : {}),
      votes: [],
    };
    await setState(trx, 'freeze', state);
    await appendAudit(trx, at, actor, 'freeze', { reason, txid: txid ?? null });
    return state;
  });
}

/** One approver's vote to lift the freeze; lifted when the approvers' quorum is reached. */
export async function unfreeze(
  c: CustodyContext,
  by: string,
): Promise<FreezeState & { needed: number; approvers: string[] }> {
  return inTx(c, async (trx, at, actor) => {
    const cur = (await getState<FreezeState>(trx, 'freeze')) ?? { frozen: false };
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
