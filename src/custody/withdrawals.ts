/**
 * Withdrawals: request, approve, list, build, hot signing and broadcast. Every authority
 * (request, approval, policy) is a signature checked here. Not the chain follower.
 */
import { MamoriError } from '../shared/errors.js';
import { issueAddress } from './addresses.js';
import {
  appendAudit,
  type CustodyContext,
  type Db,
  inTx,
  raiseIfForged,
  type Trx,
} from './context.js';
import { formatBtc } from './core/amount.js';
import type { ChainAdapter } from './core/chain.js';
import { DEFAULT_MIN_CONF, notSpendable } from './core/coins.js';
import type { Evidence } from './core/cosign.js';
import { bytesToHex, hexToBytes } from './core/descriptor.js';
import { embedEvidence } from './core/evidence-field.js';
import { network } from './core/network.js';
import { type Decision, emptyPolicy, evaluateBatch, quorum } from './core/policy.js';
import {
  buildWithdrawal as buildPsbt,
  decodePsbt,
  encodePsbt,
  finalizePsbt,
  inspectPsbt,
  signPsbt,
} from './core/psbt.js';
import type { Signature } from './core/trust.js';
import { assertNotFrozen, getState } from './freeze.js';
import { unlockKeyFile } from './keyfile.js';
import { getPolicy } from './policy.js';
import {
  alertRefusedUnknown,
  approveSigned,
  checkWithEvidence,
  evidenceOf,
  signHotChecked,
  signRequest,
} from './signed.js';
import { verifiedPolicyOf } from './trust.js';
import { getWallet, hotKeyOf, walletDeriver } from './wallets.js';

export interface WithdrawalRow {
  id: number;
  wallet: string;
  /** The first payee; `amount` is the total of all of them. */
  to: string;
  amount: number;
  /** Every payee (one for a plain request, several for a batch). */
  outputs: { address: string; amount: number }[];
  status: string;
  decision: Decision;
  approvals: string[];
  requestedBy: string;
  requestedAt: string;
  eligibleAt: string | null;
  psbtId: number | null;
  txid: string | null;
}

export async function withdrawalRow(db: Trx | Db, id: number): Promise<WithdrawalRow> {
  const r = await db
    .selectFrom('custody_withdrawal')
    .innerJoin('custody_wallet', 'custody_wallet.id', 'custody_withdrawal.wallet_id')
    .selectAll('custody_withdrawal')
    .select('custody_wallet.name as wallet')
    .where('custody_withdrawal.id', '=', id)
    .executeTakeFirst();
  if (!r) throw new MamoriError('E_NOT_FOUND', `no withdrawal ${id}`);
  const approvals = await db
    .selectFrom('custody_approval')
    .select('approver')
    .where('withdrawal_id', '=', id)
    .orderBy('id')
    .execute();
  return {
    id: Number(r.id),
    wallet: r.wallet,
    to: r.to_address,
    amount: Number(r.amount),
    outputs: r.outputs
      ? (JSON.parse(r.outputs) as { address: string; amount: number }[])
      : [{ address: r.to_address, amount: Number(r.amount) }],
    status: r.status,
    decision: JSON.parse(r.decision) as Decision,
    approvals: approvals.map((a) => a.approver),
    requestedBy: r.requested_by,
    requestedAt: r.requested_at,
    eligibleAt: r.eligible_at,
    psbtId: r.psbt_id === null ? null : Number(r.psbt_id),
    txid: r.txid,
  };
}

export const COUNTING = ['approved', 'pending', 'built', 'broadcast'];

/**
 * Ask the policy engine; the request is stored with its decision whatever it is.
 * @example const w = await requestWithdrawal(ctx, 'hot', addr, 50_000n, 'ops'); w.status
 */
export async function requestWithdrawal(
  c: CustodyContext,
  walletName: string,
  to: string,
  amount: bigint,
  by = c.signer?.id ?? c.actor ?? 'cli',
  opts: { expiresHours?: number } = {},
): Promise<WithdrawalRow> {
  return requestBatch(c, walletName, [{ address: to, amount }], by, opts);
}

/** The most payees one batch request may carry (a PSBT output count a node relays easily). */
export const MAX_BATCH_PAYEES = 2000;

/**
 * One withdrawal paying several payees (an exchange's batch payout, Bitcoin Core's `sendmany`):
 * one statement over every output, signed once by the requester and once by each approver. The
 * policy decides each output in turn as the cosigner will (`evaluateBatch`); the row keeps the
 * first address and the total, and the outputs.
 * @example await requestBatch(ctx, 'hot', [{ address, amount: 50_000n }, { address: b, amount: 1n }])
 */
export async function requestBatch(
  c: CustodyContext,
  walletName: string,
  payees: { address: string; amount: bigint }[],
  by = c.signer?.id ?? c.actor ?? 'cli',
  opts: { expiresHours?: number } = {},
): Promise<WithdrawalRow> {
  if (!payees.length) throw new MamoriError('E_INPUT', 'a withdrawal needs at least one payee');
  if (payees.length > MAX_BATCH_PAYEES) {
    throw new MamoriError(
      'E_INPUT',
      `${payees.length} payees: at most ${MAX_BATCH_PAYEES} in one request`,
    );
  }
  const seen = new Set<string>();
  for (const p of payees) {
    if (seen.has(p.address)) {
      throw new MamoriError(
        'E_INPUT',
        `${p.address} is paid twice in one request: add the amounts`,
      );
    }
    seen.add(p.address);
  }
  const out = await inTx(c, async (trx, at, actor) => {
    await assertNotFrozen(trx, c);
    const w = await getWallet(trx, walletName);
    // A bound wallet decides on its verified signed policy, never on the stored copy.
    const signed = w.genesisHash ? await verifiedPolicyOf(c, w, trx) : undefined;
    if (signed && !c.signer) {
      throw new MamoriError('E_AUTH', 'a withdrawal request is signed: pass --as <identity file>');
    }
    const { addressScript } = await import('./core/descriptor.js');
    for (const p of payees) {
      addressScript(p.address, network(w.network));
      if (p.amount <= 0n || p.amount > 21_000_000n * 100_000_000n) {
        throw new MamoriError(
          'E_INPUT',
          `amount ${formatBtc(p.amount)} is not a withdrawal amount`,
        );
      }
    }
    const outputs = payees.map((p) => ({ address: p.address, amount: Number(p.amount) }));
    const total = outputs.reduce((s, o) => s + o.amount, 0);
    if (total > 21_000_000 * 100_000_000) {
      throw new MamoriError('E_INPUT', `the payees add up to ${formatBtc(BigInt(total))} BTC`);
    }
    const policy = signed?.vp.policy ?? (await getPolicy(trx, w.id)) ?? emptyPolicy();
    const history = await trx
      .selectFrom('custody_withdrawal')
      .select(['amount', 'requested_at'])
      .where('wallet_id', '=', w.id)
      .where('status', 'in', COUNTING)
      // Sweeps to our own wallets have limits of their own, not the customers' velocity.
      .where('requested_by', '!=', 'sweep')
      .execute();
    const utxos = await trx
      .selectFrom('custody_utxo')
      .select('value')
      .where('wallet_id', '=', w.id)
      .where('spent_txid', 'is', null)
      .execute();
    const decision = evaluateBatch(policy, {
      outputs,
      now: Date.parse(at),
      history: history.map((h) => ({ amount: Number(h.amount), requestedAt: h.requested_at })),
      balance: utxos.reduce((s, u) => s + Number(u.value), 0),
    });
    const row = await trx
      .insertInto('custody_withdrawal')
      .values({
        wallet_id: w.id,
        to_address: outputs[0]!.address,
        amount: total,
        outputs: outputs.length > 1 ? JSON.stringify(outputs) : null,
        status: decision.outcome,
        decision: JSON.stringify(decision),
        requested_by: signed ? c.signer!.id : by,
        requested_at: at,
        eligible_at: decision.eligibleAt ?? null,
        psbt_id: null,
        txid: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    if (signed) {
      await signRequest(
        c,
        trx,
        w,
        Number(row.id),
        outputs,
        signed.vp.hash,
        signed.root,
        at,
        opts.expiresHours,
      );
    }
    await appendAudit(trx, at, actor, 'withdraw.request', {
      id: Number(row.id),
      wallet: w.name,
      to: outputs[0]!.address,
      amount: total,
      ...(outputs.length > 1 ? { payees: outputs.length } : {}),
      by: signed ? c.signer!.id : by,
      outcome: decision.outcome,
      rule: decision.rule,
    });
    return withdrawalRow(trx, Number(row.id));
  });
  const refused = refusedOutput(out);
  if (refused)
    await alertRefusedUnknown(c, out.wallet, refused.address, refused.amount, out.decision);
  return out;
}

/** The output a rejected batch was refused for (its reason names it), else the only one. */
function refusedOutput(w: WithdrawalRow): { address: string; amount: number } | undefined {
  if (w.status !== 'rejected') return undefined;
  const m = /^output (\d+) of /.exec(w.decision.reason);
  return m ? w.outputs[Number(m[1]) - 1] : w.outputs[0];
}

/** One named approval; the withdrawal becomes approved when its rule's quorum is met. */
export async function approveWithdrawal(
  c: CustodyContext,
  id: number,
  by?: string | Signature,
): Promise<WithdrawalRow> {
  return inTx(c, async (trx, at, actor) => {
    await assertNotFrozen(trx, c);
    const w = await withdrawalRow(trx, id);
    if (w.status !== 'pending') {
      throw new MamoriError('E_POLICY', `withdrawal ${id} is ${w.status}, not pending approval`);
    }
    const wallet = await getWallet(trx, w.wallet);
    if (wallet.genesisHash) {
      const r = await approveSigned(
        c,
        trx,
        wallet,
        id,
        at,
        typeof by === 'object' ? by : undefined,
      );
      if (r.met) {
        await trx
          .updateTable('custody_withdrawal')
          .set({ status: 'approved' })
          .where('id', '=', id)
          .execute();
      }
      await appendAudit(trx, at, actor, 'withdraw.approve', { id, by: r.by, quorumMet: r.met });
      return withdrawalRow(trx, id);
    }
    if (typeof by !== 'string') {
      throw new MamoriError('E_USAGE', 'an unbound wallet takes a named approver');
    }
    const req = w.decision.approvalsRequired!;
    if (!req.approvers.includes(by)) {
      throw new MamoriError(
        'E_AUTH',
        `"${by}" is not an approver for withdrawal ${id} (${req.approvers.join(', ')})`,
      );
    }
    if (by === w.requestedBy) {
      throw new MamoriError('E_POLICY', 'the requester may not approve their own withdrawal');
    }
    if (w.approvals.includes(by)) {
      throw new MamoriError('E_INPUT', `"${by}" has already approved withdrawal ${id}`);
    }
    await trx
      .insertInto('custody_approval')
      .values({ withdrawal_id: id, approver: by, at })
      .execute();
    const q = quorum(req, [...w.approvals, by]);
    if (q.met) {
      await trx
        .updateTable('custody_withdrawal')
        .set({ status: 'approved' })
        .where('id', '=', id)
        .execute();
    }
    await appendAudit(trx, at, actor, 'withdraw.approve', { id, by, quorumMet: q.met });
    return withdrawalRow(trx, id);
  });
}

export async function listWithdrawals(
  c: CustodyContext,
  filter: { wallet?: string; status?: string } = {},
): Promise<WithdrawalRow[]> {
  let q = c.store.db
    .selectFrom('custody_withdrawal')
    .innerJoin('custody_wallet', 'custody_wallet.id', 'custody_withdrawal.wallet_id')
    .select('custody_withdrawal.id')
    .orderBy('custody_withdrawal.id');
  if (filter.wallet) q = q.where('custody_wallet.name', '=', filter.wallet);
  if (filter.status) q = q.where('custody_withdrawal.status', '=', filter.status);
  const ids = await q.execute();
  const out: WithdrawalRow[] = [];
  for (const r of ids) out.push(await withdrawalRow(c.store.db, Number(r.id)));
  return out;
}

export interface BuiltWithdrawal {
  psbtId: number;
  psbt: string;
  txid: string;
  wallet: string;
  withdrawals: number[];
  fee: number;
  change: number;
  feeRate: number;
  inputs: number;
  /** Bound wallets: the signed evidence for the cosigners (`<psbt>.evidence.json`). */
  evidence?: Evidence;
}

/**
 * One PSBT batching approved, eligible withdrawals of one wallet (all of them, or `ids`).
 * @example await buildWithdrawals(ctx, { ids: [1, 2], feeRate: 2 })
 */
export async function buildWithdrawals(
  c: CustodyContext,
  opts: {
    ids?: number[];
    wallet?: string;
    feeRate?: number;
    chain?: ChainAdapter;
    /** Confirmations a third-party deposit needs before it is spent (default 1, as Core). */
    minConf?: number;
  },
): Promise<BuiltWithdrawal> {
  const minConf = opts.minConf ?? DEFAULT_MIN_CONF;
  if (!Number.isInteger(minConf) || minConf < 0) {
    throw new MamoriError('E_INPUT', `--min-conf ${minConf} is not a whole number ≥ 0`);
  }
  // The tip the confirmations count from: the node's when there is one, else the last sync.
  const tipNow = opts.chain ? await opts.chain.tipHeight() : undefined;
  let feeRate = opts.feeRate;
  if (feeRate === undefined && opts.chain) feeRate = await opts.chain.feeRate();
  if (feeRate === undefined) {
    throw new MamoriError('E_INPUT', 'no fee rate: the node has no estimate', {
      hint: 'pass --fee-rate <sat/vB>',
    });
  }
  const rate = feeRate;
  return inTx(c, async (trx, at, actor) => {
    await assertNotFrozen(trx, c);
    let q = trx
      .selectFrom('custody_withdrawal')
      .innerJoin('custody_wallet', 'custody_wallet.id', 'custody_withdrawal.wallet_id')
      .select([
        'custody_withdrawal.id',
        'custody_wallet.name as wallet',
        'custody_withdrawal.status',
      ])
      .orderBy('custody_withdrawal.id');
    if (opts.ids?.length) q = q.where('custody_withdrawal.id', 'in', opts.ids);
    else q = q.where('custody_withdrawal.status', '=', 'approved');
    if (opts.wallet) q = q.where('custody_wallet.name', '=', opts.wallet);
    const rows = await q.execute();
    if (opts.ids?.length && rows.length !== opts.ids.length) {
      throw new MamoriError('E_NOT_FOUND', 'some withdrawal ids do not exist');
    }
    const notApproved = rows.filter((r) => r.status !== 'approved');
    if (notApproved.length) {
      throw new MamoriError(
        'E_POLICY',
        `withdrawal ${notApproved.map((r) => `${r.id} is ${r.status}`).join(', ')}: only approved withdrawals are built`,
      );
    }
    if (!rows.length) throw new MamoriError('E_INPUT', 'no approved withdrawals to build');
    const wallets = [...new Set(rows.map((r) => r.wallet))];
    if (wallets.length > 1) {
      throw new MamoriError(
        'E_INPUT',
        `withdrawals from several wallets (${wallets.join(', ')}): build one wallet at a time`,
        {
          hint: 'pass --wallet <name>',
        },
      );
    }
    const w = await getWallet(trx, wallets[0]!);
    const ws = await Promise.all(rows.map((r) => withdrawalRow(trx, Number(r.id))));
    const early = ws.filter((x) => x.eligibleAt && Date.parse(x.eligibleAt) > Date.parse(at));
    if (early.length) {
      throw new MamoriError(
        'E_POLICY',
        `withdrawal ${early[0]!.id} is time-locked by policy until ${early[0]!.eligibleAt}`,
      );
    }
    const { deriver } = walletDeriver(w);
    const utxoRows = await trx
      .selectFrom('custody_utxo')
      .innerJoin('custody_address', 'custody_address.address', 'custody_utxo.address')
      .select([
        'custody_utxo.txid',
        'custody_utxo.vout',
        'custody_utxo.value',
        'custody_address.branch',
        'custody_address.idx',
        'custody_utxo.height',
        'custody_utxo.coinbase',
      ])
      .where('custody_utxo.wallet_id', '=', w.id)
      .where('custody_utxo.spent_txid', 'is', null)
      .execute();
    const tip = tipNow ?? (await getState<number>(trx, 'sync_height')) ?? -1;
    // Our own change: its transaction spent one of our coins (as the chain sync recorded it).
    const fundingTxids = [...new Set(utxoRows.map((u) => u.txid))];
    const own = new Set(
      fundingTxids.length
        ? (
            await trx
              .selectFrom('custody_utxo')
              .select('spent_txid')
              .where('spent_txid', 'in', fundingTxids)
              .execute()
          ).map((r) => r.spent_txid)
        : [],
    );
    const held: string[] = [];
    const spendableRows = utxoRows.filter((u) => {
      const why = notSpendable(
        {
          height: u.height === null ? null : Number(u.height),
          coinbase: u.coinbase === null ? null : Number(u.coinbase),
          own: own.has(u.txid),
        },
        tip,
        minConf,
      );
      if (why) held.push(`${u.txid}:${u.vout} (${why})`);
      return !why;
    });
    // Coins already promised to a built, unbroadcast PSBT are not offered twice.
    const reserved = new Set<string>();
    const open = await trx
      .selectFrom('custody_psbt')
      .select('psbt')
      .where('wallet_id', '=', w.id)
      .where('status', '=', 'built')
      .execute();
    for (const p of open) {
      for (const i of inspectPsbt(decodePsbt(p.psbt), network(w.network)).inputs)
        reserved.add(i.outpoint);
    }
    const utxos = spendableRows
      .filter((u) => !reserved.has(`${u.txid}:${u.vout}`))
      .map((u) => ({
        txid: u.txid,
        vout: Number(u.vout),
        value: Number(u.value),
        derived: deriver.derive(Number(u.idx), Number(u.branch)),
      }));
    const changeAddr = await issueAddress(trx, w, 1, 'change', at);
    let built: ReturnType<typeof buildPsbt>;
    try {
      built = buildPsbt({
        utxos,
        payees: ws.flatMap((x) => x.outputs),
        change: deriver.derive(changeAddr.index, 1),
        feeRate: rate,
        threshold: w.threshold,
        cosigners: w.cosigners,
        net: network(w.network),
      });
    } catch (e) {
      if (e instanceof MamoriError && held.length && e.details?.reason === 'insufficient-funds') {
        throw new MamoriError('E_INPUT', `${e.message}; ${held.length} coin(s) not spendable yet`, {
          hint: `held back: ${held.slice(0, 5).join('; ')}${held.length > 5 ? '; …' : ''} (--min-conf ${minConf}; a coinbase needs 100)`,
          details: { reason: 'coins-not-spendable', held },
        });
      }
      throw e;
    }
    let psbt = encodePsbt(decodePsbt(built.psbt));
    // A bound wallet's PSBT must pass the cosigner's own check before it is even recorded.
    const evidence = w.genesisHash
      ? await evidenceOf(
          c,
          trx,
          w,
          ws.map((x) => x.id),
        )
      : undefined;
    if (evidence) {
      await checkWithEvidence(c, trx, w, psbt, evidence);
      // and carries its evidence inside, so one file reaches an air-gapped cosigner
      const tx = decodePsbt(psbt);
      embedEvidence(tx, evidence);
      psbt = encodePsbt(tx);
    }
    const ins = await trx
      .insertInto('custody_psbt')
      .values({
        wallet_id: w.id,
        txid: built.txid,
        psbt,
        withdrawal_ids: JSON.stringify(ws.map((x) => x.id)),
        fee: built.fee,
        status: 'built',
        created_at: at,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await trx
      .updateTable('custody_withdrawal')
      .set({ status: 'built', psbt_id: Number(ins.id), txid: built.txid })
      .where(
        'id',
        'in',
        ws.map((x) => x.id),
      )
      .execute();
    await appendAudit(trx, at, actor, 'withdraw.build', {
      psbtId: Number(ins.id),
      txid: built.txid,
      withdrawals: ws.map((x) => x.id),
      fee: built.fee,
    });
    return {
      psbtId: Number(ins.id),
      psbt,
      txid: built.txid,
      wallet: w.name,
      withdrawals: ws.map((x) => x.id),
      fee: built.fee,
      change: built.change,
      feeRate: rate,
      inputs: built.inputs.length,
      ...(evidence ? { evidence } : {}),
    };
  });
}

/** Sign a built PSBT with the wallet's online hot key (passphrase from the caller). */
export async function signWithHotKey(
  c: CustodyContext,
  psbtText: string,
  passphrase: string,
  opts: { evidence?: Evidence; genesis?: unknown; genesisHash?: string } = {},
): Promise<{ psbt: string; signed: number; wallet: string }> {
  await assertNotFrozen(c.store.db, c);
  const tx = decodePsbt(psbtText);
  const bound = await c.store.db
    .selectFrom('custody_psbt')
    .innerJoin('custody_wallet', 'custody_wallet.id', 'custody_psbt.wallet_id')
    .select('custody_wallet.genesis_hash')
    .where('custody_psbt.txid', '=', tx.id)
    .executeTakeFirst();
  if (bound?.genesis_hash || opts.evidence) {
    try {
      return await signHotChecked(c, psbtText, passphrase, opts);
    } catch (e) {
      await raiseIfForged(c, e);
      throw e;
    }
  }
  if (bound) {
    throw new MamoriError(
      'E_POLICY',
      'the wallet is bound to no trust root: the hot key signs only what the cosigner check passes',
      {
        hint: 'create wallets with --trust <genesis.json>',
        details: { reason: 'untrusted-wallet' },
      },
    );
  }
  const row = await c.store.db
    .selectFrom('custody_psbt')
    .innerJoin('custody_wallet', 'custody_wallet.id', 'custody_psbt.wallet_id')
    .select(['custody_wallet.name as wallet', 'custody_psbt.status'])
    .where('custody_psbt.txid', '=', tx.id)
    .executeTakeFirst();
  if (row?.status !== 'built') {
    throw new MamoriError(
      'E_POLICY',
      'the hot key signs only PSBTs that Mamori built from approved withdrawals',
      {
        details: { txid: tx.id },
      },
    );
  }
  const master = await unlockKeyFile(await hotKeyOf(c, row.wallet), passphrase);
  try {
    const signed = signPsbt(tx, master);
    const out = encodePsbt(tx);
    await inTx(c, (trx, at, actor) =>
      appendAudit(trx, at, actor, 'psbt.sign-hot', { txid: tx.id, signed }),
    );
    return { psbt: out, signed, wallet: row.wallet };
  } finally {
    master.wipePrivateData();
  }
}

/**
 * Finalize (if a PSBT) and broadcast; marks our withdrawals broadcast. A raw transaction hex
 * is passed through as is (the node judges it).
 */
export async function broadcast(
  c: CustodyContext,
  chain: ChainAdapter,
  psbtOrTx: string,
): Promise<{ txid: string; ours: boolean }> {
  const text = psbtOrTx.trim();
  const { Transaction } = await import('@scure/btc-signer');
  let hex: string | undefined;
  let parsed: InstanceType<typeof Transaction>;
  try {
    if (/^70736274ff/i.test(text) || text.startsWith('cHNidP')) parsed = decodePsbt(text);
    else if (/^[0-9a-fA-F]+$/.test(text)) {
      hex = text.toLowerCase();
      parsed = Transaction.fromRaw(hexToBytes(hex), {
        allowUnknownOutputs: true,
        disableScriptCheck: true,
      });
    } else throw new MamoriError('E_INPUT', 'not a PSBT (base64/hex) or a raw transaction (hex)');
  } catch (e) {
    if (e instanceof MamoriError) throw e;
    throw new MamoriError('E_INPUT', 'not a valid transaction', { cause: e });
  }
  const txid = parsed.id;
  const spends: { txid: string; vout: number }[] = [];
  for (let i = 0; i < parsed.inputsLength; i++) {
    const inp = parsed.getInput(i);
    spends.push({ txid: bytesToHex(inp.txid!), vout: inp.index! });
  }
  const row = await c.store.db
    .selectFrom('custody_psbt')
    .select(['id', 'status'])
    .where('txid', '=', txid)
    .executeTakeFirst();
  // While frozen, nothing that spends our coins leaves through Mamori, ours or not.
  let spendsOurs = Boolean(row);
  for (const s of spends) {
    if (spendsOurs) break;
    const u = await c.store.db
      .selectFrom('custody_utxo')
      .select('id')
      .where('txid', '=', s.txid)
      .where('vout', '=', s.vout)
      .executeTakeFirst();
    spendsOurs = Boolean(u);
  }
  if (spendsOurs) await assertNotFrozen(c.store.db, c);
  if (hex === undefined) {
    finalizePsbt(parsed);
    hex = bytesToHex(parsed.extract());
  }
  const sent = await chain.broadcast(hex);
  if (row) {
    await inTx(c, async (trx, at, actor) => {
      await trx
        .updateTable('custody_psbt')
        .set({ status: 'broadcast' })
        .where('id', '=', Number(row.id))
        .execute();
      await trx
        .updateTable('custody_withdrawal')
        .set({ status: 'broadcast' })
        .where('psbt_id', '=', Number(row.id))
        .execute();
      await appendAudit(trx, at, actor, 'broadcast', { txid });
    });
  }
  return { txid: sent || txid, ours: Boolean(row) };
}
