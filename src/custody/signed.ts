/**
 * Withdrawals of wallets bound to a trust root: the signed request and approvals, the evidence
 * bundle that travels with a PSBT, and the hot signer that runs the same cosigner check as the
 * offline one (`core/cosign.ts`) on that evidence and keeps its own ledger. Store rows only
 * carry signatures; whatever does not verify is forged. Not the unbound (legacy) flow: see
 * `withdrawals.ts`.
 */
import { MamoriError } from '../shared/errors.js';
import {
  alert,
  appendAudit,
  type CustodyContext,
  type Db,
  forged,
  inTx,
  now,
  type Trx,
} from './context.js';
import { canonicalJson } from './core/audit.js';
import {
  APPROVE_DOMAIN,
  cosignCheck,
  EVIDENCE_FORMAT,
  type Evidence,
  type LedgerEntry,
  REQUEST_DOMAIN,
  type SignedWithdrawal,
  type SweepClaim,
  WITHDRAWAL_FORMAT,
  type WithdrawalStatement,
} from './core/cosign.js';
import type { Decision } from './core/policy.js';
import { decodePsbt, encodePsbt, signPsbt } from './core/psbt.js';
import {
  countSignatures,
  refuse,
  type Signature,
  type TrustRoot,
  verifySignature,
} from './core/trust.js';
import { assertNotFrozen } from './freeze.js';
import { unlockKeyFile } from './keyfile.js';
import { verifiedPolicyOf } from './trust.js';
import { fastPointAddScalar, fastSchnorrVerify } from './verifier.js';
import { getWallet, hotKeyOf, type WalletRow } from './wallets.js';

/** Refusal reasons that mean a stored row claims an authority its signatures do not give. */
const FORGERY = new Set([
  'bad-signature',
  'not-an-approver',
  'not-an-operator',
  'unknown-identity',
  'approval-quorum-not-met',
  'genesis-mismatch',
  'genesis-under-signed',
  'policy-chain-broken',
  'policy-under-signed',
  'policy-wallet-mismatch',
  'outputs-not-approved',
  'evidence-malformed',
  'sweep-not-own-wallet',
  'forged',
]);

export function isForgery(e: unknown): boolean {
  return e instanceof MamoriError && FORGERY.has(String(e.details?.reason ?? ''));
}

/** Default lifetime of a withdrawal statement and its approvals. */
export const DEFAULT_EXPIRY_HOURS = 24;

/**
 * Sign and store the statement of a just-inserted withdrawal row of a bound wallet.
 * Called by `requestWithdrawal` inside its transaction.
 */
export async function signRequest(
  c: CustodyContext,
  trx: Trx,
  w: WalletRow,
  id: number,
  outputs: { address: string; amount: number }[],
  policyHash: string,
  root: TrustRoot,
  at: string,
  expiresHours = DEFAULT_EXPIRY_HOURS,
): Promise<WithdrawalStatement> {
  const signer = c.signer;
  if (!signer) {
    throw new MamoriError('E_AUTH', 'a withdrawal request is signed: pass --as <identity file>');
  }
  if (!root.genesis.operators.includes(signer.id)) {
    throw new MamoriError('E_AUTH', `${signer.name} is not an operator of the genesis`, {
      details: { reason: 'not-an-operator' },
    });
  }
  if (!(expiresHours > 0 && expiresHours <= 24 * 30)) {
    throw new MamoriError('E_INPUT', 'expiry must be between 0 and 720 hours');
  }
  const statement: WithdrawalStatement = {
    format: WITHDRAWAL_FORMAT,
    genesis: root.hash,
    wallet: w.name,
    withdrawal: id,
    outputs,
    policy: policyHash,
    expires: new Date(Date.parse(at) + expiresHours * 3600_000).toISOString(),
  };
  const sig = signer.sign(REQUEST_DOMAIN, at, statement);
  await trx
    .updateTable('custody_withdrawal')
    .set({ statement: canonicalJson(statement), request_sig: JSON.stringify(sig) })
    .where('id', '=', id)
    .execute();
  return statement;
}

interface StoredSigned {
  statement: WithdrawalStatement;
  request: Signature;
  approvals: Signature[];
  decision: Decision;
  status: string;
}

async function storedSigned(db: Trx | Db, id: number): Promise<StoredSigned | undefined> {
  const r = await db
    .selectFrom('custody_withdrawal')
    .select(['statement', 'request_sig', 'decision', 'status'])
    .where('id', '=', id)
    .executeTakeFirst();
  if (!r?.statement || !r.request_sig) return undefined;
  const st = JSON.parse(r.statement) as WithdrawalStatement | { sweep: SweepClaim };
  if ('sweep' in st) return undefined;
  const approvals = await db
    .selectFrom('custody_approval')
    .select('sig')
    .where('withdrawal_id', '=', id)
    .orderBy('id')
    .execute();
  return {
    statement: st,
    request: JSON.parse(r.request_sig) as Signature,
    approvals: approvals.filter((a) => a.sig).map((a) => JSON.parse(a.sig!) as Signature),
    decision: JSON.parse(r.decision) as Decision,
    status: r.status,
  };
}

/**
 * Add one approval to a bound wallet's withdrawal: by the acting identity (`c.signer`), or a
 * ready signature (a passkey's WebAuthn assertion from the console). The stored statement and
 * request are checked first; the approver must be a genesis approver the policy names, and
 * not the requester. Returns whether the approvers' quorum is met.
 */
export async function approveSigned(
  c: CustodyContext,
  trx: Trx,
  w: WalletRow,
  id: number,
  at: string,
  given?: Signature,
): Promise<{ by: string; met: boolean }> {
  const { root } = await verifiedPolicyOf(c, w, trx);
  const s = await storedSigned(trx, id);
  if (!s) throw forged(`withdrawal ${id}`, new MamoriError('E_POLICY', 'no signed statement'));
  const reqOk = countSignatures(
    [s.request],
    root.genesis.operators,
    root.identities,
    REQUEST_DOMAIN,
    s.statement,
    now(c),
    `withdrawal ${id} request`,
  );
  if (!reqOk.signers.length || s.statement.withdrawal !== id || s.statement.wallet !== w.name) {
    throw forged(`withdrawal ${id}`, refuse('bad-signature', 'the request does not verify'));
  }
  if (Date.parse(s.statement.expires) <= Date.parse(at)) {
    throw refuse('approval-expired', `withdrawal ${id} expired at ${s.statement.expires}`);
  }
  let sig: Signature;
  if (given) sig = given;
  else if (c.signer) sig = c.signer.sign(APPROVE_DOMAIN, at, s.statement);
  else throw new MamoriError('E_AUTH', 'an approval is signed: pass --as <identity file>');
  const idn = root.identities.get(sig.by);
  if (!idn) throw refuse('unknown-identity', `${sig.by} is not in the genesis`);
  const req = s.decision.approvalsRequired;
  if (!root.genesis.approvers.includes(sig.by) || (req && !req.approvers.includes(sig.by))) {
    throw new MamoriError('E_AUTH', `${idn.name} is not an approver for withdrawal ${id}`, {
      details: { reason: 'not-an-approver' },
    });
  }
  if (sig.by === s.request.by) {
    throw new MamoriError('E_POLICY', 'the requester may not approve their own withdrawal', {
      details: { reason: 'not-an-approver' },
    });
  }
  if (s.approvals.some((a) => a.by === sig.by)) {
    throw new MamoriError('E_INPUT', `${idn.name} has already approved withdrawal ${id}`);
  }
  if (!verifySignature(sig, idn, APPROVE_DOMAIN, s.statement)) {
    throw refuse('bad-signature', `the approval of ${idn.name} does not verify`);
  }
  await trx
    .insertInto('custody_approval')
    .values({ withdrawal_id: id, approver: sig.by, at, sig: JSON.stringify(sig) })
    .execute();
  const allowed = (req?.approvers ?? []).filter(
    (a) => root.genesis.approvers.includes(a) && a !== s.request.by,
  );
  const counted = countSignatures(
    [...s.approvals, sig],
    allowed,
    root.identities,
    APPROVE_DOMAIN,
    s.statement,
    now(c),
    `withdrawal ${id}`,
  );
  return { by: sig.by, met: counted.signers.length >= (req?.k ?? 0) };
}

/**
 * The evidence for a PSBT of a bound wallet: the signed policy chain, the signed withdrawals
 * and the sweep claims, read from the store (which only carries them: the check verifies).
 */
export async function evidenceOf(
  c: CustodyContext,
  db: Trx | Db,
  w: WalletRow,
  withdrawalIds: number[],
): Promise<Evidence> {
  const { root, chain } = await verifiedPolicyOf(c, w, db);
  const withdrawals: SignedWithdrawal[] = [];
  const sweeps: SweepClaim[] = [];
  for (const id of withdrawalIds) {
    const r = await db
      .selectFrom('custody_withdrawal')
      .select(['statement', 'requested_by'])
      .where('id', '=', id)
      .executeTakeFirst();
    const st = r?.statement ? (JSON.parse(r.statement) as { sweep?: SweepClaim }) : undefined;
    if (st?.sweep) {
      sweeps.push(st.sweep);
      continue;
    }
    const s = await storedSigned(db, id);
    if (!s) {
      throw forged(
        `withdrawal ${id}`,
        new MamoriError('E_POLICY', `withdrawal ${id} carries no signed statement`),
      );
    }
    withdrawals.push({ statement: s.statement, request: s.request, approvals: s.approvals });
  }
  return { format: EVIDENCE_FORMAT, genesis: root.hash, policies: chain, withdrawals, sweeps };
}

/** The hot signer's own ledger of what it signed. */
export async function hotLedger(db: Trx | Db): Promise<LedgerEntry[]> {
  const rows = await db.selectFrom('custody_hot_ledger').selectAll().orderBy('id').execute();
  return rows.map((r) => ({
    txid: r.txid,
    at: r.at,
    wallet: r.wallet,
    payouts: Number(r.payouts),
    sweeps: Number(r.sweeps),
  }));
}

/**
 * Run the cosigner's check over a PSBT and its evidence with the bound wallet's genesis and the
 * hot ledger; a forgery raises the CRITICAL alert. Returns the ledger entry to record.
 */
export async function checkWithEvidence(
  c: CustodyContext,
  db: Trx | Db,
  w: WalletRow,
  psbt: string,
  evidence: Evidence,
  pinned?: { genesis?: unknown; hash?: string },
) {
  const g = pinned?.genesis
    ? pinned.genesis
    : JSON.parse(
        (
          await db
            .selectFrom('custody_genesis')
            .select('document')
            .where('hash', '=', w.genesisHash ?? '')
            .executeTakeFirstOrThrow()
        ).document,
      );
  try {
    return cosignCheck({
      psbt: decodePsbt(psbt),
      evidence,
      genesis: g,
      schnorrVerify: fastSchnorrVerify,
      pointAddScalar: fastPointAddScalar,
      ...(pinned?.hash || w.genesisHash
        ? { pinnedGenesisHash: pinned?.hash ?? w.genesisHash! }
        : {}),
      ledger: await hotLedger(db),
      now: now(c),
    });
  } catch (e) {
    if (isForgery(e)) throw forged(`the evidence for wallet ${w.name}`, e);
    throw e;
  }
}

/**
 * `--sign-hot` for a bound wallet: the same check as the offline cosigner, on the signed
 * evidence only; the ledger entry and the signature go together.
 * @example await signHotChecked(ctx, psbt, pass)
 */
export async function signHotChecked(
  c: CustodyContext,
  psbtText: string,
  passphrase: string,
  opts: { evidence?: Evidence; genesis?: unknown; genesisHash?: string } = {},
): Promise<{ psbt: string; signed: number; wallet: string; evidence: Evidence }> {
  await assertNotFrozen(c.store.db, c);
  const tx = decodePsbt(psbtText);
  const row = await c.store.db
    .selectFrom('custody_psbt')
    .innerJoin('custody_wallet', 'custody_wallet.id', 'custody_psbt.wallet_id')
    .select(['custody_wallet.name as wallet', 'custody_psbt.withdrawal_ids'])
    .where('custody_psbt.txid', '=', tx.id)
    .executeTakeFirst();
  if (!row && !opts.evidence) {
    throw new MamoriError('E_POLICY', 'no evidence for this PSBT: the hot key signs nothing', {
      details: { reason: 'outputs-not-approved', txid: tx.id },
    });
  }
  const w = await getWallet(c, row?.wallet ?? opts.evidence!.policies[0]?.wallet.name ?? '');
  const evidence =
    opts.evidence ??
    (await evidenceOf(c, c.store.db, w, JSON.parse(row!.withdrawal_ids) as number[]));
  const pinned = {
    ...(opts.genesis ? { genesis: opts.genesis } : {}),
    ...(opts.genesisHash ? { hash: opts.genesisHash } : {}),
  };
  const ok = await checkWithEvidence(c, c.store.db, w, psbtText, evidence, pinned);
  const master = await unlockKeyFile(await hotKeyOf(c, w.name), passphrase);
  try {
    const signed = signPsbt(tx, master);
    await inTx(c, async (trx, at, actor) => {
      const seen = await trx
        .selectFrom('custody_hot_ledger')
        .select('id')
        .where('txid', '=', ok.txid)
        .executeTakeFirst();
      if (!seen) {
        await trx
          .insertInto('custody_hot_ledger')
          .values({ ...ok.ledgerEntry, wallet: ok.wallet })
          .execute();
      }
      await appendAudit(trx, at, actor, 'psbt.sign-hot', {
        txid: tx.id,
        signed,
        withdrawals: ok.withdrawals,
        policyVersion: ok.policyVersion,
      });
    });
    return { psbt: encodePsbt(tx), signed, wallet: w.name, evidence };
  } finally {
    master.wipePrivateData();
  }
}

/** A refused request to an address not on the whitelist: the 2018 "test transfer". */
export async function alertRefusedUnknown(
  c: CustodyContext,
  wallet: string,
  to: string,
  amount: number,
  decision: Decision,
): Promise<void> {
  if (decision.outcome !== 'rejected' || decision.rule !== 'whitelist') return;
  await alert(
    c,
    'warning',
    'custody.refused_unknown_address',
    `a withdrawal of ${amount} sat from ${wallet} to ${to}, not on the whitelist, was refused`,
    'a "test transfer" to a new address often precedes a theft: check who asked',
    { wallet, to, amount },
  );
}

export { getWallet };

/**
 * For the watcher: whether a spending transaction is a PSBT Mamori built whose evidence still
 * verifies (genesis, signed policy chain, signed request and approvals, outputs exactly those),
 * judged at its build time. A store row alone (no valid signatures) is not enough: false.
 * @example if (!(await spendIsSigned(ctx, txid))) raiseTheft()
 */
export async function spendIsSigned(c: CustodyContext, txid: string): Promise<boolean> {
  const row = await c.store.db
    .selectFrom('custody_psbt')
    .innerJoin('custody_wallet', 'custody_wallet.id', 'custody_psbt.wallet_id')
    .select([
      'custody_wallet.name as wallet',
      'custody_psbt.psbt',
      'custody_psbt.withdrawal_ids',
      'custody_psbt.created_at',
    ])
    .where('custody_psbt.txid', '=', txid)
    .executeTakeFirst();
  if (!row) return false;
  try {
    const w = await getWallet(c, row.wallet);
    if (!w.genesisHash) return false;
    const evidence = await evidenceOf(c, c.store.db, w, JSON.parse(row.withdrawal_ids));
    const g = await c.store.db
      .selectFrom('custody_genesis')
      .select('document')
      .where('hash', '=', w.genesisHash)
      .executeTakeFirstOrThrow();
    cosignCheck({
      psbt: decodePsbt(row.psbt),
      evidence,
      genesis: JSON.parse(g.document),
      pinnedGenesisHash: w.genesisHash,
      schnorrVerify: fastSchnorrVerify,
      pointAddScalar: fastPointAddScalar,
      ledger: [],
      now: Date.parse(row.created_at),
    });
    return true;
  } catch {
    return false;
  }
}
