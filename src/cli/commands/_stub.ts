/**
 * A verb that is named by an issue but not built yet: it accepts its arguments and says
 * "not implemented" (exit 2), so nobody mistakes it for working.
 */
import { notImplemented } from '../../shared/errors.js';
import type { VerbSpec } from '../types.js';

export function notYet(
  summary: string,
  usage: string,
  options: VerbSpec['options'] = {},
): VerbSpec {
  return {
    summary: `${summary} (not implemented yet)`,
    usage,
    options,
    positionals: { min: 0 },
    strict: false,
    async run() {
      throw notImplemented(usage.split(' [')[0]!.split(' <')[0]!);
    },
  };
}
