/**
 * The custody engine's shell: wallets, addresses, policy, withdrawals, PSBTs, freeze and the
 * audit log over the store, calling the pure core for every decision. Every state change runs
 * in one transaction together with its audit entry. Not the chain follower: see `watch.ts`.
 */
import { type Clock, isoUtc, systemClock } from '../shared/clock.js';
import { MamoriError } from '../shared/errors.js';
import type { Store } from '../storage/index.js';
import { formatBtc } from './core/amount.js';
import { type AuditEntry, canonicalJson, entryHash, GENESIS, verifyChain } from './core/audit.js';
import type { ChainAdapter } from './core/chain.js';
import {
  bytesToHex,
  type Deriver,
  formatDescriptor,
  hexToBytes,
  type MultisigDescriptor,
  makeDeriver,
  parseKey,
  parseMultisigDescriptor,
} from './core/descriptor.js';
import { network } from './core/network.js';
import {
  approverQuorum,
  compilePolicy,
  type Decision,
  emptyPolicy,
  evaluate,
  type Policy,
  type PolicyFlags,
  parsePolicy,
  quorum,
} from './core/policy.js';
import {
  buildWithdrawal as buildPsbt,
  decodePsbt,
  encodePsbt,
  finalizePsbt,
  inspectPsbt,
  signPsbt,
} from './core/psbt.js';
import { type KeyFile, parseKeyFile, unlockKeyFile } from './keyfile.js';

export type Tier = 'hot' | 'warm' | 'cold';
export const TIERS: Tier[] = ['hot', 'warm', 'cold'];

export interface CustodyContext {
  store: Store;
  clock?: Clock;
  /** Who is acting (for the audit log); default "cli". */
  actor?: string;
}

type Db = Store['db'];
type Trx = Parameters<Parameters<ReturnType<Db['transaction']>['execute']>[0]>[0];

const now = (c: CustodyContext) => (c.clock ?? systemClock).now();

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

async function inTx<T>(
  c: CustodyContext,
  fn: (trx: Trx, at: string, actor: string) => Promise<T>,
): Promise<T> {
  const at = isoUtc(now(c));
  return c.store.db.transaction().execute((trx) => fn(trx, at, c.actor ?? 'cli'));
}

// ---------------------------------------------------------------- state: freeze

export interface FreezeState {
  frozen: boolean;
  since?: string;
  reason?: string;
  txid?: string;
  votes?: string[];
}

async function getState<T>(db: Trx | Db, key: string): Promise<T | undefined> {
  const row = await db
    .selectFrom('custody_state')
    .select('value')
    .where('key', '=', key)
    .executeTakeFirst();
  return row ? (JSON.parse(row.value) as T) : undefined;
}

async function setState(db: Trx | Db, key: string, value: unknown): Promise<void> {
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

async function assertNotFrozen(db: Trx | Db): Promise<void> {
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

// ---------------------------------------------------------------- wallets

export interface WalletRow {
  id: number;
  name: string;
  tier: Tier;
  network: string;
  threshold: number;
  cosigners: number;
  descriptor: string;
  hasHotKey: boolean;
  nextReceive: number;
  nextChange: number;
  gapLimit: number;
  floatCap: number | null;
  createdAt: string;
}

// biome-ignore lint/suspicious/noExplicitAny: a row from either backend
function walletRow(r: any): WalletRow {
  return {
    id: Number(r.id),
    name: r.name,
    tier: r.tier,
    network: r.network,
    threshold: Number(r.threshold),
    cosigners: Number(r.cosigners),
    descriptor: r.descriptor,
    hasHotKey: Boolean(r.hot_key),
    nextReceive: Number(r.next_receive),
    nextChange: Number(r.next_change),
    gapLimit: Number(r.gap_limit),
    floatCap: r.float_cap === null ? null : Number(r.float_cap),
    createdAt: r.created_at,
  };
}

const derivers = new Map<string, { desc: MultisigDescriptor; deriver: Deriver }>();

/** Parsed descriptor and a cached deriver for a wallet. */
export function walletDeriver(w: { descriptor: string; network: string }) {
  const key = `${w.network}:${w.descriptor}`;
  let d = derivers.get(key);
  if (!d) {
    const desc = parseMultisigDescriptor(w.descriptor, { requireChecksum: true });
    d = { desc, deriver: makeDeriver(desc, network(w.network)) };
    derivers.set(key, d);
  }
  return d;
}

export interface CreateWalletInput {
  name: string;
  tier: string;
  threshold: number;
  xpubs: string[];
  network?: string;
  hotKey?: KeyFile;
  gapLimit?: number;
}

/**
 * Create a `wsh(sortedmulti(M, …/<0;1>/*))` wallet from origin xpubs.
 * @example await createWallet(ctx, { name: 'hot', tier: 'hot', threshold: 2, xpubs, network: 'regtest' })
 */
export async function createWallet(c: CustodyContext, w: CreateWalletInput): Promise<WalletRow> {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(w.name)) {
    throw new MamoriError('E_INPUT', `wallet name "${w.name}" must be 1–64 of A-Z a-z 0-9 _ . -`);
  }
  if (!TIERS.includes(w.tier as Tier)) {
    throw new MamoriError('E_INPUT', `tier must be hot, warm or cold, not "${w.tier}"`);
  }
  const net = network(w.network ?? 'mainnet');
  const n = w.xpubs.length;
  if (n < 1 || n > 20)
    throw new MamoriError('E_INPUT', `a wallet needs 1 to 20 cosigners, not ${n}`);
  if (!Number.isInteger(w.threshold) || w.threshold < 1 || w.threshold > n) {
    throw new MamoriError('E_INPUT', `threshold must be between 1 and ${n}, not ${w.threshold}`);
  }
  const wantPrefix = net.name === 'mainnet' ? 'xpub' : 'tpub';
  const keys = w.xpubs.map((x) => {
    const text = x.trim();
    if (!/^\[[0-9a-fA-F]{8}(\/\d+['h]?)*\][xt]pub[1-9A-HJ-NP-Za-km-z]+$/.test(text)) {
      throw new MamoriError('E_INPUT', `not an origin xpub: "${text.slice(0, 24)}…"`, {
        hint: "use the [fingerprint/48'/coin'/0'/2']xpub… line printed by mamori custody key new",
      });
    }
    const k = parseKey(text);
    if (!k.hd || k.hasPrivate) throw new MamoriError('E_INPUT', 'cosigner keys must be public');
    if (!k.text.startsWith(wantPrefix)) {
      throw new MamoriError(
        'E_INPUT',
        `${k.text.slice(0, 4)} key on ${net.name}: expected ${wantPrefix}`,
        {
          hint: 'the key was made for another network (--network)',
        },
      );
    }
    return `${text}/<0;1>/*`;
  });
  if (new Set(keys.map((k) => k.replace(/^\[[^\]]+\]/, ''))).size !== keys.length) {
    throw new MamoriError('E_INPUT', 'the same xpub is given twice');
  }
  const descriptor = formatDescriptor(
    parseMultisigDescriptor(`wsh(sortedmulti(${w.threshold},${keys.join(',')}))`),
  );
  walletDeriver({ descriptor, network: net.name }).deriver.derive(0, 0); // fails early if bad
  if (w.hotKey) {
    if (w.tier !== 'hot') {
      throw new MamoriError('E_INPUT', 'only a hot wallet may keep a cosigner key online');
    }
    if (!w.xpubs.some((x) => x.includes(w.hotKey!.public.xpub))) {
      throw new MamoriError('E_INPUT', 'the hot key belongs to no cosigner of this wallet');
    }
  }
  return inTx(c, async (trx, at, actor) => {
    const exists = await trx
      .selectFrom('custody_wallet')
      .select('id')
      .where('name', '=', w.name)
      .executeTakeFirst();
    if (exists) throw new MamoriError('E_INPUT', `wallet "${w.name}" already exists`);
    const row = await trx
      .insertInto('custody_wallet')
      .values({
        name: w.name,
        tier: w.tier,
        network: net.name,
        threshold: w.threshold,
        cosigners: n,
        descriptor,
        hot_key: w.hotKey ? JSON.stringify(w.hotKey) : null,
        gap_limit: w.gapLimit ?? 20,
        float_cap: null,
        created_at: at,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await appendAudit(trx, at, actor, 'wallet.create', {
      name: w.name,
      tier: w.tier,
      descriptor,
      hotKey: Boolean(w.hotKey),
    });
    return walletRow(row);
  });
}

export async function getWallet(c: CustodyContext | Trx | Db, name: string): Promise<WalletRow> {
  const db = 'store' in c ? c.store.db : c;
  const r = await db
    .selectFrom('custody_wallet')
    .selectAll()
    .where('name', '=', name)
    .executeTakeFirst();
  if (!r) {
    throw new MamoriError('E_NOT_FOUND', `no wallet named "${name}"`, {
      hint: 'list them with: mamori custody tiers',
    });
  }
  return walletRow(r);
}

export async function listWallets(c: CustodyContext): Promise<WalletRow[]> {
  const rows = await c.store.db.selectFrom('custody_wallet').selectAll().orderBy('id').execute();
  return rows.map(walletRow);
}

/** The descriptor (multipath) and its receive/change halves, for Core and Sparrow. */
export async function exportWallet(c: CustodyContext, name: string) {
  const w = await getWallet(c, name);
  const { desc } = walletDeriver(w);
  return {
    name: w.name,
    network: w.network,
    tier: w.tier,
    threshold: w.threshold,
    cosigners: w.cosigners,
    descriptor: w.descriptor,
    receive: formatDescriptor(desc, 0),
    change: formatDescriptor(desc, 1),
  };
}

/** The hot wallet's encrypted cosigner key file (still encrypted). */
export async function hotKeyOf(c: CustodyContext, name: string): Promise<KeyFile> {
  const r = await c.store.db
    .selectFrom('custody_wallet')
    .select('hot_key')
    .where('name', '=', name)
    .executeTakeFirst();
  if (!r?.hot_key) throw new MamoriError('E_NOT_FOUND', `wallet "${name}" has no online hot key`);
  return parseKeyFile(r.hot_key, `wallet ${name} hot key`);
}

// ---------------------------------------------------------------- addresses

export interface AddressRow {
  wallet: string;
  branch: number;
  index: number;
  address: string;
  label: string | null;
  createdAt: string;
  received?: number;
}

async function issueAddress(
  trx: Trx,
  w: WalletRow,
  branch: 0 | 1,
  label: string | null,
  at: string,
): Promise<AddressRow & { script: string }> {
  const index = branch === 0 ? w.nextReceive : w.nextChange;
  const d = walletDeriver(w).deriver.derive(index, branch);
  await trx
    .insertInto('custody_address')
    .values({
      wallet_id: w.id,
      branch,
      idx: index,
      address: d.address,
      script: bytesToHex(d.script),
      label,
      created_at: at,
    })
    .execute();
  await trx
    .updateTable('custody_wallet')
    .set(branch === 0 ? { next_receive: index + 1 } : { next_change: index + 1 })
    .where('id', '=', w.id)
    .execute();
  return {
    wallet: w.name,
    branch,
    index,
    address: d.address,
    label,
    createdAt: at,
    script: bytesToHex(d.script),
  };
}

/**
 * A fresh deposit address; refused (E_POLICY) when `gapLimit` issued addresses in a row have
 * never received anything, since a wallet restored from the xpubs would not look past them.
 */
export async function newAddress(
  c: CustodyContext,
  walletName: string,
  label?: string,
): Promise<AddressRow & { unusedInRow: number; gapLimit: number }> {
  return inTx(c, async (trx, at, actor) => {
    const w = await getWallet(trx, walletName);
    const used = await trx
      .selectFrom('custody_utxo')
      .innerJoin('custody_address', 'custody_address.address', 'custody_utxo.address')
      .select((eb) => eb.fn.max('custody_address.idx').as('maxIdx'))
      .where('custody_address.wallet_id', '=', w.id)
      .where('custody_address.branch', '=', 0)
      .executeTakeFirst();
    const lastUsed = used?.maxIdx === null || used?.maxIdx === undefined ? -1 : Number(used.maxIdx);
    const unusedInRow = w.nextReceive - lastUsed - 1;
    if (unusedInRow >= w.gapLimit) {
      throw new MamoriError(
        'E_POLICY',
        `${unusedInRow} addresses in a row are unused (gap limit ${w.gapLimit})`,
        { hint: 'reuse an unused address (address list) or wait for deposits' },
      );
    }
    const a = await issueAddress(trx, w, 0, label ?? null, at);
    await appendAudit(trx, at, actor, 'address.new', {
      wallet: w.name,
      index: a.index,
      address: a.address,
      label: a.label,
    });
    const { script: _s, ...rest } = a;
    return { ...rest, unusedInRow: unusedInRow + 1, gapLimit: w.gapLimit };
  });
}

export async function listAddresses(c: CustodyContext, walletName?: string): Promise<AddressRow[]> {
  let q = c.store.db
    .selectFrom('custody_address')
    .innerJoin('custody_wallet', 'custody_wallet.id', 'custody_address.wallet_id')
    .select([
      'custody_wallet.name as wallet',
      'custody_address.branch',
      'custody_address.idx',
      'custody_address.address',
      'custody_address.label',
      'custody_address.created_at',
    ])
    .orderBy('custody_wallet.id')
    .orderBy('custody_address.branch')
    .orderBy('custody_address.idx');
  if (walletName) q = q.where('custody_wallet.name', '=', walletName);
  const rows = await q.execute();
  const recv = await c.store.db
    .selectFrom('custody_utxo')
    .select(['address', (eb) => eb.fn.sum<number>('value').as('total')])
    .groupBy('address')
    .execute();
  const byAddr = new Map(recv.map((r) => [r.address, Number(r.total)]));
  return rows.map((r) => ({
    wallet: r.wallet,
    branch: Number(r.branch),
    index: Number(r.idx),
    address: r.address,
    label: r.label,
    createdAt: r.created_at,
    received: byAddr.get(r.address) ?? 0,
  }));
}

// ---------------------------------------------------------------- policy

export async function getPolicy(db: Trx | Db, walletId: number): Promise<Policy | undefined> {
  const r = await db
    .selectFrom('custody_policy')
    .select('rules')
    .where('wallet_id', '=', walletId)
    .executeTakeFirst();
  return r ? parsePolicy(JSON.parse(r.rules)) : undefined;
}

/**
 * Replace a wallet's policy: from flags (compiled onto the existing whitelist) or a document.
 * @example await setPolicy(ctx, 'hot', { flags: { limitSats: 1e8, approvers: ['a', 'b'], quorum: 2 } })
 */
export async function setPolicy(
  c: CustodyContext,
  walletName: string,
  input: { flags?: PolicyFlags; document?: unknown },
): Promise<Policy> {
  return inTx(c, async (trx, at, actor) => {
    await assertNotFrozen(trx);
    const w = await getWallet(trx, walletName);
    const net = network(w.network);
    const base = (await getPolicy(trx, w.id)) ?? emptyPolicy();
    const policy = input.document
      ? parsePolicy(input.document)
      : compilePolicy(base, input.flags ?? {}, at);
    const { addressScript } = await import('./core/descriptor.js');
    for (const e of policy.whitelist) addressScript(e.address, net); // wrong network → E_INPUT
    const text = JSON.stringify(policy);
    const done = await trx
      .updateTable('custody_policy')
      .set({ rules: text, updated_at: at })
      .where('wallet_id', '=', w.id)
      .executeTakeFirst();
    if (Number(done.numUpdatedRows) === 0) {
      await trx
        .insertInto('custody_policy')
        .values({ wallet_id: w.id, rules: text, updated_at: at })
        .execute();
    }
    if (policy.hotFloatCap !== undefined) {
      await trx
        .updateTable('custody_wallet')
        .set({ float_cap: policy.hotFloatCap })
        .where('id', '=', w.id)
        .execute();
    }
    await appendAudit(trx, at, actor, 'policy.set', { wallet: w.name, policy });
    return policy;
  });
}

export async function showPolicies(c: CustodyContext, walletName?: string) {
  const ws = walletName ? [await getWallet(c, walletName)] : await listWallets(c);
  const out: { wallet: string; tier: string; policy: Policy | null }[] = [];
  for (const w of ws)
    out.push({ wallet: w.name, tier: w.tier, policy: (await getPolicy(c.store.db, w.id)) ?? null });
  return out;
}

// ---------------------------------------------------------------- balances

export interface Balance {
  wallet: string;
  tier: Tier;
  confirmed: number;
  unconfirmed: number;
  total: number;
  floatCap: number | null;
}

export async function balances(c: CustodyContext, walletName?: string): Promise<Balance[]> {
  const ws = walletName ? [await getWallet(c, walletName)] : await listWallets(c);
  const out: Balance[] = [];
  for (const w of ws) {
    const rows = await c.store.db
      .selectFrom('custody_utxo')
      .select(['value', 'height'])
      .where('wallet_id', '=', w.id)
      .where('spent_txid', 'is', null)
      .execute();
    const confirmed = rows
      .filter((r) => r.height !== null)
      .reduce((s, r) => s + Number(r.value), 0);
    const unconfirmed = rows
      .filter((r) => r.height === null)
      .reduce((s, r) => s + Number(r.value), 0);
    out.push({
      wallet: w.name,
      tier: w.tier,
      confirmed,
      unconfirmed,
      total: confirmed + unconfirmed,
      floatCap: w.floatCap,
    });
  }
  return out;
}

export interface TierSummary {
  tier: Tier;
  wallets: number;
  confirmed: number;
  unconfirmed: number;
  total: number;
}

/** Per-tier totals and the hot float against its cap (the custody posture). */
export async function tiers(c: CustodyContext) {
  const bs = await balances(c);
  const summary: TierSummary[] = TIERS.map((tier) => {
    const of = bs.filter((b) => b.tier === tier);
    return {
      tier,
      wallets: of.length,
      confirmed: of.reduce((s, b) => s + b.confirmed, 0),
      unconfirmed: of.reduce((s, b) => s + b.unconfirmed, 0),
      total: of.reduce((s, b) => s + b.total, 0),
    };
  });
  const hot = bs.filter((b) => b.tier === 'hot');
  const capped = hot.filter((b) => b.floatCap !== null);
  const hotFloat = hot.reduce((s, b) => s + b.total, 0);
  const hotFloatCap = capped.length ? capped.reduce((s, b) => s + (b.floatCap ?? 0), 0) : null;
  const all = summary.reduce((s, t) => s + t.total, 0);
  const policies = await c.store.db.selectFrom('custody_policy').select('wallet_id').execute();
  return {
    tiers: summary,
    wallets: bs,
    hotFloat,
    hotFloatCap,
    overCap: hotFloatCap !== null && hotFloat > hotFloatCap,
    hotShare: all > 0 ? hotFloat / all : 0,
    policyCoverage: bs.length ? policies.length / bs.length : 0,
    frozen: (await freezeState(c)).frozen,
  };
}

// ---------------------------------------------------------------- withdrawals

export interface WithdrawalRow {
  id: number;
  wallet: string;
  to: string;
  amount: number;
  status: string;
  decision: Decision;
  approvals: string[];
  requestedBy: string;
  requestedAt: string;
  eligibleAt: string | null;
  psbtId: number | null;
  txid: string | null;
}

async function withdrawalRow(db: Trx | Db, id: number): Promise<WithdrawalRow> {
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

const COUNTING = ['approved', 'pending', 'built', 'broadcast'];

/**
 * Ask the policy engine; the request is stored with its decision whatever it is.
 * @example const w = await requestWithdrawal(ctx, 'hot', addr, 50_000n, 'ops'); w.status
 */
export async function requestWithdrawal(
  c: CustodyContext,
  walletName: string,
  to: string,
  amount: bigint,
  by = c.actor ?? 'cli',
): Promise<WithdrawalRow> {
  return inTx(c, async (trx, at, actor) => {
    await assertNotFrozen(trx);
    const w = await getWallet(trx, walletName);
    const { addressScript } = await import('./core/descriptor.js');
    addressScript(to, network(w.network));
    if (amount <= 0n || amount > 21_000_000n * 100_000_000n) {
      throw new MamoriError('E_INPUT', `amount ${formatBtc(amount)} is not a withdrawal amount`);
    }
    const policy = (await getPolicy(trx, w.id)) ?? emptyPolicy();
    const history = await trx
      .selectFrom('custody_withdrawal')
      .select(['amount', 'requested_at'])
      .where('wallet_id', '=', w.id)
      .where('status', 'in', COUNTING)
      .execute();
    const utxos = await trx
      .selectFrom('custody_utxo')
      .select('value')
      .where('wallet_id', '=', w.id)
      .where('spent_txid', 'is', null)
      .execute();
    const decision = evaluate(policy, {
      to,
      amount: Number(amount),
      now: Date.parse(at),
      history: history.map((h) => ({ amount: Number(h.amount), requestedAt: h.requested_at })),
      balance: utxos.reduce((s, u) => s + Number(u.value), 0),
    });
    const row = await trx
      .insertInto('custody_withdrawal')
      .values({
        wallet_id: w.id,
        to_address: to,
        amount: Number(amount),
        status: decision.outcome,
        decision: JSON.stringify(decision),
        requested_by: by,
        requested_at: at,
        eligible_at: decision.eligibleAt ?? null,
        psbt_id: null,
        txid: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await appendAudit(trx, at, actor, 'withdraw.request', {
      id: Number(row.id),
      wallet: w.name,
      to,
      amount: Number(amount),
      by,
      outcome: decision.outcome,
      rule: decision.rule,
    });
    return withdrawalRow(trx, Number(row.id));
  });
}

/** One named approval; the withdrawal becomes approved when its rule's quorum is met. */
export async function approveWithdrawal(
  c: CustodyContext,
  id: number,
  by: string,
): Promise<WithdrawalRow> {
  return inTx(c, async (trx, at, actor) => {
    await assertNotFrozen(trx);
    const w = await withdrawalRow(trx, id);
    if (w.status !== 'pending') {
      throw new MamoriError('E_POLICY', `withdrawal ${id} is ${w.status}, not pending approval`);
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
}

/**
 * One PSBT batching approved, eligible withdrawals of one wallet (all of them, or `ids`).
 * @example await buildWithdrawals(ctx, { ids: [1, 2], feeRate: 2 })
 */
export async function buildWithdrawals(
  c: CustodyContext,
  opts: { ids?: number[]; wallet?: string; feeRate?: number; chain?: ChainAdapter },
): Promise<BuiltWithdrawal> {
  let feeRate = opts.feeRate;
  if (feeRate === undefined && opts.chain) feeRate = await opts.chain.feeRate();
  if (feeRate === undefined) {
    throw new MamoriError('E_INPUT', 'no fee rate: the node has no estimate', {
      hint: 'pass --fee-rate <sat/vB>',
    });
  }
  const rate = feeRate;
  return inTx(c, async (trx, at, actor) => {
    await assertNotFrozen(trx);
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
      ])
      .where('custody_utxo.wallet_id', '=', w.id)
      .where('custody_utxo.spent_txid', 'is', null)
      .execute();
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
    const utxos = utxoRows
      .filter((u) => !reserved.has(`${u.txid}:${u.vout}`))
      .map((u) => ({
        txid: u.txid,
        vout: Number(u.vout),
        value: Number(u.value),
        derived: deriver.derive(Number(u.idx), Number(u.branch)),
      }));
    const changeAddr = await issueAddress(trx, w, 1, 'change', at);
    const built = buildPsbt({
      utxos,
      payees: ws.map((x) => ({ address: x.to, amount: x.amount })),
      change: deriver.derive(changeAddr.index, 1),
      feeRate: rate,
      threshold: w.threshold,
      cosigners: w.cosigners,
      net: network(w.network),
    });
    const psbt = encodePsbt(decodePsbt(built.psbt));
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
    };
  });
}

/** Sign a built PSBT with the wallet's online hot key (passphrase from the caller). */
export async function signWithHotKey(
  c: CustodyContext,
  psbtText: string,
  passphrase: string,
): Promise<{ psbt: string; signed: number; wallet: string }> {
  await assertNotFrozen(c.store.db);
  const tx = decodePsbt(psbtText);
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
  let hex: string;
  if (/^70736274ff/i.test(text) || text.startsWith('cHNidP')) {
    const tx = decodePsbt(text);
    finalizePsbt(tx);
    hex = bytesToHex(tx.extract());
  } else if (/^[0-9a-fA-F]+$/.test(text)) hex = text.toLowerCase();
  else throw new MamoriError('E_INPUT', 'not a PSBT (base64/hex) or a raw transaction (hex)');
  const { Transaction } = await import('@scure/btc-signer');
  let txid: string;
  try {
    txid = Transaction.fromRaw(hexToBytes(hex), {
      allowUnknownOutputs: true,
      disableScriptCheck: true,
    }).id;
  } catch (e) {
    throw new MamoriError('E_INPUT', 'not a valid transaction', { cause: e });
  }
  const row = await c.store.db
    .selectFrom('custody_psbt')
    .select(['id', 'status'])
    .where('txid', '=', txid)
    .executeTakeFirst();
  if (row) await assertNotFrozen(c.store.db);
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

// ---------------------------------------------------------------- chain sync

export interface SyncResult {
  height: number;
  blocks: number;
  /** Set when the node's chain no longer has blocks we had synced: the fork height. */
  reorg?: { forkHeight: number; dropped: number };
  received: { txid: string; vout: number; value: number; wallet: string }[];
  spent: { txid: string; vout: number; spentBy: string; approved: boolean }[];
}

/**
 * Follow the chain from the last synced height and the mempool: record our outputs and the
 * spends of them. Returns what changed (the watcher decides whether a spend is approved).
 */
export async function syncChain(
  c: CustodyContext,
  chain: ChainAdapter,
  opts: { mempool?: boolean; fromHeight?: number; seenMempool?: Set<string> } = {},
): Promise<SyncResult> {
  const addrRows = await c.store.db
    .selectFrom('custody_address')
    .innerJoin('custody_wallet', 'custody_wallet.id', 'custody_address.wallet_id')
    .select([
      'custody_address.script',
      'custody_address.address',
      'custody_wallet.id as wid',
      'custody_wallet.name',
    ])
    .execute();
  const byScript = new Map(addrRows.map((a) => [a.script, a]));
  const tip = await chain.tipHeight();
  // A new store starts at --from-height, else from genesis on a short (regtest) chain, else a day back.
  let last =
    (await getState<number>(c.store.db, 'sync_height')) ??
    (opts.fromHeight !== undefined ? opts.fromHeight - 1 : tip <= 2000 ? -1 : tip - 145);
  const result: SyncResult = { height: tip, blocks: 0, received: [], spent: [] };
  const at = isoUtc(now(c));
  // Reorg: walk back from what we synced until our block hash matches the node's again,
  // then forget what the orphaned blocks told us (outputs and spends above the fork).
  const hashes = (await getState<Record<string, string>>(c.store.db, 'sync_hashes')) ?? {};
  let fork = Math.min(last, tip);
  while (fork >= 0 && hashes[fork] !== undefined && hashes[fork] !== (await chain.blockHash(fork)))
    fork--;
  if (fork < last && last >= 0 && Object.keys(hashes).length) {
    await inTx(c, async (trx, at2, actor) => {
      const dropped = await trx
        .deleteFrom('custody_utxo')
        .where('height', '>', fork)
        .executeTakeFirst();
      await trx
        .updateTable('custody_utxo')
        .set({ spent_txid: null, spent_height: null })
        .where('spent_height', '>', fork)
        .execute();
      await setState(trx, 'sync_height', fork);
      for (const h of Object.keys(hashes)) if (Number(h) > fork) delete hashes[h];
      await setState(trx, 'sync_hashes', hashes);
      result.reorg = { forkHeight: fork, dropped: Number(dropped.numDeletedRows) };
      await appendAudit(trx, at2, actor, 'chain.reorg', { from: last, forkHeight: fork });
    });
    last = fork;
  }
  const approvedTxids = new Set(
    (
      await c.store.db
        .selectFrom('custody_psbt')
        .select('txid')
        .where('status', 'in', ['built', 'broadcast'])
        .execute()
    ).map((r) => r.txid),
  );
  const apply = async (txs: import('./core/chain.js').ChainTx[], height: number | null) => {
    for (const t of txs) {
      for (const v of t.vin) {
        const u = await c.store.db
          .selectFrom('custody_utxo')
          .select(['id', 'spent_txid'])
          .where('txid', '=', v.txid)
          .where('vout', '=', v.vout)
          .executeTakeFirst();
        if (!u) continue;
        if (u.spent_txid !== t.txid || height !== null) {
          await c.store.db
            .updateTable('custody_utxo')
            .set({ spent_txid: t.txid, spent_height: height })
            .where('id', '=', u.id)
            .execute();
        }
        if (u.spent_txid !== t.txid) {
          result.spent.push({
            txid: v.txid,
            vout: v.vout,
            spentBy: t.txid,
            approved: approvedTxids.has(t.txid),
          });
        }
      }
      for (const o of t.vout) {
        const a = byScript.get(o.script);
        if (!a) continue;
        const exists = await c.store.db
          .selectFrom('custody_utxo')
          .select(['id', 'height'])
          .where('txid', '=', t.txid)
          .where('vout', '=', o.n)
          .executeTakeFirst();
        if (exists) {
          if (exists.height === null && height !== null) {
            await c.store.db
              .updateTable('custody_utxo')
              .set({ height })
              .where('id', '=', exists.id)
              .execute();
          }
          continue;
        }
        await c.store.db
          .insertInto('custody_utxo')
          .values({
            wallet_id: Number(a.wid),
            txid: t.txid,
            vout: o.n,
            value: o.value,
            address: a.address,
            height,
            spent_txid: null,
            spent_height: null,
            seen_at: at,
          })
          .execute();
        result.received.push({ txid: t.txid, vout: o.n, value: o.value, wallet: a.name });
      }
    }
  };
  for (let h = Math.max(0, last + 1); h <= tip; h++) {
    const b = await chain.blockAt(h);
    await apply(b.txs, h);
    hashes[h] = b.hash;
    result.blocks++;
  }
  if (result.blocks) {
    for (const h of Object.keys(hashes)) if (Number(h) < tip - 100) delete hashes[h];
    await setState(c.store.db, 'sync_hashes', hashes);
    await setState(c.store.db, 'sync_height', tip);
  }
  if (opts.mempool !== false) {
    const seen = opts.seenMempool ?? new Set<string>();
    for (const txid of await chain.mempoolTxids()) {
      if (seen.has(txid)) continue;
      seen.add(txid);
      await apply([await chain.tx(txid)], null);
    }
  }
  return result;
}

// ---------------------------------------------------------------- audit

export async function verifyAudit(c: CustodyContext) {
  const rows = await c.store.db.selectFrom('custody_audit').selectAll().orderBy('seq').execute();
  const entries: AuditEntry[] = rows.map((r) => ({ ...r, seq: Number(r.seq) }));
  return verifyChain(entries);
}

// ---------------------------------------------------------------- sweep

/**
 * Move the hot float above its cap to a fresh address of a colder wallet: an internal transfer,
 * recorded as an approved withdrawal (rule `sweep-to-<tier>`) ready for `withdraw build`.
 * Refilling hot from warm is an ordinary withdrawal from warm and needs warm's approvals.
 */
export async function sweep(
  c: CustodyContext,
  hotName: string,
  toTier: Tier = 'cold',
  opts: { toWallet?: string } = {},
): Promise<{
  swept: number;
  withdrawal?: WithdrawalRow;
  to?: string;
  floatCap: number;
  float: number;
}> {
  const hot = await getWallet(c, hotName);
  if (hot.tier !== 'hot')
    throw new MamoriError('E_INPUT', `wallet "${hotName}" is ${hot.tier}, not hot`);
  if (toTier === 'hot')
    throw new MamoriError('E_INPUT', 'sweep goes to a colder tier (warm or cold)');
  if (hot.floatCap === null) {
    throw new MamoriError('E_INPUT', `wallet "${hotName}" has no hot float cap`, {
      hint: 'set one with: mamori custody policy set <wallet> --hot-cap <BTC>',
    });
  }
  const [b] = await balances(c, hotName);
  const float = b!.total;
  const excess = float - hot.floatCap;
  if (excess <= 0) return { swept: 0, floatCap: hot.floatCap, float };
  return inTx(c, async (trx, at, actor) => {
    await assertNotFrozen(trx);
    let target: WalletRow | undefined;
    if (opts.toWallet) target = await getWallet(trx, opts.toWallet);
    else {
      const r = await trx
        .selectFrom('custody_wallet')
        .selectAll()
        .where('tier', '=', toTier)
        .where('network', '=', hot.network)
        .orderBy('id')
        .executeTakeFirst();
      target = r ? walletRow(r) : undefined;
    }
    if (!target || target.tier !== toTier || target.network !== hot.network) {
      throw new MamoriError('E_NOT_FOUND', `no ${toTier} wallet on ${hot.network} to sweep to`);
    }
    const addr = await issueAddress(trx, target, 0, `sweep from ${hot.name}`, at);
    const decision: Decision = {
      outcome: 'approved',
      rule: `sweep-to-${toTier}`,
      reason: `hot float ${formatBtc(BigInt(float))} exceeds its cap ${formatBtc(BigInt(hot.floatCap!))}: ${formatBtc(BigInt(excess))} to our own ${toTier} wallet "${target.name}"`,
      trace: [],
    };
    const row = await trx
      .insertInto('custody_withdrawal')
      .values({
        wallet_id: hot.id,
        to_address: addr.address,
        amount: excess,
        status: 'approved',
        decision: JSON.stringify(decision),
        requested_by: 'sweep',
        requested_at: at,
        eligible_at: null,
        psbt_id: null,
        txid: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await appendAudit(trx, at, actor, 'sweep', {
      id: Number(row.id),
      from: hot.name,
      to: target.name,
      address: addr.address,
      amount: excess,
    });
    return {
      swept: excess,
      withdrawal: await withdrawalRow(trx, Number(row.id)),
      to: addr.address,
      floatCap: hot.floatCap!,
      float,
    };
  });
}
