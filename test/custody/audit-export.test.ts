/**
 * `audit export` for an outside witness, verified offline (`audit verify --file`, no store) on
 * a real store (SQLite, and PostgreSQL when MAMORI_TEST_PG is set) and through the built CLI:
 * the intact export verifies; a deleted or an altered entry, an entry signed by an identity the
 * genesis does not list, and an export cut at its end (against a checkpoint kept elsewhere) are
 * each found. No node: only identities, the genesis and the log.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entryHash } from '../../src/custody/core/audit.js';
import * as custody from '../../src/custody/index.js';
import { manualClock } from '../../src/shared/clock.js';
import { type CliResult, runMamori } from '../helpers/cli.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';

const PASS = 'correct horse battery';
const FAST = { N: 2 ** 12, r: 8, p: 1 };

for (const backend of testBackends()) {
  describe(`custody audit export, verified offline (${backend})`, () => {
    let t: TestStore;
    let dir: string;
    const clock = manualClock(Date.now());
    const signers: Record<string, custody.Signer> = {};
    let genesis: custody.Genesis;
    const f = (n: string) => join(dir, n);
    const verify = (args: string[]): Promise<CliResult> =>
      runMamori(['custody', 'audit', 'verify', ...args, '--json'], {
        env: { MAMORI_DB: '/nonexistent/never.db', MAMORI_CONFIG: undefined, XDG_CONFIG_HOME: dir },
        timeoutMs: 60_000,
      });

    beforeAll(async () => {
      t = await freshStore(backend);
      dir = mkdtempSync(join(tmpdir(), 'mamori-audit-export-'));
      const files: Record<string, custody.IdentityFile> = {};
      for (const n of ['adm1', 'adm2', 'stranger']) {
        files[n] = await custody.newIdentity(n, PASS, { scrypt: FAST });
        signers[n] = await custody.unlockIdentity(files[n]!, PASS);
      }
      const iso = () => new Date(clock.now()).toISOString();
      genesis = custody.makeGenesis({
        identities: [files.adm1!.public, files.adm2!.public],
        admins: [files.adm1!.public.id, files.adm2!.public.id],
        adminThreshold: 2,
        approvers: [files.adm2!.public.id],
        operators: [files.adm1!.public.id],
        createdAt: iso(),
      });
      genesis = custody.signGenesis(genesis, signers.adm1!, iso());
      genesis = custody.signGenesis(genesis, signers.adm2!, iso());
      writeFileSync(f('genesis.json'), JSON.stringify(genesis));
    });
    afterAll(async () => {
      for (const s of Object.values(signers)) s.wipe();
      await t?.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it('an intact export verifies offline; deletion, alteration, strangers and a cut tail are found', {
      timeout: 180_000,
    }, async () => {
      const ctx: custody.CustodyContext = { store: t.store, clock, actor: 'test' };
      const as = (n: string) => ({ ...ctx, signer: signers[n]! });
      const keys = [];
      for (let i = 0; i < 3; i++)
        keys.push(await custody.newKey('regtest', PASS, { scrypt: FAST }));
      await custody.createWallet(as('adm1'), {
        name: 'cold',
        tier: 'cold',
        threshold: 2,
        xpubs: keys.map((k) => k.file.public.originXpub),
        network: 'regtest',
      });
      for (let i = 0; i < 3; i++) await custody.newAddress(as(i % 2 ? 'adm2' : 'adm1'), 'cold');
      const cp = await custody.auditCheckpoint(as('adm2'));
      await custody.newAddress(as('adm1'), 'cold');
      const doc = await custody.exportAudit(ctx);
      expect(doc.entries.length).toBeGreaterThanOrEqual(5);
      const root = custody.checkGenesis(genesis, clock.now());
      const ok = custody.verifyAuditExport(JSON.parse(JSON.stringify(doc)), { genesis: root });
      expect(ok).toMatchObject({ ok: true, problems: [], checkpoints: 1 });

      const write = (name: string, d: unknown) => {
        writeFileSync(f(name), JSON.stringify(d));
        return f(name);
      };
      const intact = await verify([
        '--file',
        write('intact.json', doc),
        '--trust',
        f('genesis.json'),
      ]);
      expect(intact.code, intact.stderr).toBe(0);
      expect(JSON.parse(intact.stdout)).toMatchObject({ ok: true, count: doc.entries.length });

      const problemsOf = async (name: string, d: unknown, extra: string[] = []) => {
        const r = await verify(['--file', write(name, d), ...extra]);
        expect(r.code, r.stderr).toBe(1); // E_FINDINGS: the log was altered
        return custody
          .verifyAuditExport(d, {
            ...(extra[0] === '--head' ? { head: extra[1]! } : {}),
            ...(extra.includes('--trust') ? { genesis: root } : {}),
          })
          .problems.map((p) => p.problem);
      };
      const clone = () => JSON.parse(JSON.stringify(doc)) as typeof doc;
      // a deleted entry in the middle
      const deleted = clone();
      deleted.entries.splice(2, 1);
      expect(await problemsOf('deleted.json', deleted)).toContain('deleted-or-reordered');
      // an altered entry (its data changed, its hash kept)
      const altered = clone();
      altered.entries[1]!.data = altered.entries[1]!.data.replace('cold', 'hot0');
      expect(await problemsOf('altered.json', altered)).toContain('edited');
      // an entry re-made end to end and signed by a key the genesis does not list
      const stranger = clone();
      const last = stranger.entries[stranger.entries.length - 1]!;
      const body = { ...last, actor: signers.stranger!.id };
      const { hash: _h, sig: _s, ...unhashed } = body;
      const hash = entryHash(unhashed);
      stranger.entries[stranger.entries.length - 1] = {
        ...body,
        hash,
        sig: JSON.stringify(signers.stranger!.sign(custody.AUDIT_DOMAIN, last.at, { hash })),
      };
      expect(await problemsOf('stranger.json', stranger, ['--trust', f('genesis.json')])).toContain(
        'unknown-identity',
      );
      // the tail cut back below the checkpoint, and the checkpoints dropped from the file: only
      // the checkpoint the witness kept finds it
      const cut = clone();
      cut.entries = cut.entries.filter((e) => e.seq < cp.seq);
      cut.checkpoints = [];
      expect(custody.verifyAuditExport(cut).ok).toBe(true);
      expect(await problemsOf('cut.json', cut, ['--head', `${cp.seq}:${cp.hash}`])).toContain(
        'truncated',
      );
      // a truncated file is bad input, not a verdict
      writeFileSync(f('torn.json'), JSON.stringify(doc).slice(0, 200));
      const torn = await verify(['--file', f('torn.json')]);
      expect(torn.code).toBe(2);
      expect(torn.stderr).toMatch(/E_INPUT/);
    });
  });
}
