/**
 * Deposit and change addresses: derivation index and the gap limit. Not balances.
 */
import { MamoriError } from '../shared/errors.js';
import { appendAudit, type CustodyContext, inTx, type Trx } from './context.js';
import { bytesToHex } from './core/descriptor.js';
import { getWallet, type WalletRow, walletDeriver } from './wallets.js';

export interface AddressRow {
  wallet: string;
  branch: number;
  index: number;
  address: string;
  label: string | null;
  createdAt: string;
  received?: number;
}

export async function issueAddress(
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
