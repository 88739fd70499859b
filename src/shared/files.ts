/**
 * Writing a file whole or not at all: the text goes to `<path>.tmp`, is fsynced, and replaces
 * the old file by rename (atomic on POSIX), then the folder is fsynced. A crash leaves the old
 * file or the new one, never a torn one. Not for appends to files others read while we write.
 */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * @example writeFileAtomic('ledger.jsonl', text, { mode: 0o600 })
 */
export function writeFileAtomic(path: string, text: string, opts: { mode?: number } = {}): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', opts.mode ?? 0o666);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dir = openSync(dirname(resolve(path)), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
