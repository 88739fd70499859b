/** Jvn input for `vuln sync`: not built yet. */
import { notImplemented } from '../shared/errors.js';
import type { InputEntry, Parsed } from './sync.js';

export function parseJvnEntry(_entry: InputEntry): Iterable<Parsed> {
  throw notImplemented('vuln sync --source jvn');
}
