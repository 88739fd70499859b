/**
 * Exit codes are public API, and this is the one place where errors become them (STYLE.md):
 * 0 ok · 1 findings at or above --fail-on · 2 usage or bad input · 3 a dependency unavailable ·
 * 4 refused by policy or scope · 70 internal bug · 130 interrupted.
 */
import type { ErrorCode } from '../shared/errors.js';

export const EXIT = {
  ok: 0,
  findings: 1,
  usage: 2,
  unavailable: 3,
  refused: 4,
  internal: 70,
  interrupted: 130,
} as const;

const BY_CODE: Record<ErrorCode, number> = {
  E_USAGE: EXIT.usage,
  E_INPUT: EXIT.usage,
  E_CONFIG: EXIT.usage,
  E_UNSUPPORTED: EXIT.usage,
  E_NOT_FOUND: EXIT.usage,
  E_NOT_IMPLEMENTED: EXIT.usage,
  E_AUTH: EXIT.refused,
  E_STORAGE: EXIT.unavailable,
  E_SCHEMA: EXIT.unavailable,
  E_NETWORK: EXIT.unavailable,
  E_DEPENDENCY: EXIT.unavailable,
  E_SCOPE: EXIT.refused,
  E_POLICY: EXIT.refused,
  E_FROZEN: EXIT.refused,
  E_FINDINGS: EXIT.findings,
  E_INTERRUPTED: EXIT.interrupted,
  E_INTERNAL: EXIT.internal,
};

/** @example exitCodeFor('E_SCOPE') === 4 */
export function exitCodeFor(code: ErrorCode): number {
  return BY_CODE[code] ?? EXIT.internal;
}
