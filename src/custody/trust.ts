/**
 * Trust over the store: the genesis a wallet is bound to and its chain of admin-signed policy
 * versions (propose, sign, apply), each re-checked against its signatures whenever it is used.
 * A row that does not verify is forged: refused, with a CRITICAL alert. Not the rules of
 * signing: see `core/trust.ts`.
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
import { addressScript } from './core/descriptor.js';
import { network } from './core/network.js';
import { compilePolicy, emptyPolicy, type PolicyFlags, policyFlags } from './core/policy.js';
import {
  checkGenesis,
  GENESIS_DOMAIN,
  type Genesis,
  genesisBody,
  POLICY_DOMAIN,
  POLICY_FORMAT,
  type PolicyVersion,
  policyBody,
  type TrustRoot,
  type VerifiedPolicy,
  verifyPolicyChain,
  type WalletRef,
} from './core/trust.js';
import { assertNotFrozen } from './freeze.js';
import type { Signer } from './identity.js';
import { getWallet, listWallets, type WalletRow } from './wallets.js';

/** Store a genesis (checked: signed by its admin quorum); returns its trust root. */
export async function storeGenesis(trx: Trx, doc: unknown, at: string): Promise<TrustRoot> {
  const root = checkGenesis(doc, Date.parse(at));
  const exists = await trx
    .selectFrom('custody_genesis')
    .select('hash')
    .where('hash', '=', root.hash)
    .executeTakeFirst();
  if (!exists) {
    await trx
      .insertInto('custody_genesis')
      .values({ hash: root.hash, document: canonicalJson(doc), created_at: at })
      .execute();
  }
  return root;
}

/**
 * The trust root of a bound wallet, re-checked from its stored document (undefined for a wallet
 * bound to none). A document that no longer verifies is forged.
 */
export async function trustRootOf(
  c: CustodyContext,
  w: WalletRow,
  db: Trx | Db = c.store.db,
): Promise<TrustRoot | undefined> {
  if (!w.genesisHash) return undefined;
  const r = await db
    .selectFrom('custody_genesis')
    .select('document')
    .where('hash', '=', w.genesisHash)
    .executeTakeFirst();
  try {
    if (!r) throw new MamoriError('E_POLICY', 'the genesis document is missing');
    return checkGenesis(JSON.parse(r.document), now(c), w.genesisHash);
  } catch (e) {
    throw forged(`the genesis of wallet ${w.name}`, e);
  }
}

/** The stored chain of signed policy versions of a wallet, oldest first. */
export async function policyChainOf(db: Trx | Db, walletId: number): Promise<PolicyVersion[]> {
  const rows = await db
    .selectFrom('custody_policy_version')
    .select('document')
    .where('wallet_id', '=', walletId)
    .orderBy('version')
    .execute();
  return rows.map((r) => JSON.parse(r.document) as PolicyVersion);
}

/** The wallet as the signed policy names it. */
export function walletRef(w: WalletRow): WalletRef {
  return { name: w.name, tier: w.tier, network: w.network, descriptor: w.descriptor };
}

/**
 * The verified head policy of a bound wallet, from the genesis and every signed version; a
 * chain that does not verify, or that names another descriptor than the wallet's, is forged.
 */
export async function verifiedPolicyOf(
  c: CustodyContext,
  w: WalletRow,
  db: Trx | Db = c.store.db,
): Promise<{ root: TrustRoot; vp: VerifiedPolicy; chain: PolicyVersion[] }> {
  const root = await trustRootOf(c, w, db);
  if (!root) {
    throw new MamoriError('E_POLICY', `wallet ${w.name} is bound to no trust root`, {
      hint: 'create wallets with --trust <genesis.json>',
      details: { reason: 'untrusted-wallet' },
    });
  }
  const chain = await policyChainOf(db, w.id);
  if (!chain.length) {
    throw new MamoriError('E_POLICY', `wallet ${w.name} has no signed policy: refused`, {
      hint: 'mamori custody policy propose|sign|apply',
      details: { reason: 'policy-under-signed' },
    });
  }
  try {
    const vp = verifyPolicyChain(root, chain, now(c));
    if (canonicalJson(vp.wallet) !== canonicalJson(walletRef(w))) {
      throw new MamoriError('E_POLICY', 'the signed policy names another wallet descriptor', {
        details: { reason: 'policy-wallet-mismatch' },
      });
    }
    return { root, vp, chain };
  } catch (e) {
    throw forged(`the policy chain of wallet ${w.name}`, e);
  }
}

export interface ProposeInput {
  flags?: PolicyFlags;
  /** Names of our own wallets that sweeps and refills from this wallet may pay. */
  ownWallets?: string[];
  sweepLimits?: { perTxSats?: number; velocity24hSats?: number };
}

/**
 * A proposal for the next policy version of a bound wallet, from its current head: a partial
 * update (rules not named are kept). Unsigned: admins sign it offline with `signPolicy`.
 * @example const p = await proposePolicy(ctx, 'hot', { flags: { hotFloatCap: 1e8 } })
 */
export async function proposePolicy(
  c: CustodyContext,
  walletName: string,
  input: ProposeInput,
): Promise<PolicyVersion> {
  const w = await getWallet(c, walletName);
  const root = await trustRootOf(c, w);
  if (!root) {
    throw new MamoriError('E_POLICY', `wallet ${w.name} is bound to no trust root`, {
      hint: 'create it with --trust <genesis.json>',
    });
  }
  const chain = await policyChainOf(c.store.db, w.id);
  const head = chain.length ? (await verifiedPolicyOf(c, w)).vp : undefined;
  const at = new Date(now(c)).toISOString();
  const base = head?.policy ?? emptyPolicy();
  const flags = input.flags ?? {};
  for (const a of flags.approvers ?? []) {
    if (!root.genesis.approvers.includes(a)) {
      throw new MamoriError('E_INPUT', `${a} is not an approver of the genesis`, {
        details: { reason: 'unknown-identity' },
      });
    }
  }
  const policy = compilePolicy(base, { ...policyFlags(base), ...flags }, at);
  const net = network(w.network);
  for (const e of policy.whitelist) addressScript(e.address, net);
  let ownWallets = head?.ownWallets ?? [];
  if (input.ownWallets) {
    const all = await listWallets(c);
    ownWallets = input.ownWallets.map((n) => {
      const o = all.find((x) => x.name === n);
      if (!o) throw new MamoriError('E_NOT_FOUND', `no wallet named "${n}"`);
      if (o.network !== w.network || o.name === w.name) {
        throw new MamoriError('E_INPUT', `wallet ${n} cannot be an own destination of ${w.name}`);
      }
      return walletRef(o);
    });
  }
  const body = {
    format: POLICY_FORMAT,
    genesis: root.hash,
    wallet: walletRef(w),
    version: (head?.version ?? 0) + 1,
    prev: head?.hash ?? root.hash,
    policy,
    ownWallets,
    sweepLimits: { ...(head?.sweepLimits ?? {}), ...(input.sweepLimits ?? {}) },
    proposedAt: at,
  } as const;
  return { ...body, signatures: [] };
}

/** One admin's signature on a policy proposal (offline: the file alone). */
export function signPolicy(doc: PolicyVersion, signer: Signer, at: string): PolicyVersion {
  if (doc?.format !== POLICY_FORMAT) {
    throw new MamoriError('E_INPUT', `not a ${POLICY_FORMAT} proposal`);
  }
  const sig = signer.sign(POLICY_DOMAIN, at, policyBody(doc));
  return { ...doc, signatures: [...doc.signatures.filter((s) => s.by !== signer.id), sig] };
}

/** One admin's signature on a genesis document (offline). */
export function signGenesis(doc: Genesis, signer: Signer, at: string): Genesis {
  if (!doc.admins?.includes(signer.id)) {
    throw new MamoriError(
      'E_AUTH',
      `${signer.name} (${signer.id}) is not an admin of this genesis`,
    );
  }
  const sig = signer.sign(GENESIS_DOMAIN, at, genesisBody(doc));
  return { ...doc, signatures: [...doc.signatures.filter((s) => s.by !== signer.id), sig] };
}

/**
 * Apply a signed policy version: it must follow the verified head and carry k admin signatures
 * over (previous hash, new content), with signing times neither in the future nor before the
 * previous version. Anything less is refused (E_POLICY, exit 4).
 * @example await applyPolicy(ctx, signedProposal)
 */
export async function applyPolicy(
  c: CustodyContext,
  doc: PolicyVersion,
): Promise<{ wallet: string; version: number; hash: string }> {
  if (doc?.format !== POLICY_FORMAT || !doc.wallet?.name) {
    throw new MamoriError('E_INPUT', `not a ${POLICY_FORMAT} document`, {
      details: { reason: 'evidence-malformed' },
    });
  }
  const result = await inTx(c, async (trx, at, actor) => {
    await assertNotFrozen(trx, c);
    return applyIn(c, trx, at, actor, doc);
  }).catch(async (e) => {
    if (e instanceof MamoriError && e.code === 'E_POLICY') {
      await alert(
        c,
        'critical',
        'custody.policy_refused',
        `a policy change for ${doc.wallet.name} was refused: ${e.message}`,
        'a policy without the admin quorum was pushed: find who, and treat the server as suspect',
        { wallet: doc.wallet.name, reason: e.details?.reason ?? null },
      );
    }
    throw e;
  });
  await alert(
    c,
    'notice',
    'custody.policy_change',
    `policy of ${result.wallet} is now version ${result.version} (${result.hash.slice(0, 12)}…)`,
    'check that the change was expected (mamori custody policy show)',
    result,
  );
  return result;
}

async function applyIn(
  c: CustodyContext,
  trx: Trx,
  at: string,
  actor: string,
  doc: PolicyVersion,
): Promise<{ wallet: string; version: number; hash: string }> {
  {
    const w = await getWallet(trx, doc.wallet.name);
    const root = await trustRootOf(c, w, trx);
    if (!root) throw new MamoriError('E_POLICY', `wallet ${w.name} is bound to no trust root`);
    const chain = await policyChainOf(trx, w.id);
    if (chain.length) await verifiedPolicyOf(c, w, trx);
    const vp = verifyPolicyChain(root, [...chain, doc], Date.parse(at));
    if (canonicalJson(vp.wallet) !== canonicalJson(walletRef(w))) {
      throw new MamoriError('E_POLICY', 'the proposal names another wallet descriptor', {
        details: { reason: 'policy-wallet-mismatch' },
      });
    }
    await trx
      .insertInto('custody_policy_version')
      .values({
        wallet_id: w.id,
        version: vp.version,
        hash: vp.hash,
        document: canonicalJson(doc),
        applied_at: at,
      })
      .execute();
    const text = JSON.stringify(vp.policy);
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
    await trx
      .updateTable('custody_wallet')
      .set({ float_cap: vp.policy.hotFloatCap ?? null })
      .where('id', '=', w.id)
      .execute();
    await appendAudit(trx, at, actor, 'policy.apply', {
      wallet: w.name,
      version: vp.version,
      hash: vp.hash,
      signers: doc.signatures.map((s) => s.by),
    });
    return { wallet: w.name, version: vp.version, hash: vp.hash };
  }
}
