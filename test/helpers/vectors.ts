/**
 * Where the third-party vectors live: `../shared/vectors` beside the project root. A missing
 * vector file fails the test (never a silent skip).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const VECTORS = resolve(PROJECT_ROOT, '..', 'shared', 'vectors');

/** Absolute path of a vector file; throws when it is missing. @example vector('bitcoin/bip39/vectors.json') */
export function vector(rel: string): string {
  const p = join(VECTORS, rel);
  if (!existsSync(p))
    throw new Error(`vector file missing: ${p} (see ../shared/vectors/README.md)`);
  return p;
}
