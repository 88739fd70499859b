/**
 * The approvals queue for the console: each pending withdrawal with its outputs, the signed
 * statement an approver signs (with the WebAuthn challenge a passkey signs over), who has
 * approved and who still may. Read-only; an approval itself goes through `approveWithdrawal`
 * with a signature that custody verifies. Not authority: what the queue shows is the store's
 * view; the cosigner verifies the signatures again.
 */
import type { CustodyContext } from './context.js';
import { APPROVE_DOMAIN, type WithdrawalStatement } from './core/cosign.js';
import { webauthnChallenge } from './core/trust.js';
import { freezeState, UNFREEZE_DOMAIN } from './freeze.js';
import { trustRootOf } from './trust.js';
import { listWallets } from './wallets.js';
import { listWithdrawals } from './withdrawals.js';

export interface QueuedWithdrawal {
  id: number;
  wallet: string;
  outputs: { address: string; amount: number }[];
  requestedBy: string;
  requestedAt: string;
  /** The signed statement (bound wallets), or null for a wallet with no trust root. */
  statement: WithdrawalStatement | null;
  expires: string | null;
  /** Approvals the policy rule needs. */
  required: number;
  /** Who may approve: the rule's approvers, less the requester. */
  approvers: string[];
  approvedBy: string[];
  /** Approvers who have not approved yet. */
  waitingFor: string[];
}

/**
 * Every pending withdrawal, oldest first.
 * @example const q = await approvalQueue({ store }); q[0].waitingFor
 */
export async function approvalQueue(c: CustodyContext): Promise<QueuedWithdrawal[]> {
  const rows = await listWithdrawals(c, { status: 'pending' });
  if (!rows.length) return [];
  const stored = await c.store.db
    .selectFrom('custody_withdrawal')
    .select(['id', 'statement'])
    .where(
      'id',
      'in',
      rows.map((r) => r.id),
    )
    .execute();
  const statements = new Map(stored.map((s) => [Number(s.id), s.statement]));
  return rows.map((w) => {
    const text = statements.get(w.id);
    const parsed = text ? (JSON.parse(text) as WithdrawalStatement | { sweep: unknown }) : null;
    const statement = parsed && !('sweep' in parsed) ? parsed : null;
    const req = w.decision.approvalsRequired;
    const approvers = (req?.approvers ?? []).filter((a) => a !== w.requestedBy);
    return {
      id: w.id,
      wallet: w.wallet,
      outputs: statement?.outputs ?? [{ address: w.to, amount: w.amount }],
      requestedBy: w.requestedBy,
      requestedAt: w.requestedAt,
      statement,
      expires: statement?.expires ?? null,
      required: req?.k ?? 0,
      approvers,
      approvedBy: w.approvals,
      waitingFor: approvers.filter((a) => !w.approvals.includes(a)),
    };
  });
}

/**
 * What a passkey signs to approve a withdrawal at `at`: the WebAuthn challenge of the
 * statement under the approval domain, exactly what custody's verifier recomputes.
 * @example approvalChallenge(q.statement, new Date().toISOString())
 */
export function approvalChallenge(statement: WithdrawalStatement, at: string): string {
  return webauthnChallenge(APPROVE_DOMAIN, at, statement);
}

/** What a passkey signs to vote to lift the freeze `freezeId` at `at`. */
export function unfreezeChallenge(freezeId: string, at: string): string {
  return webauthnChallenge(UNFREEZE_DOMAIN, at, { freeze: freezeId });
}

export interface FreezeVotes {
  frozen: boolean;
  /** The freeze id unfreeze votes sign. */
  id: string | null;
  since: string | null;
  reason: string | null;
  /** Who has voted to lift it. */
  votes: string[];
  /** Votes needed (the genesis approver threshold), or null with no trust root. */
  needed: number | null;
  /** Who may vote (the genesis approvers). */
  approvers: string[];
}

/**
 * The freeze and its unfreeze votes, with the genesis of the bound wallets.
 * @example const f = await freezeVotes({ store }); f.frozen && f.needed
 */
export async function freezeVotes(c: CustodyContext): Promise<FreezeVotes> {
  const f = await freezeState(c);
  const bound = (await listWallets(c)).find((w) => w.genesisHash);
  const root = bound ? await trustRootOf(c, bound) : undefined;
  return {
    frozen: f.frozen,
    id: f.frozen ? (f.id ?? null) : null,
    since: f.frozen ? (f.since ?? null) : null,
    reason: f.frozen ? (f.reason ?? null) : null,
    votes: f.frozen ? (f.votes ?? []) : [],
    needed: root ? root.genesis.approverThreshold : null,
    approvers: root ? root.genesis.approvers : [],
  };
}
