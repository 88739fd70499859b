/**
 * The console's access rules as pure functions: durations, token and session-id formats,
 * sign-in lockout, Host and Origin checks, password rules, and the PHC string of a password
 * hash. No IO, no clock, no randomness: callers pass the time and the random bytes.
 */

/** Sign-in lockout: this many failures within the window lock the name (and the address). */
export interface LockoutPolicy {
  maxFailures: number;
  windowMs: number;
  lockMs: number;
}

export const DEFAULT_LOCKOUT: LockoutPolicy = {
  maxFailures: 5,
  windowMs: 15 * 60_000,
  lockMs: 15 * 60_000,
};

/**
 * When sign-in opens again given the times (ms) of recent failures, or undefined when it is
 * open now. Locked once `maxFailures` fall within `windowMs`; the lock lasts `lockMs` from the
 * last of them.
 * @example lockedUntil([1, 2, 3, 4, 5], 10, DEFAULT_LOCKOUT) === 5 + 15 * 60_000
 */
export function lockedUntil(
  failures: readonly number[],
  now: number,
  policy: LockoutPolicy = DEFAULT_LOCKOUT,
): number | undefined {
  const recent = failures
    .filter((t) => t > now - policy.windowMs - policy.lockMs)
    .sort((a, b) => a - b);
  for (let i = recent.length - 1; i >= policy.maxFailures - 1; i--) {
    const last = recent[i]!;
    const first = recent[i - policy.maxFailures + 1]!;
    if (last - first <= policy.windowMs && last + policy.lockMs > now) return last + policy.lockMs;
  }
  return undefined;
}

const UNITS: Record<string, number> = {
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

/**
 * A token lifetime such as `30d`, `12h`, `90m`, `2w`; at most 400 days.
 * @example parseDuration('30d') === 2_592_000_000
 */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d{1,4})([mhdw])$/.exec(text.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * UNITS[m[2]!]!;
  if (ms <= 0 || ms > 400 * 86_400_000) return undefined;
  return ms;
}

const B64URL = /^[A-Za-z0-9_-]+$/;

/** A bearer token is `mamori_` and 43 base64url characters (32 random bytes). */
export const TOKEN_PREFIX = 'mamori_';

/** @example isTokenShaped('mamori_' + 'A'.repeat(43)) === true */
export function isTokenShaped(text: string): boolean {
  return (
    text.length === TOKEN_PREFIX.length + 43 &&
    text.startsWith(TOKEN_PREFIX) &&
    B64URL.test(text.slice(TOKEN_PREFIX.length))
  );
}

/** A session id is 43 base64url characters (32 random bytes). */
export function isSessionIdShaped(text: string): boolean {
  return text.length === 43 && B64URL.test(text);
}

/** A user name: letters, digits, `.`, `_`, `-`, `@`; 1–64 characters, starting alphanumeric. */
export function isUserName(text: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/.test(text);
}

/** Why a password is refused, or undefined when it is acceptable (NIST 800-63B: length). */
export function passwordProblem(password: string, userName: string): string | undefined {
  if ([...password].length < 12) return 'a password needs at least 12 characters';
  if (password.length > 1024) return 'a password may have at most 1,024 characters';
  if (password.toLowerCase() === userName.toLowerCase()) return 'the password is the user name';
  return undefined;
}

/** Equal in time independent of where the first difference is. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Argon2id parameters (OWASP Password Storage Cheat Sheet: m=19 MiB, t=2, p=1). */
export interface Argon2Params {
  m: number;
  t: number;
  p: number;
}

export const ARGON2_DEFAULT: Argon2Params = { m: 19456, t: 2, p: 1 };

/** @example formatPhc(ARGON2_DEFAULT, 'c2FsdA', 'aGFzaA') === '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA' */
export function formatPhc(params: Argon2Params, saltB64: string, hashB64: string): string {
  return `$argon2id$v=19$m=${params.m},t=${params.t},p=${params.p}$${saltB64}$${hashB64}`;
}

/** Parse a PHC argon2id string; undefined when it is not one we wrote. */
export function parsePhc(
  text: string,
): { params: Argon2Params; salt: string; hash: string } | undefined {
  const m =
    /^\$argon2id\$v=19\$m=(\d{1,7}),t=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(
      text,
    );
  if (!m) return undefined;
  return {
    params: { m: Number(m[1]), t: Number(m[2]), p: Number(m[3]) },
    salt: m[4]!,
    hash: m[5]!,
  };
}

/**
 * Whether a Host header names this service: an exact, case-insensitive match against the
 * allow-list of `host[:port]` values. An absent Host is refused.
 * @example hostAllowed('127.0.0.1:8080', ['127.0.0.1:8080']) === true
 */
export function hostAllowed(host: string | undefined, allowed: readonly string[]): boolean {
  if (!host) return false;
  const h = host.toLowerCase();
  return allowed.some((a) => a.toLowerCase() === h);
}

/**
 * Whether an Origin header names this service. `null` and absent Origins are refused for
 * state changes made with a cookie.
 * @example originAllowed('http://127.0.0.1:8080', ['http://127.0.0.1:8080']) === true
 */
export function originAllowed(origin: string | undefined, allowed: readonly string[]): boolean {
  if (!origin || origin === 'null') return false;
  const o = origin.toLowerCase().replace(/\/$/, '');
  return allowed.some((a) => a.toLowerCase().replace(/\/$/, '') === o);
}
