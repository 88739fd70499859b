/**
 * Row types of the custody area's tables (all prefixed `custody_`), for Kysely. Types only.
 * The tables themselves are created by `src/storage/migrations/custody.ts`.
 */
import type { Generated } from 'kysely';

export interface CustodyWalletTable {
  id: Generated<number>;
  name: string;
  tier: string;
  network: string;
  threshold: number;
  cosigners: number;
  descriptor: string;
  /** The encrypted hot cosigner key file (JSON), never a key in clear. */
  hot_key: string | null;
  next_receive: Generated<number>;
  next_change: Generated<number>;
  gap_limit: Generated<number>;
  float_cap: number | null;
  created_at: string;
  genesis_hash: string | null;
}

export interface CustodyAddressTable {
  id: Generated<number>;
  wallet_id: number;
  branch: number;
  idx: number;
  address: string;
  script: string;
  label: string | null;
  created_at: string;
}

export interface CustodyUtxoTable {
  id: Generated<number>;
  wallet_id: number;
  txid: string;
  vout: number;
  value: number;
  address: string;
  height: number | null;
  spent_txid: string | null;
  spent_height: number | null;
  seen_at: string;
  /** 1 coinbase, 0 not, null recorded before it was noted. */
  coinbase: Generated<number | null>;
}

export interface CustodyPolicyTable {
  wallet_id: number;
  rules: string;
  updated_at: string;
}

export interface CustodyWithdrawalTable {
  id: Generated<number>;
  wallet_id: number;
  to_address: string;
  amount: number;
  /** A batch request's payees as JSON [{address, amount}]; null for one payee (to_address). */
  outputs: string | null;
  status: string;
  decision: string;
  requested_by: string;
  requested_at: string;
  eligible_at: string | null;
  psbt_id: number | null;
  txid: string | null;
  /** The canonical withdrawal statement (JSON) and its requester's signature (JSON). */
  statement: string | null;
  request_sig: string | null;
}

export interface CustodyApprovalTable {
  id: Generated<number>;
  withdrawal_id: number;
  approver: string;
  at: string;
  /** The approver's signature over the withdrawal statement (JSON). */
  sig: string | null;
}

export interface CustodyPsbtTable {
  id: Generated<number>;
  wallet_id: number;
  txid: string;
  psbt: string;
  withdrawal_ids: string;
  fee: number;
  status: string;
  created_at: string;
}

export interface CustodyStateTable {
  key: string;
  value: string;
}

export interface CustodyAuditTable {
  seq: number;
  at: string;
  actor: string;
  action: string;
  data: string;
  prev_hash: string;
  hash: string;
  /** The actor identity's signature over `hash` (JSON), when an identity acted. */
  sig: string | null;
}

export interface CustodyGenesisTable {
  hash: string;
  document: string;
  created_at: string;
}

export interface CustodyPolicyVersionTable {
  id: Generated<number>;
  wallet_id: number;
  version: number;
  hash: string;
  document: string;
  applied_at: string;
}

export interface CustodyHotLedgerTable {
  id: Generated<number>;
  wallet: string;
  txid: string;
  at: string;
  payouts: number;
  sweeps: number;
}

/** One wallet's balance when the chain was synced (the Custody page's history chart). */
export interface CustodyBalanceSnapshotTable {
  id: Generated<number>;
  at: string;
  height: number;
  wallet: string;
  tier: string;
  confirmed: number;
  unconfirmed: number;
  /** The wallet's float cap then (satoshi), or null. */
  float_cap: number | null;
}

export interface CustodyTables {
  custody_wallet: CustodyWalletTable;
  custody_address: CustodyAddressTable;
  custody_utxo: CustodyUtxoTable;
  custody_policy: CustodyPolicyTable;
  custody_withdrawal: CustodyWithdrawalTable;
  custody_approval: CustodyApprovalTable;
  custody_psbt: CustodyPsbtTable;
  custody_state: CustodyStateTable;
  custody_audit: CustodyAuditTable;
  custody_genesis: CustodyGenesisTable;
  custody_policy_version: CustodyPolicyVersionTable;
  custody_hot_ledger: CustodyHotLedgerTable;
  custody_balance_snapshot: CustodyBalanceSnapshotTable;
}
