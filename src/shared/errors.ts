/**
 * MamoriError: the one error class of the project, with stable string codes.
 * Not the exit-code table: that lives in `src/cli/exit.ts`, the only place codes become exits.
 */

/** Stable error codes. Code branches on these, never on message text. */
export const ERROR_CODES = [
  'E_USAGE', // bad command line
  'E_INPUT', // bad input data (file, record, address …)
  'E_CONFIG', // bad configuration value
  'E_UNSUPPORTED', // a format or ecosystem we do not handle
  'E_NOT_FOUND', // the thing asked for is not in the store
  'E_NOT_IMPLEMENTED', // a part that is not built yet
  'E_STORAGE', // the store cannot be opened or written
  'E_SCHEMA', // the store was made by a newer mamori
  'E_NETWORK', // a dependency on the network is unreachable
  'E_DEPENDENCY', // another dependency (node, browser, binary) unavailable
  'E_SCOPE', // target outside the declared scope
  'E_POLICY', // refused by policy
  'E_FROZEN', // custody is frozen
  'E_AUTH', // wrong passphrase, missing approval
  'E_FINDINGS', // findings at or above --fail-on
  'E_INTERRUPTED', // SIGINT
  'E_INTERNAL', // a bug
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface MamoriErrorOptions {
  cause?: unknown;
  /** One line telling the user what to do next. */
  hint?: string;
  /** Machine-readable details (never secrets). */
  details?: Record<string, unknown>;
}

/**
 * @example
 * throw new MamoriError('E_INPUT', 'line 3: not a CIDR: "10.0.0/33"', { hint: 'use a.b.c.d/n' });
 */
export class MamoriError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: MamoriErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MamoriError';
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint ? { hint: this.hint } : {}),
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

export function isMamoriError(err: unknown): err is MamoriError {
  return err instanceof MamoriError;
}

/** Shorthand for the CLI's "this part is not built yet". */
export function notImplemented(what: string): MamoriError {
  return new MamoriError('E_NOT_IMPLEMENTED', `${what}: not implemented`, {
    hint: 'this part of mamori is not built yet; see the open issues',
  });
}
