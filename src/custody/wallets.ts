/**
 * Wallets: create, read, export, the genesis a wallet is bound to, and the hot key kept
 * encrypted. Not addresses: see `addresses.ts`.
 */
import { MamoriError } from '../shared/errors.js';
import {
  alert,
  appendAudit,
  type CustodyContext,
  type Db,
  inTx,
  TIERS,
  type Tier,
  type Trx,
} from './context.js';
import {
  type Deriver,
  formatDescriptor,
  type MultisigDescriptor,
  makeDeriver,
  parseKey,
  parseMultisigDescriptor,
} from './core/descriptor.js';
import { network } from './core/network.js';
import { type KeyFile, parseKeyFile } from './keyfile.js';
import { storeGenesis } from './trust.js';

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
  /** The genesis (trust root) the wallet is bound to, or null (unbound: no signing). */
  genesisHash: string | null;
}

// biome-ignore lint/suspicious/noExplicitAny: a row from either backend
export function walletRow(r: any): WalletRow {
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
    genesisHash: r.genesis_hash ?? null,
  };
}

export const derivers = new Map<string, { desc: MultisigDescriptor; deriver: Deriver }>();

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
  /** The genesis document to bind the wallet to (checked: signed by its admin quorum). */
  trust?: unknown;
  /** A 1-of-n hot wallet lets one stolen key move everything: refused unless set. */
  allowSingleSig?: boolean;
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
  if (w.tier === 'hot' && w.threshold === 1 && !w.allowSingleSig) {
    throw new MamoriError(
      'E_POLICY',
      `a 1-of-${n} hot wallet lets one stolen online key move the whole float (the 2018 setup)`,
      { hint: 'use 2-of-3 with an independent cosigner, or pass --allow-single-sig knowingly' },
    );
  }
  const created = await inTx(c, async (trx, at, actor) => {
    const root = w.trust === undefined ? undefined : await storeGenesis(trx, w.trust, at);
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
        genesis_hash: root?.hash ?? null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await appendAudit(trx, at, actor, 'wallet.create', {
      name: w.name,
      tier: w.tier,
      descriptor,
      hotKey: Boolean(w.hotKey),
      genesis: root?.hash ?? null,
    });
    return walletRow(row);
  });
  await alert(
    c,
    'notice',
    'custody.new_wallet',
    `new ${created.tier} wallet ${created.name} (${created.threshold}-of-${created.cosigners})`,
    'check that it was expected; an own wallet is trusted only once a signed policy lists it',
    { wallet: created.name, descriptor: created.descriptor, genesis: created.genesisHash },
  );
  return created;
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
