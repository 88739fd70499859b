/**
 * The access area's tables (prefixed `access_`): console users, bearer tokens (hashes only),
 * sessions (hashes only), sign-in failures, the audit trail, and alert triage state.
 * Types only; the tables are made by `storage/migrations/access.ts`.
 */
import type { Generated } from 'kysely';

export interface AccessUserTable {
  id: Generated<number>;
  name: string;
  role: string;
  /** PHC string: `$argon2id$v=19$m=…,t=…,p=…$salt$hash`. */
  password_hash: string;
  /** 1 when the password was generated and must be changed at the next sign-in. */
  must_change: number;
  created_at: string;
  password_changed_at: string;
  disabled_at: string | null;
}

export interface AccessTokenTable {
  id: Generated<number>;
  /** SHA-256 of the token, hex. The token itself is shown once and never stored. */
  token_hash: string;
  label: string;
  role: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

export interface AccessSessionTable {
  /** SHA-256 of the session id (the cookie), hex. */
  id_hash: string;
  user_id: number;
  csrf: string;
  created_at: string;
  expires_at: string;
  last_seen_at: string;
}

export interface AccessLoginFailureTable {
  id: Generated<number>;
  time: string;
  user_name: string;
  client: string;
}

export interface AccessAuditTable {
  id: Generated<number>;
  time: string;
  /** `user:<name>`, `token:<id>`, `cli:<os user>` or `anonymous`. */
  actor: string;
  action: string;
  target: string | null;
  outcome: string;
  client: string | null;
}

export interface AccessAlertStateTable {
  alert_id: number;
  acknowledged_by: string | null;
  acknowledged_at: string | null;
  assignee: string | null;
  updated_at: string;
}

/** A user's WebAuthn passkey: also a custody identity (`mpk1…`) once a genesis lists it. */
export interface AccessPasskeyTable {
  id: Generated<number>;
  user_id: number;
  label: string;
  /** base64url credential id, as the browser gives it. */
  credential_id: string;
  /** The COSE public key, base64url. */
  public_key_cose: string;
  /** The P-256 key, uncompressed (65 bytes), hex: what the custody genesis lists. */
  public_key: string;
  /** The custody identity id of this key (`mpk1…`). */
  identity_id: string;
  rp_id: string;
  sign_count: number;
  created_at: string;
}

/** A registration ceremony in progress: one challenge per user, short-lived. */
export interface AccessPasskeyChallengeTable {
  user_id: number;
  challenge: string;
  expires_at: string;
}

export interface AccessTables {
  access_user: AccessUserTable;
  access_token: AccessTokenTable;
  access_session: AccessSessionTable;
  access_login_failure: AccessLoginFailureTable;
  access_audit: AccessAuditTable;
  access_alert_state: AccessAlertStateTable;
  access_passkey: AccessPasskeyTable;
  access_passkey_challenge: AccessPasskeyChallengeTable;
}
