/**
 * Console users' passkeys in the store: the registration challenge of a ceremony in progress,
 * and each registered credential with its P-256 key and the custody identity id computed by
 * the caller (custody's `identityId`). Not the WebAuthn verification (the web layer uses
 * @simplewebauthn/server) and not authority: a passkey approves withdrawals only when a signed
 * genesis lists its identity, and then custody verifies each assertion itself.
 */
import { MamoriError } from '../shared/errors.js';
import type { Store } from '../storage/index.js';

/** A registration ceremony lasts at most this long. */
export const PASSKEY_CHALLENGE_TTL_MS = 5 * 60_000;
/** Passkeys per user, so that a stolen session cannot fill the store. */
export const MAX_PASSKEYS_PER_USER = 10;

const iso = (ms: number) => new Date(ms).toISOString();

export interface PasskeyRow {
  id: number;
  userId: number;
  label: string;
  credentialId: string;
  /** Uncompressed P-256 key, hex. */
  publicKey: string;
  identityId: string;
  rpId: string;
  signCount: number;
  createdAt: string;
}

// biome-ignore lint/suspicious/noExplicitAny: a row of either dialect
function passkeyRow(r: any): PasskeyRow {
  return {
    id: Number(r.id),
    userId: Number(r.user_id),
    label: r.label,
    credentialId: r.credential_id,
    publicKey: r.public_key,
    identityId: r.identity_id,
    rpId: r.rp_id,
    signCount: Number(r.sign_count),
    createdAt: r.created_at,
  };
}

/** Keep the challenge of a registration ceremony (one per user; a new one replaces it). */
export async function savePasskeyChallenge(
  store: Store,
  userId: number,
  challenge: string,
  now = Date.now(),
): Promise<void> {
  await store.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('access_passkey_challenge').where('user_id', '=', userId).execute();
    await trx
      .insertInto('access_passkey_challenge')
      .values({ user_id: userId, challenge, expires_at: iso(now + PASSKEY_CHALLENGE_TTL_MS) })
      .execute();
  });
}

/** Take (and forget) the user's pending challenge; undefined when none or expired. */
export async function takePasskeyChallenge(
  store: Store,
  userId: number,
  now = Date.now(),
): Promise<string | undefined> {
  const r = await store.db
    .deleteFrom('access_passkey_challenge')
    .where('user_id', '=', userId)
    .returning(['challenge', 'expires_at'])
    .executeTakeFirst();
  if (!r || r.expires_at <= iso(now)) return undefined;
  return r.challenge;
}

/**
 * Record a verified passkey of a user.
 * @example await addPasskey(store, { userId: 3, label: 'laptop', credentialId, publicKeyCose, publicKey, identityId, rpId: 'localhost', signCount: 0 })
 */
export async function addPasskey(
  store: Store,
  p: Omit<PasskeyRow, 'id' | 'createdAt'> & { publicKeyCose: string },
  now = Date.now(),
): Promise<PasskeyRow> {
  const count = await store.db
    .selectFrom('access_passkey')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('user_id', '=', p.userId)
    .executeTakeFirstOrThrow();
  if (Number(count.n) >= MAX_PASSKEYS_PER_USER) {
    throw new MamoriError('E_INPUT', `at most ${MAX_PASSKEYS_PER_USER} passkeys per user`);
  }
  const clash = await store.db
    .selectFrom('access_passkey')
    .select('id')
    .where((eb) =>
      eb.or([eb('credential_id', '=', p.credentialId), eb('identity_id', '=', p.identityId)]),
    )
    .executeTakeFirst();
  if (clash) throw new MamoriError('E_INPUT', 'this passkey is already registered');
  const row = await store.db
    .insertInto('access_passkey')
    .values({
      user_id: p.userId,
      label: p.label,
      credential_id: p.credentialId,
      public_key_cose: p.publicKeyCose,
      public_key: p.publicKey,
      identity_id: p.identityId,
      rp_id: p.rpId,
      sign_count: p.signCount,
      created_at: iso(now),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return passkeyRow(row);
}

/** A user's passkeys, oldest first. */
export async function listPasskeys(store: Store, userId: number): Promise<PasskeyRow[]> {
  const rows = await store.db
    .selectFrom('access_passkey')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('id')
    .execute();
  return rows.map(passkeyRow);
}

/** One of a user's passkeys by its credential id (another user's is not found). */
export async function passkeyOf(
  store: Store,
  userId: number,
  credentialId: string,
): Promise<PasskeyRow | undefined> {
  const r = await store.db
    .selectFrom('access_passkey')
    .selectAll()
    .where('user_id', '=', userId)
    .where('credential_id', '=', credentialId)
    .executeTakeFirst();
  return r ? passkeyRow(r) : undefined;
}

/** A user's passkeys by user name (pages know the name of who is signed in). */
export async function passkeysOfUser(store: Store, userName: string): Promise<PasskeyRow[]> {
  const rows = await store.db
    .selectFrom('access_passkey')
    .innerJoin('access_user', 'access_user.id', 'access_passkey.user_id')
    .selectAll('access_passkey')
    .where('access_user.name', '=', userName)
    .orderBy('access_passkey.id')
    .execute();
  return rows.map(passkeyRow);
}
