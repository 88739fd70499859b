/**
 * The access area's public surface: console users, bearer tokens, sessions, sign-in lockout,
 * roles, the audit trail and alert triage. The web service and the CLI import only this file.
 */
export {
  constantTimeEqual,
  DEFAULT_LOCKOUT,
  hostAllowed,
  isUserName,
  type LockoutPolicy,
  lockedUntil,
  originAllowed,
  parseDuration,
  passwordProblem,
} from './core/policy.js';
export {
  can,
  holdersOf,
  type Permission,
  parseRole,
  permissionFor,
  ROLES,
  type Role,
} from './core/roles.js';
export * from './passkeys.js';
export * from './store.js';
