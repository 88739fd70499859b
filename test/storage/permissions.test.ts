/**
 * The embedded store is private to its owner: a folder Mamori makes is 0700 and a new store file
 * 0600, with the WAL and shared-memory files SQLite makes beside it following the file's mode.
 * An existing folder keeps the mode its owner gave it.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb } from '../../src/storage/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const mode = (p: string) => statSync(p).mode & 0o777;

describe('embedded store permissions', () => {
  it('makes its folder 0700 and a new store 0600, WAL and SHM included', async () => {
    const base = mkdtempSync(join(tmpdir(), 'mamori-perm-'));
    dirs.push(base);
    const path = join(base, 'data', 'mamori', 'mamori.db');
    const store = await openDb(path);
    try {
      await store.db.selectFrom('mamori_meta').selectAll().execute();
      expect(mode(join(base, 'data', 'mamori'))).toBe(0o700);
      expect(mode(path)).toBe(0o600);
      expect(mode(`${path}-wal`)).toBe(0o600);
      expect(mode(`${path}-shm`)).toBe(0o600);
    } finally {
      await store.close();
    }
  });
  it('leaves an existing folder as it is', async () => {
    const base = mkdtempSync(join(tmpdir(), 'mamori-perm-'));
    dirs.push(base);
    const before = mode(base);
    const store = await openDb(join(base, 'm.db'));
    await store.close();
    expect(mode(base)).toBe(before);
    expect(mode(join(base, 'm.db'))).toBe(0o600);
  });
});
