/**
 * Credentials: the public Mirai default list (the 62 user/password pairs in Mirai's
 * `scanner.c`, published with its source in 2016) used to tell botnet guessing from other
 * guessing, and the honeypot's auth modes. Pure data and comparisons; no IO.
 */

/** Mirai's built-in default credentials, as published (`[user, password]`, '' = empty). */
export const MIRAI_DEFAULTS: readonly (readonly [string, string])[] = [
  ['root', 'xc3511'],
  ['root', 'vizxv'],
  ['root', 'admin'],
  ['admin', 'admin'],
  ['root', '888888'],
  ['root', 'xmhdipc'],
  ['root', 'default'],
  ['root', 'juantech'],
  ['root', '123456'],
  ['root', '54321'],
  ['support', 'support'],
  ['root', ''],
  ['admin', 'password'],
  ['root', 'root'],
  ['root', '12345'],
  ['user', 'user'],
  ['admin', ''],
  ['root', 'pass'],
  ['admin', 'admin1234'],
  ['root', '1111'],
  ['admin', 'smcadmin'],
  ['admin', '1111'],
  ['root', '666666'],
  ['root', 'password'],
  ['root', '1234'],
  ['root', 'klv123'],
  ['Administrator', 'admin'],
  ['service', 'service'],
  ['supervisor', 'supervisor'],
  ['guest', 'guest'],
  ['guest', '12345'],
  ['guest', '12345'],
  ['admin1', 'password'],
  ['administrator', '1234'],
  ['666666', '666666'],
  ['888888', '888888'],
  ['ubnt', 'ubnt'],
  ['root', 'klv1234'],
  ['root', 'Zte521'],
  ['root', 'hi3518'],
  ['root', 'jvbzd'],
  ['root', 'anko'],
  ['root', 'zlxx.'],
  ['root', '7ujMko0vizxv'],
  ['root', '7ujMko0admin'],
  ['root', 'system'],
  ['root', 'ikwb'],
  ['root', 'dreambox'],
  ['root', 'user'],
  ['root', 'realtek'],
  ['root', '00000000'],
  ['admin', '1111111'],
  ['admin', '1234'],
  ['admin', '12345'],
  ['admin', '54321'],
  ['admin', '123456'],
  ['admin', '7ujMko0admin'],
  ['admin', '1234'],
  ['admin', 'pass'],
  ['admin', 'meinsm'],
  ['tech', 'tech'],
  ['mother', 'fucker'],
];

const MIRAI_SET = new Set(MIRAI_DEFAULTS.map(([u, p]) => `${u}\u0000${p}`));

/** @example isBotnetDefault('root', 'xc3511') === true */
export function isBotnetDefault(username: string, password: string): boolean {
  return MIRAI_SET.has(`${username}\u0000${password}`);
}

export const AUTH_MODES = ['none', 'weak', 'flawed', 'strong'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

/**
 * The guessable credentials of `weak` mode: the camera ships with admin/admin and the telnet
 * side with a classic DVR default, as in the exposed cameras of the experiments.
 */
export const WEAK_CREDENTIALS: readonly (readonly [string, string])[] = [
  ['admin', 'admin'],
  ['root', 'xc3511'],
];

export interface AuthPolicy {
  mode: AuthMode;
  /** For flawed/strong: the one real credential (a long random password, never printed). */
  strongUser: string;
  strongPassword: string;
}

/**
 * Does this credential open the camera in this mode? `none` accepts anything (there is no
 * password to guess), `weak` the guessable defaults, `flawed` and `strong` only the strong one.
 * @example checkCredential({ mode: 'weak', strongUser: 'admin', strongPassword: 'x' }, 'admin', 'admin') === true
 */
export function checkCredential(policy: AuthPolicy, username: string, password: string): boolean {
  switch (policy.mode) {
    case 'none':
      return true;
    case 'weak':
      return WEAK_CREDENTIALS.some(([u, p]) => u === username && p === password);
    default:
      return constantTimeEqual(
        `${username}\u0000${password}`,
        `${policy.strongUser}\u0000${policy.strongPassword}`,
      );
  }
}

function constantTimeEqual(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) diff |= (a.charCodeAt(i) || 0) ^ (b.charCodeAt(i) || 0);
  return diff === 0;
}
