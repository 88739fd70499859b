/**
 * The built CLI as a user runs it: help, typos, bad input and exit codes, on both backends.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDb } from '../../src/storage/index.js';
import { runMamori } from '../helpers/cli.js';
import { freshSpec, testBackends } from '../helpers/db.js';

const home = mkdtempSync(join(tmpdir(), 'mamori-e2e-'));
const env = {
  HOME: home,
  XDG_DATA_HOME: join(home, 'data'),
  XDG_CONFIG_HOME: join(home, 'config'),
  MAMORI_DB: undefined,
};

describe('mamori CLI', () => {
  it('--version prints the package version', async () => {
    const r = await runMamori(['--version'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^mamori \d+\.\d+\.\d+\n$/);
  });

  it('--help lists every area with one line each', async () => {
    const r = await runMamori(['--help'], { env });
    expect(r.code).toBe(0);
    for (const area of [
      'vuln',
      'custody',
      'trace',
      'exposure',
      'honeypot',
      'bulletin',
      'serve',
      'db',
    ]) {
      expect(r.stdout).toMatch(new RegExp(`^  ${area} +\\S.*$`, 'm'));
    }
  });

  it('<area> --help lists the verbs', async () => {
    const r = await runMamori(['db', '--help'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/migrate/);
    expect(r.stdout).toMatch(/status/);
    const v = await runMamori(['db', 'status', '--help'], { env });
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^Usage: mamori db status/m);
  });

  it('an unknown command exits 2 with one clear line and no stack', async () => {
    const r = await runMamori(['frobnicate'], { env });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toBe("mamori: error: unknown command 'frobnicate' [E_USAGE]");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a mistyped command gets the closest one as a hint', async () => {
    const r = await runMamori(['custdy'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("did you mean 'mamori custody'");
    const v = await runMamori(['db', 'stauts'], { env });
    expect(v.code).toBe(2);
    expect(v.stderr).toContain("did you mean 'mamori db status'");
  });

  it('an unknown flag exits 2 with the closest flag as a hint', async () => {
    const r = await runMamori(['db', 'status', '--jsn'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--jsn'");
    expect(r.stderr).toContain('did you mean --json');
  });

  it('a malformed --db URL exits 2', async () => {
    const r = await runMamori(['db', 'status', '--db', 'postgres://u:pw@:notaport/x'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('E_USAGE');
    expect(r.stderr).not.toContain(':pw@');
  });

  it('an unreachable PostgreSQL exits 3 with one line', async () => {
    const r = await runMamori(['db', 'status', '--db', 'postgres://mamori:pw@127.0.0.1:1/mamori'], {
      env,
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('cannot reach PostgreSQL');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('an unwritable data directory exits 3', async () => {
    const blocker = join(home, 'not-a-dir');
    writeFileSync(blocker, 'x');
    const r = await runMamori(['db', 'status'], {
      env: { ...env, XDG_DATA_HOME: join(blocker, 'data') },
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('cannot create the data directory');
  });

  it('creates the default SQLite store in $XDG_DATA_HOME/mamori on first use', async () => {
    const r = await runMamori(['db', 'status', '--json'], { env });
    expect(r.code).toBe(0);
    const status = JSON.parse(r.stdout);
    expect(status.location).toBe(join(home, 'data', 'mamori', 'mamori.db'));
    expect(existsSync(join(home, 'data', 'mamori', 'mamori.db'))).toBe(true);
  });

  it('MAMORI_DB chooses the store; --db overrides it', async () => {
    const a = join(home, 'a.db');
    const b = join(home, 'b.db');
    const r1 = await runMamori(['db', 'status', '--json'], { env: { ...env, MAMORI_DB: a } });
    expect(JSON.parse(r1.stdout).location).toBe(a);
    const r2 = await runMamori(['db', 'status', '--json', '--db', b], {
      env: { ...env, MAMORI_DB: a },
    });
    expect(JSON.parse(r2.stdout).location).toBe(b);
  });

  it('global flags may come before the area', async () => {
    const c = join(home, 'c.db');
    const r = await runMamori(['--db', c, '--json', 'db', 'status'], { env });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).location).toBe(c);
  });

  it('--json errors are JSON on stderr with the stable code', async () => {
    const r = await runMamori(['db', 'status', '--json', '--db', 'mysql://x/y'], { env });
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stderr.trim())).toMatchObject({ error: { code: 'E_USAGE' } });
  });

  it('config show lists values and their sources', async () => {
    const r = await runMamori(['config', 'show', '--json', '--db', '/tmp/flag.db'], { env });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.values).toContainEqual({ key: 'db', value: '/tmp/flag.db', source: 'flag' });
  });
});

for (const backend of testBackends()) {
  describe(`db verbs on ${backend}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterAll(async () => {
      for (const c of cleanups) await c();
    });

    it('db migrate then db status --json', async () => {
      const { spec, cleanup } = await freshSpec(backend);
      cleanups.push(cleanup);
      const m = await runMamori(['db', 'migrate', '--json', '--db', spec], { env });
      expect(m.code).toBe(0);
      const migrated = JSON.parse(m.stdout);
      expect(migrated.applied.length).toBeGreaterThan(0);
      const again = JSON.parse(
        (await runMamori(['db', 'migrate', '--json', '--db', spec], { env })).stdout,
      );
      expect(again.applied).toEqual([]);
      const s = await runMamori(['db', 'status', '--json', '--db', spec], { env });
      expect(s.code).toBe(0);
      const status = JSON.parse(s.stdout);
      expect(status).toMatchObject({ backend, schemaVersion: migrated.schemaVersion, pending: [] });
      expect(status.tables).toContainEqual({ name: 'alert', rows: 0 });
      if (backend === 'postgres') expect(status.location).not.toMatch(/:[^@/]*@/);
    });

    it('a store from a newer schema exits 3 and is left untouched', async () => {
      const { spec, cleanup } = await freshSpec(backend);
      cleanups.push(cleanup);
      const store = await openDb(spec);
      await store.db
        .insertInto('mamori_migration' as never)
        .values({ name: '29990101_00_future', timestamp: '2999-01-01T00:00:00.000Z' } as never)
        .execute();
      await store.close();
      const r = await runMamori(['db', 'status', '--db', spec], { env });
      expect(r.code).toBe(3);
      expect(r.stderr).toContain('newer mamori');
      expect(r.stderr).toContain('E_SCHEMA');
    });
  });
}
