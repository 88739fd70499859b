/** `mamori user` and `mamori token` as a user runs them (the built CLI), on both backends. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listAudit } from '../../src/access/index.js';
import { openDb } from '../../src/storage/index.js';
import { runMamori } from '../helpers/cli.js';
import { freshSpec, testBackends } from '../helpers/db.js';

const home = mkdtempSync(join(tmpdir(), 'mamori-access-cli-'));
const env = {
  HOME: home,
  XDG_DATA_HOME: join(home, 'data'),
  MAMORI_PASSWORD: 'correct horse battery staple',
};

for (const backend of testBackends()) {
  describe(`user and token CLI on ${backend}`, () => {
    let cleanup: (() => Promise<void>) | undefined;
    afterEach(async () => {
      await cleanup?.();
    });

    it('adds, lists, disables users; creates, lists, revokes tokens; audits each', async () => {
      const f = await freshSpec(backend);
      cleanup = f.cleanup;
      const db = ['--db', f.spec];
      const add = await runMamori(['user', 'add', 'aiko', '--role', 'approver', '--json', ...db], {
        env,
      });
      expect(add.code, add.stderr).toBe(0);
      expect(JSON.parse(add.stdout)).toMatchObject({ name: 'aiko', role: 'approver' });
      expect(
        (await runMamori(['user', 'add', 'aiko', '--role', 'viewer', ...db], { env })).code,
      ).toBe(2);
      const badRole = await runMamori(['user', 'add', 'kenji', '--role', 'root', ...db], { env });
      expect(badRole.code).toBe(2);
      expect(badRole.stderr).toMatch(/viewer, operator, approver, admin/);
      const weak = await runMamori(['user', 'add', 'kenji', '--role', 'viewer', ...db], {
        env: { ...env, MAMORI_PASSWORD: 'short' },
      });
      expect(weak.code).toBe(2);
      expect(weak.stderr).toMatch(/12 characters/);
      const noPw = await runMamori(['user', 'add', 'kenji', '--role', 'viewer', ...db], {
        env: { ...env, MAMORI_PASSWORD: '' },
      });
      expect(noPw.code).toBe(2);
      expect((await runMamori(['user', 'disable', 'aiko', ...db], { env })).code).toBe(0);
      expect((await runMamori(['user', 'disable', 'nobody', ...db], { env })).code).toBe(2);
      const list = JSON.parse((await runMamori(['user', 'list', '--json', ...db], { env })).stdout);
      expect(list).toMatchObject([{ name: 'aiko', role: 'approver' }]);
      expect(list[0].disabledAt).not.toBeNull();
      expect(JSON.stringify(list)).not.toContain('argon2');

      const made = await runMamori(
        ['token', 'create', '--role', 'viewer', '--expires', '30d', '--json', ...db],
        { env },
      );
      expect(made.code, made.stderr).toBe(0);
      const tok = JSON.parse(made.stdout);
      expect(tok.token).toMatch(/^mamori_[A-Za-z0-9_-]{43}$/);
      expect(tok.role).toBe('viewer');
      expect(Date.parse(tok.expires) - Date.now()).toBeGreaterThan(29 * 86_400_000);
      expect(
        (
          await runMamori(['token', 'create', '--role', 'viewer', '--expires', '1y', ...db], {
            env,
          })
        ).code,
      ).toBe(2);
      const tokens = await runMamori(['token', 'list', '--json', ...db], { env });
      expect(tokens.stdout).not.toContain(tok.token);
      expect(JSON.parse(tokens.stdout)).toMatchObject([
        { id: tok.id, role: 'viewer', revokedAt: null },
      ]);
      expect((await runMamori(['token', 'revoke', String(tok.id), ...db], { env })).code).toBe(0);
      expect((await runMamori(['token', 'revoke', String(tok.id), ...db], { env })).code).toBe(2);

      const store = await openDb(f.spec);
      try {
        const rows = await store.db.selectFrom('access_token').selectAll().execute();
        expect(JSON.stringify(rows)).not.toContain(tok.token.slice(7));
        const trail = (await listAudit(store)).map((a) => a.action);
        expect(trail).toEqual(
          expect.arrayContaining(['user add', 'user disable', 'token create', 'token revoke']),
        );
      } finally {
        await store.close();
      }
    }, 120_000);
  });
}
