/**
 * The independent cosigner's check, one pure function of (PSBT, evidence, genesis, ledger, now):
 * the policy chain from the genesis, signed requests and quorum approvals for exactly these
 * outputs, whitelist activation, limits, velocity against the cosigner's own ledger, sweeps only
 * to own wallets the signed policy lists, inputs and change of the wallet. The offline `psbt sign
 * --trust`, `--sign-hot`, `cosigner serve` and the watcher use this same code. Not the signing
 * itself and not the ledger file: the shells do that.
 */
import type { Transaction } from '@scure/btc-signer';
import { canonicalJson } from './audit.js';
import { makeDeriver, type PointAddScalar, parseMultisigDescriptor } from './descriptor.js';
import { network } from './network.js';
import { compactHistory, evaluate, type PastWithdrawal } from './policy.js';
import { inspectPsbt } from './psbt.js';
import {
  canonicalBody,
  checkGenesis,
  countSignatures,
  memoSchnorrVerify,
  nobleSchnorrVerify,
  type PolicyVersion,
  refuse,
  type SchnorrVerify,
  type Signature,
  type TrustRoot,
  type VerifiedPolicy,
  verifyPolicyChain,
  type WalletRef,
} from './trust.js';

export const WITHDRAWAL_FORMAT = 'mamori-custody-withdrawal/1';
export const REQUEST_DOMAIN = 'mamori/withdraw.request';
export const APPROVE_DOMAIN = 'mamori/withdraw.approve';
export const EVIDENCE_FORMAT = 'mamori-custody-evidence/1';

/** What a requester and each approver sign: the canonical withdrawal statement. */
export interface WithdrawalStatement {
  format: typeof WITHDRAWAL_FORMAT;
  genesis: string;
  wallet: string;
  withdrawal: number;
  outputs: { address: string; amount: number }[];
  /** Hash of the policy version the request was made under. */
  policy: string;
  /** ISO-8601 UTC: approvals are void after this. */
  expires: string;
}

export interface SignedWithdrawal {
  statement: WithdrawalStatement;
  request: Signature;
  approvals: Signature[];
}

/** A sweep or refill output: paid to an own wallet at a derivation the cosigner re-derives. */
export interface SweepClaim {
  address: string;
  amount: number;
  wallet: string;
  branch: number;
  index: number;
}

/** What travels beside a PSBT (`<psbt>.evidence.json`) or in a `cosigner serve` request. */
export interface Evidence {
  format: typeof EVIDENCE_FORMAT;
  genesis: string;
  policies: PolicyVersion[];
  withdrawals: SignedWithdrawal[];
  sweeps: SweepClaim[];
}

/** One line of a cosigner's append-only ledger: what it signed and when. */
export interface LedgerEntry {
  txid: string;
  at: string;
  wallet: string;
  /** Sum paid to outside addresses (withdrawals). */
  payouts: number;
  /** Sum moved to own wallets (sweeps, refills). */
  sweeps: number;
}

export interface CosignInput {
  psbt: Transaction;
  evidence: unknown;
  genesis: unknown;
  /** When given, the genesis must hash to this. */
  pinnedGenesisHash?: string;
  ledger: LedgerEntry[];
  /** Epoch ms. */
  now: number;
  /** BIP340 verifier (default @noble/curves); shells inject libsecp256k1, see `../verifier.ts`. */
  schnorrVerify?: SchnorrVerify;
  /** Tweak addition for re-deriving the wallet's scripts (default @noble/curves via bip32). */
  pointAddScalar?: PointAddScalar;
}

export interface CosignApproval {
  ok: true;
  wallet: string;
  txid: string;
  policyVersion: number;
  withdrawals: number[];
  ledgerEntry: LedgerEntry;
}

const sameOutputs = (a: { address: string; amount: number }[]) =>
  a.map((o) => `${o.address}:${o.amount}`).sort();

/** Check the shape of an evidence document; anything else is `evidence-malformed`. */
export function parseEvidence(doc: unknown): Evidence {
  const e = doc as Evidence;
  if (
    !e ||
    e.format !== EVIDENCE_FORMAT ||
    typeof e.genesis !== 'string' ||
    !Array.isArray(e.policies) ||
    !Array.isArray(e.withdrawals) ||
    !Array.isArray(e.sweeps)
  ) {
    throw refuse('evidence-malformed', `evidence is not a ${EVIDENCE_FORMAT} document`);
  }
  for (const w of e.withdrawals) {
    const s = w?.statement;
    if (
      !s ||
      s.format !== WITHDRAWAL_FORMAT ||
      !Array.isArray(s.outputs) ||
      !w.request ||
      !Array.isArray(w.approvals)
    ) {
      throw refuse('evidence-malformed', 'evidence: a withdrawal statement is not well formed');
    }
  }
  return e;
}

/**
 * Check one signed withdrawal against the verified policy at `now`: statement for this wallet,
 * genesis and policy head, not expired, requested by an operator, then the policy's decision
 * (whitelist activation, limit, velocity over `history`, share of `balance`) and, when it asks
 * for approvals, k valid approvals by approvers other than the requester; a time delay counts
 * from the last of those signatures.
 */
export function checkSignedWithdrawal(
  root: TrustRoot,
  vp: VerifiedPolicy,
  w: SignedWithdrawal,
  ctx: { now: number; history: PastWithdrawal[]; balance: number; verify?: SchnorrVerify },
): void {
  const verify = ctx.verify ?? nobleSchnorrVerify;
  const s = w.statement;
  const what = `withdrawal ${s.withdrawal}`;
  if (s.genesis !== root.hash) throw refuse('genesis-mismatch', `${what}: another genesis`);
  if (s.wallet !== vp.wallet.name) {
    throw refuse('policy-wallet-mismatch', `${what} is for wallet ${s.wallet}`);
  }
  if (s.policy !== vp.hash) {
    throw refuse(
      'policy-chain-broken',
      `${what} was requested under policy ${s.policy.slice(0, 12)}…, not the signed head ${vp.hash.slice(0, 12)}…`,
    );
  }
  const expires = Date.parse(s.expires);
  if (Number.isNaN(expires)) throw refuse('evidence-malformed', `${what}: bad expiry`);
  if (expires <= ctx.now) throw refuse('approval-expired', `${what} expired at ${s.expires}`);
  if (!root.identities.has(w.request?.by)) {
    throw refuse('unknown-identity', `${what}: requester ${w.request?.by} is not in the genesis`);
  }
  // The statement is written as canonical JSON once for all its signatures.
  const body = canonicalBody(s);
  const req = countSignatures(
    [w.request],
    root.genesis.operators,
    root.identities,
    REQUEST_DOMAIN,
    body,
    ctx.now,
    `${what} request`,
    verify,
  );
  if (!req.signers.length) {
    throw refuse('not-an-operator', `${what}: the requester is not an operator of the genesis`);
  }
  const times = [...req.times];
  const extra = [...ctx.history];
  const nowIso = new Date(ctx.now).toISOString();
  // Outputs that ask for the same approvers share one count of the same signatures.
  const counted = new Map<string, ReturnType<typeof countSignatures>>();
  for (const o of s.outputs) {
    if (!Number.isSafeInteger(o.amount) || o.amount <= 0) {
      throw refuse('evidence-malformed', `${what}: bad amount`);
    }
    const d = evaluate(vp.policy, {
      to: o.address,
      amount: o.amount,
      now: ctx.now,
      history: extra,
      balance: ctx.balance,
    });
    extra.push({ amount: o.amount, requestedAt: nowIso, at: ctx.now });
    if (d.outcome === 'rejected') throw refuse('policy-refused', `${what}: ${d.reason}`);
    if (d.approvalsRequired) {
      const allowed = d.approvalsRequired.approvers.filter(
        (a) => root.genesis.approvers.includes(a) && a !== w.request.by,
      );
      const key = allowed.join(',');
      let c = counted.get(key);
      if (!c) {
        if (!counted.size) checkApprovers(root, w, what);
        c = countSignatures(
          w.approvals,
          allowed,
          root.identities,
          APPROVE_DOMAIN,
          body,
          ctx.now,
          `${what} approval`,
          verify,
        );
        counted.set(key, c);
      }
      const k = d.approvalsRequired.k;
      if (c.signers.length < k) {
        throw refuse(
          'approval-quorum-not-met',
          `${what}: ${c.signers.length} valid approvals of the ${k} required (requester excluded)`,
        );
      }
      for (const t of c.times) if (t > expires) throw refuse('approval-expired', `${what}: late`);
      times.push(...c.times.slice(0, k));
    }
    if (d.eligibleAt) {
      const delay = Date.parse(d.eligibleAt) - ctx.now;
      const from = Math.max(...times);
      if (from + delay > ctx.now) {
        throw refuse(
          'time-locked',
          `${what} is time-locked until ${new Date(from + delay).toISOString()}`,
        );
      }
    }
  }
}

/** Every approval of a withdrawal is by a genesis identity that is an approver (or requester). */
function checkApprovers(root: TrustRoot, w: SignedWithdrawal, what: string): void {
  for (const a of w.approvals) {
    if (!root.identities.has(a?.by)) {
      throw refuse('unknown-identity', `${what}: approval by ${a?.by}, not in the genesis`);
    }
    if (!root.genesis.approvers.includes(a.by) && a.by !== w.request.by) {
      throw refuse('not-an-approver', `${what}: ${a.by} is not an approver of the genesis`);
    }
  }
}

/**
 * The cosigner's whole check. Throws a refusal (E_POLICY with `details.reason`, or E_INPUT for
 * malformed evidence); returns what to append to the ledger when everything holds.
 * @example const ok = cosignCheck({ psbt, evidence, genesis, ledger, now: Date.now() })
 */
export function cosignCheck(i: CosignInput): CosignApproval {
  const ev = parseEvidence(i.evidence);
  // Each distinct (key, message, signature) is verified once in one check.
  const verify = memoSchnorrVerify(i.schnorrVerify ?? nobleSchnorrVerify);
  const root = checkGenesis(i.genesis, i.now, i.pinnedGenesisHash, verify);
  if (ev.genesis !== root.hash) {
    throw refuse('genesis-mismatch', 'the evidence is for another genesis');
  }
  const vp = verifyPolicyChain(root, ev.policies, i.now, verify);
  const net = network(vp.wallet.network);
  let wallet: ReturnType<typeof makeDeriver>;
  try {
    wallet = makeDeriver(
      parseMultisigDescriptor(vp.wallet.descriptor, { requireChecksum: true }),
      net,
      i.pointAddScalar ? { pointAddScalar: i.pointAddScalar } : {},
    );
  } catch {
    throw refuse('evidence-malformed', 'the signed policy names a descriptor that does not parse');
  }
  const view = inspectPsbt(i.psbt, net, { wallet });
  if (!view.inputsOfWallet) {
    throw refuse('inputs-not-wallet', `an input is not wallet ${vp.wallet.name}'s own`);
  }
  if (view.outputs.some((o) => o.change && !o.changeVerified)) {
    throw refuse('change-not-wallet', 'an output claims to be change but is not the wallet’s');
  }
  const paid = view.outputs
    .filter((o) => !o.changeVerified)
    .map((o) => ({ address: o.address ?? '(script)', amount: o.amount }));
  // Sweeps and refills: each claimed own-wallet output must be derived by that wallet's
  // descriptor, as listed in the signed policy.
  const sweepOuts: { address: string; amount: number }[] = [];
  for (const sw of ev.sweeps) {
    const own = vp.ownWallets.find((x: WalletRef) => x.name === sw.wallet);
    if (!own || own.network !== vp.wallet.network) {
      throw refuse(
        'sweep-not-own-wallet',
        `a sweep pays "${sw.wallet}", which the signed policy of ${vp.wallet.name} does not list as its own`,
      );
    }
    let address: string;
    try {
      const d = makeDeriver(
        parseMultisigDescriptor(own.descriptor, { requireChecksum: true }),
        net,
        i.pointAddScalar ? { pointAddScalar: i.pointAddScalar } : {},
      );
      if (sw.branch !== 0 && sw.branch !== 1) throw new Error('branch');
      address = d.derive(sw.index, sw.branch).address;
    } catch {
      throw refuse('evidence-malformed', `a sweep to ${sw.wallet} names a bad derivation`);
    }
    if (address !== sw.address) {
      throw refuse('sweep-not-own-wallet', `${sw.address} is not ${sw.wallet}'s own address`);
    }
    sweepOuts.push({ address: sw.address, amount: sw.amount });
  }
  const claimed = [...ev.withdrawals.flatMap((w) => w.statement.outputs), ...sweepOuts];
  if (canonicalJson(sameOutputs(claimed)) !== canonicalJson(sameOutputs(paid))) {
    throw refuse(
      'outputs-not-approved',
      'the outputs are not exactly the approved withdrawals and sweeps: nothing signed',
    );
  }
  const ids = ev.withdrawals.map((w) => w.statement.withdrawal);
  if (new Set(ids).size !== ids.length) {
    throw refuse('outputs-not-approved', 'the same withdrawal twice in one transaction');
  }
  const mine = i.ledger.filter((l) => l.wallet === vp.wallet.name && l.txid !== view.txid);
  // The ledger may hold thousands of lines: keep what the velocity rules count, exactly.
  let history: PastWithdrawal[] = compactHistory(
    vp.policy,
    mine.map((l) => ({ amount: l.payouts, requestedAt: l.at })),
    i.now,
  );
  for (const w of ev.withdrawals) {
    checkSignedWithdrawal(root, vp, w, {
      now: i.now,
      history,
      balance: view.inputTotal,
      verify,
    });
    const sum = w.statement.outputs.reduce((s, o) => s + o.amount, 0);
    history = [...history, { amount: sum, requestedAt: new Date(i.now).toISOString() }];
  }
  const swept = sweepOuts.reduce((s, o) => s + o.amount, 0);
  if (swept > 0) {
    const lim = vp.sweepLimits;
    if (lim.perTxSats !== undefined && swept > lim.perTxSats) {
      throw refuse('sweep-limit', `sweep of ${swept} sat is over its per-transaction limit`);
    }
    const dayAgo = i.now - 24 * 3600_000;
    const day = mine.filter((l) => Date.parse(l.at) > dayAgo).reduce((s, l) => s + l.sweeps, 0);
    if (lim.velocity24hSats !== undefined && day + swept > lim.velocity24hSats) {
      throw refuse('sweep-limit', `sweeps of ${day + swept} sat in 24 h are over their limit`);
    }
  }
  return {
    ok: true,
    wallet: vp.wallet.name,
    txid: view.txid,
    policyVersion: vp.version,
    withdrawals: ids,
    ledgerEntry: {
      txid: view.txid,
      at: new Date(i.now).toISOString(),
      wallet: vp.wallet.name,
      payouts: claimed.reduce((s, o) => s + o.amount, 0) - swept,
      sweeps: swept,
    },
  };
}

/** Parse a JSON-lines ledger; a torn last line (crash mid-append) is ignored, others refuse. */
export function parseLedger(text: string): LedgerEntry[] {
  const lines = text.split('\n').filter((l) => l.trim());
  const out: LedgerEntry[] = [];
  lines.forEach((l, n) => {
    try {
      const e = JSON.parse(l) as LedgerEntry;
      if (typeof e.txid !== 'string' || typeof e.at !== 'string') throw new Error('shape');
      out.push(e);
    } catch {
      if (n !== lines.length - 1 || text.endsWith('\n')) {
        throw refuse('evidence-malformed', `ledger line ${n + 1} is not a ledger entry`);
      }
    }
  });
  return out;
}
