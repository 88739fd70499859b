/**
 * The access area's shell: users with argon2id password hashes, bearer tokens and sessions
 * stored as SHA-256 hashes only, sign-in with lockout, the audit trail, and alert triage.
 * Rules live in core/; this file does the IO (store, random bytes, the KDF).
 */
import { randomBytes } from 'node:crypto';
import { argon2idAsync } from '@noble/hashes/argon2.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { MamoriError } from '../shared/errors.js';
import type { Store } from '../storage/index.js';
import {
  ARGON2_DEFAULT,
  constantTimeEqual,
  DEFAULT_LOCKOUT,
  formatPhc,
  isSessionIdShaped,
  isTokenShaped,
  isUserName,
  type LockoutPolicy,
  lockedUntil,
  parsePhc,
  passwordProblem,
  TOKEN_PREFIX,
} from './core/policy.js';
import { parseRole, type Role } from './core/roles.js';

/** Who a request acts as. */
export interface Principal {
  kind: 'user' | 'token';
  id: number;
  /** The user's name, or the token's label. */
  name: string;
  role: Role;
  /** A generated password that must be changed before anything else. */
  mustChange: boolean;
  /** The session's CSRF token (sessions only). */
  csrf?: string;
}

export const SESSION_TTL_MS = 12 * 3_600_000;
export const SESSION_IDLE_MS = 2 * 3_600_000;

const iso = (ms: number) => new Date(ms).toISOString();
const enc = new TextEncoder();
const sha256Hex = (text: string) => bytesToHex(sha256(enc.encode(text)));
const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

/**
 * Hash a password with argon2id (OWASP parameters) into a PHC string.
 * @example const phc = await hashPassword('correct horse battery staple');
 */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await argon2idAsync(enc.encode(password), salt, { ...ARGON2_DEFAULT, dkLen: 32 });
  return formatPhc(
    ARGON2_DEFAULT,
    Buffer.from(salt).toString('base64').replace(/=+$/, ''),
    Buffer.from(hash).toString('base64').replace(/=+$/, ''),
  );
}

/** Check a password against a PHC string we wrote; false for anything else. */
export async function verifyPassword(phc: string, password: string): Promise<boolean> {
  const parsed = parsePhc(phc);
  if (!parsed) return false;
  const salt = Buffer.from(parsed.salt, 'base64');
  const want = Buffer.from(parsed.hash, 'base64');
  const got = await argon2idAsync(enc.encode(password), salt, {
    ...parsed.params,
    dkLen: want.length,
  });
  return constantTimeEqual(got, want);
}

/** Whether `password` is the named user's current password (for a password change). */
export async function checkPassword(
  store: Store,
  name: string,
  password: string,
): Promise<boolean> {
  const row = await store.db
    .selectFrom('access_user')
    .select('password_hash')
    .where('name', '=', name)
    .executeTakeFirst();
  return row ? verifyPassword(row.password_hash, password) : false;
}

// Verified against when the name is unknown, so a wrong name costs as long as a wrong password.
let dummyHash: Promise<string> | undefined;

function roleOf(text: string): Role {
  const role = parseRole(text);
  if (!role) throw new MamoriError('E_STORAGE', `access: stored role is not a role: '${text}'`);
  return role;
}

export interface UserRow {
  name: string;
  role: Role;
  createdAt: string;
  passwordChangedAt: string;
  disabledAt: string | null;
  mustChange: boolean;
}

/**
 * Add a console user.
 * @example await addUser(store, { name: 'aiko', role: 'approver', password: process.env.MAMORI_PASSWORD! })
 */
export async function addUser(
  store: Store,
  opts: { name: string; role: Role; password: string; mustChange?: boolean; now?: number },
): Promise<UserRow> {
  if (!isUserName(opts.name))
    throw new MamoriError('E_USAGE', `not a user name: '${opts.name}'`, {
      hint: 'letters, digits, . _ - @; up to 64 characters',
    });
  const problem = passwordProblem(opts.password, opts.name);
  if (problem) throw new MamoriError('E_INPUT', problem);
  const existing = await store.db
    .selectFrom('access_user')
    .select('id')
    .where('name', '=', opts.name)
    .executeTakeFirst();
  if (existing) throw new MamoriError('E_USAGE', `user '${opts.name}' already exists`);
  const now = iso(opts.now ?? Date.now());
  const password_hash = await hashPassword(opts.password);
  await store.db
    .insertInto('access_user')
    .values({
      name: opts.name,
      role: opts.role,
      password_hash,
      must_change: opts.mustChange ? 1 : 0,
      created_at: now,
      password_changed_at: now,
      disabled_at: null,
    })
    .execute();
  return {
    name: opts.name,
    role: opts.role,
    createdAt: now,
    passwordChangedAt: now,
    disabledAt: null,
    mustChange: Boolean(opts.mustChange),
  };
}

export async function listUsers(store: Store): Promise<UserRow[]> {
  const rows = await store.db.selectFrom('access_user').selectAll().orderBy('name').execute();
  return rows.map((r) => ({
    name: r.name,
    role: roleOf(r.role),
    createdAt: r.created_at,
    passwordChangedAt: r.password_changed_at,
    disabledAt: r.disabled_at,
    mustChange: Number(r.must_change) === 1,
  }));
}

export async function countUsers(store: Store): Promise<number> {
  const r = await store.db
    .selectFrom('access_user')
    .select((e) => e.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

async function userByName(store: Store, name: string) {
  const row = await store.db
    .selectFrom('access_user')
    .selectAll()
    .where('name', '=', name)
    .executeTakeFirst();
  if (!row) throw new MamoriError('E_NOT_FOUND', `no user '${name}'`);
  return row;
}

/** Disable (or enable) a user; a disabled user's sessions end at once. */
export async function setUserDisabled(
  store: Store,
  name: string,
  disabled: boolean,
  now = Date.now(),
): Promise<void> {
  const row = await userByName(store, name);
  await store.db.transaction().execute(async (trx) => {
    await trx
      .updateTable('access_user')
      .set({ disabled_at: disabled ? iso(now) : null })
      .where('id', '=', row.id)
      .execute();
    if (disabled) await trx.deleteFrom('access_session').where('user_id', '=', row.id).execute();
  });
}

/** Set a new password; every session of the user ends (sign in again with the new one). */
export async function setPassword(
  store: Store,
  name: string,
  password: string,
  now = Date.now(),
): Promise<void> {
  const row = await userByName(store, name);
  const problem = passwordProblem(password, name);
  if (problem) throw new MamoriError('E_INPUT', problem);
  const password_hash = await hashPassword(password);
  await store.db.transaction().execute(async (trx) => {
    await trx
      .updateTable('access_user')
      .set({ password_hash, must_change: 0, password_changed_at: iso(now) })
      .where('id', '=', row.id)
      .execute();
    await trx.deleteFrom('access_session').where('user_id', '=', row.id).execute();
  });
}

/**
 * On a store without users, make `admin` with a generated one-time password (to be changed at
 * the first sign-in) and return it; otherwise undefined.
 */
export async function ensureFirstAdmin(
  store: Store,
): Promise<{ name: string; password: string } | undefined> {
  if ((await countUsers(store)) > 0) return undefined;
  const password = b64url(randomBytes(18));
  await addUser(store, { name: 'admin', role: 'admin', password, mustChange: true });
  return { name: 'admin', password };
}

export interface TokenRow {
  id: number;
  label: string;
  role: Role;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

/**
 * Make a bearer token; only its SHA-256 is stored. The token is in the result and nowhere else.
 * @example const { token } = await createToken(store, { role: 'viewer', ttlMs: 30 * 86_400_000 });
 */
export async function createToken(
  store: Store,
  opts: { role: Role; ttlMs: number; label?: string; now?: number },
): Promise<{ id: number; token: string; role: Role; expires: string; label: string }> {
  const now = opts.now ?? Date.now();
  const token = TOKEN_PREFIX + b64url(randomBytes(32));
  const expires = iso(now + opts.ttlMs);
  const label = opts.label ?? `${opts.role} token`;
  if (label.length > 200) throw new MamoriError('E_USAGE', 'a token label has at most 200 chars');
  await store.db
    .insertInto('access_token')
    .values({
      token_hash: sha256Hex(token),
      label,
      role: opts.role,
      created_at: iso(now),
      expires_at: expires,
      revoked_at: null,
      last_used_at: null,
    })
    .execute();
  const row = await store.db
    .selectFrom('access_token')
    .select('id')
    .where('token_hash', '=', sha256Hex(token))
    .executeTakeFirstOrThrow();
  return { id: Number(row.id), token, role: opts.role, expires, label };
}

export async function listTokens(store: Store): Promise<TokenRow[]> {
  const rows = await store.db.selectFrom('access_token').selectAll().orderBy('id').execute();
  return rows.map((r) => ({
    id: Number(r.id),
    label: r.label,
    role: roleOf(r.role),
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
    lastUsedAt: r.last_used_at,
  }));
}

export async function revokeToken(store: Store, id: number, now = Date.now()): Promise<void> {
  const r = await store.db
    .updateTable('access_token')
    .set({ revoked_at: iso(now) })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0)
    throw new MamoriError('E_NOT_FOUND', `no unrevoked token with id ${id}`);
}

/** The principal of a bearer token, or undefined when it is unknown, revoked or expired. */
export async function authenticateToken(
  store: Store,
  token: string,
  now = Date.now(),
): Promise<Principal | undefined> {
  if (!isTokenShaped(token)) return undefined;
  const row = await store.db
    .selectFrom('access_token')
    .selectAll()
    .where('token_hash', '=', sha256Hex(token))
    .executeTakeFirst();
  if (!row || row.revoked_at !== null || row.expires_at <= iso(now)) return undefined;
  // Last use to the minute: one write a minute per token, not one per request.
  if (!row.last_used_at || row.last_used_at < iso(now - 60_000))
    await store.db
      .updateTable('access_token')
      .set({ last_used_at: iso(now) })
      .where('id', '=', row.id)
      .execute();
  return {
    kind: 'token',
    id: Number(row.id),
    name: row.label,
    role: roleOf(row.role),
    mustChange: false,
  };
}

export type SignInResult =
  | { ok: true; sessionId: string; principal: Principal; expires: string }
  | { ok: false; reason: 'invalid' | 'locked'; retryAfterMs?: number };

/**
 * Check a name and password and open a session. Refused while the name or the client address
 * is locked out; every failure is counted against both.
 */
export async function signIn(
  store: Store,
  opts: {
    name: string;
    password: string;
    client: string;
    now?: number;
    lockout?: LockoutPolicy;
  },
): Promise<SignInResult> {
  const now = opts.now ?? Date.now();
  const lockout = opts.lockout ?? DEFAULT_LOCKOUT;
  const name = opts.name.slice(0, 64);
  const since = iso(now - lockout.windowMs - lockout.lockMs);
  const failures = await store.db
    .selectFrom('access_login_failure')
    .select(['time', 'user_name', 'client'])
    .where('time', '>', since)
    .where((e) => e.or([e('user_name', '=', name), e('client', '=', opts.client)]))
    .execute();
  const byName = failures.filter((f) => f.user_name === name).map((f) => Date.parse(f.time));
  // An address gets more tries than a name: several people may share one (a NAT, a proxy).
  const byClient = failures.filter((f) => f.client === opts.client).map((f) => Date.parse(f.time));
  const until = Math.max(
    lockedUntil(byName, now, lockout) ?? 0,
    lockedUntil(byClient, now, { ...lockout, maxFailures: lockout.maxFailures * 4 }) ?? 0,
  );
  if (until > now) return { ok: false, reason: 'locked', retryAfterMs: until - now };
  const row = await store.db
    .selectFrom('access_user')
    .selectAll()
    .where('name', '=', name)
    .executeTakeFirst();
  dummyHash ??= hashPassword('not a password of anyone here');
  const good = await verifyPassword(row?.password_hash ?? (await dummyHash), opts.password);
  if (!row || !good || row.disabled_at !== null) {
    await store.db
      .insertInto('access_login_failure')
      .values({ time: iso(now), user_name: name, client: opts.client })
      .execute();
    return { ok: false, reason: 'invalid' };
  }
  // Housekeeping on the rare path: forget ended sessions and failures past any lockout.
  await store.db.deleteFrom('access_session').where('expires_at', '<=', iso(now)).execute();
  await store.db.deleteFrom('access_login_failure').where('time', '<=', since).execute();
  const sessionId = b64url(randomBytes(32));
  const csrf = b64url(randomBytes(32));
  const expires = iso(now + SESSION_TTL_MS);
  await store.db
    .insertInto('access_session')
    .values({
      id_hash: sha256Hex(sessionId),
      user_id: row.id,
      csrf,
      created_at: iso(now),
      expires_at: expires,
      last_seen_at: iso(now),
    })
    .execute();
  return {
    ok: true,
    sessionId,
    expires,
    principal: {
      kind: 'user',
      id: Number(row.id),
      name: row.name,
      role: roleOf(row.role),
      mustChange: Number(row.must_change) === 1,
      csrf,
    },
  };
}

/** The principal of a session cookie, or undefined when it is unknown, idle or expired. */
export async function authenticateSession(
  store: Store,
  sessionId: string,
  now = Date.now(),
): Promise<Principal | undefined> {
  if (!isSessionIdShaped(sessionId)) return undefined;
  const idHash = sha256Hex(sessionId);
  const row = await store.db
    .selectFrom('access_session')
    .innerJoin('access_user', 'access_user.id', 'access_session.user_id')
    .select([
      'access_session.csrf',
      'access_session.expires_at',
      'access_session.last_seen_at',
      'access_user.id',
      'access_user.name',
      'access_user.role',
      'access_user.must_change',
      'access_user.disabled_at',
    ])
    .where('access_session.id_hash', '=', idHash)
    .executeTakeFirst();
  if (!row) return undefined;
  const t = iso(now);
  if (row.expires_at <= t || row.last_seen_at <= iso(now - SESSION_IDLE_MS) || row.disabled_at) {
    await store.db.deleteFrom('access_session').where('id_hash', '=', idHash).execute();
    return undefined;
  }
  if (row.last_seen_at < iso(now - 60_000))
    await store.db
      .updateTable('access_session')
      .set({ last_seen_at: t })
      .where('id_hash', '=', idHash)
      .execute();
  return {
    kind: 'user',
    id: Number(row.id),
    name: row.name,
    role: roleOf(row.role),
    mustChange: Number(row.must_change) === 1,
    csrf: row.csrf,
  };
}

export async function signOut(store: Store, sessionId: string): Promise<void> {
  if (!isSessionIdShaped(sessionId)) return;
  await store.db.deleteFrom('access_session').where('id_hash', '=', sha256Hex(sessionId)).execute();
}

export interface AuditEntry {
  actor: string;
  action: string;
  target?: string | null;
  outcome: string;
  client?: string | null;
  now?: number;
}

/** Append one line to the audit trail. */
export async function audit(store: Store, e: AuditEntry): Promise<void> {
  await store.db
    .insertInto('access_audit')
    .values({
      time: iso(e.now ?? Date.now()),
      actor: e.actor.slice(0, 200),
      action: e.action.slice(0, 200),
      target: e.target?.slice(0, 500) ?? null,
      outcome: e.outcome.slice(0, 200),
      client: e.client?.slice(0, 100) ?? null,
    })
    .execute();
}

export async function listAudit(store: Store, limit = 100) {
  return store.db
    .selectFrom('access_audit')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}

/** Triage state of alerts (acknowledged, assigned), keyed by the alert's id. */
export async function alertStates(store: Store, ids: number[]) {
  if (!ids.length)
    return new Map<
      number,
      { ackBy: string | null; ackAt: string | null; assignee: string | null }
    >();
  const rows = await store.db
    .selectFrom('access_alert_state')
    .selectAll()
    .where('alert_id', 'in', ids)
    .execute();
  return new Map(
    rows.map((r) => [
      Number(r.alert_id),
      { ackBy: r.acknowledged_by, ackAt: r.acknowledged_at, assignee: r.assignee },
    ]),
  );
}

/** Acknowledge an alert, or assign it to a user (who must exist). */
export async function triageAlert(
  store: Store,
  alertId: number,
  change: { acknowledgedBy: string } | { assignee: string | null },
  now = Date.now(),
): Promise<void> {
  const exists = await store.db
    .selectFrom('alert')
    .select('id')
    .where('id', '=', alertId)
    .executeTakeFirst();
  if (!exists) throw new MamoriError('E_NOT_FOUND', `no alert ${alertId}`);
  if ('assignee' in change && change.assignee !== null) await userByName(store, change.assignee);
  const set =
    'acknowledgedBy' in change
      ? { acknowledged_by: change.acknowledgedBy, acknowledged_at: iso(now), updated_at: iso(now) }
      : { assignee: change.assignee, updated_at: iso(now) };
  await store.db.transaction().execute(async (trx) => {
    const had = await trx
      .selectFrom('access_alert_state')
      .select('alert_id')
      .where('alert_id', '=', alertId)
      .executeTakeFirst();
    if (had)
      await trx
        .updateTable('access_alert_state')
        .set(set)
        .where('alert_id', '=', alertId)
        .execute();
    else
      await trx
        .insertInto('access_alert_state')
        .values({
          alert_id: alertId,
          acknowledged_by: null,
          acknowledged_at: null,
          assignee: null,
          ...set,
        })
        .execute();
  });
}
