/**
 * The recorded "last check", on both backends: real pypa advisories synced from the vectors, a
 * real requirements inventory checked with checkComponents and recorded; two runs are both
 * kept and the newest answers; any alias (CVE, GHSA, PYSEC) finds the finding; the built CLI
 * and POST /api/v1/vuln/check record a run; `--no-record` / `?record=false` do not.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  checkComponents,
  lastCheckFindings,
  lastCheckRun,
  listCheckRuns,
  parseInventory,
  recordCheckRun,
  syncFrom,
} from '../../src/vuln/index.js';
import { runMamori } from '../helpers/cli.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';
import { vector } from '../helpers/vectors.js';
import { testApp } from '../helpers/web.js';

async function checkAndRecord(store: TestStore['store'], name: string, text: string) {
  const inv = parseInventory(name, text, parseToml);
  const result = await checkComponents(store, inv.components);
  const run = await recordCheckRun(store, {
    origin: 'cli',
    inventories: [name],
    components: inv.components.length,
    result,
    unsupported: inv.unsupported.length,
  });
  return { result, run };
}

for (const backend of testBackends()) {
  describe(`vuln last check (${backend})`, () => {
    let t: TestStore;
    let dir: string;
    beforeEach(async () => {
      t = await freshStore(backend);
      dir = mkdtempSync(join(tmpdir(), 'mamori-vuln-last-'));
      const s = await syncFrom(t.store, {
        source: 'osv',
        from: vector('vuln/osv/pypa/werkzeug'),
      });
      expect(s.errors).toEqual([]);
    });
    afterEach(async () => {
      await t.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it('records each run coverage: an ecosystem nothing synced covers reads back as not covered', async () => {
      // A run over an ecosystem nothing synced covers is recorded as not covered, and read back so.
      await checkAndRecord(
        t.store,
        'status',
        'Package: zlib1g\nStatus: install ok installed\nSource: zlib\nVersion: 1:1.2.13.dfsg-1\n',
      );
      expect(await lastCheckRun(t.store)).toMatchObject({
        notCovered: 1,
        coverage: [
          {
            ecosystem: 'Debian',
            components: 1,
            covered: false,
            reason: 'no Debian advisories synced',
          },
        ],
      });
      expect((await listCheckRuns(t.store)).map((r) => r.notCovered)).toEqual([1]);
    });

    it('keeps every run; the newest is the last and answers for any alias', async () => {
      expect(await lastCheckRun(t.store)).toBeUndefined();
      expect(await lastCheckFindings(t.store, ['CVE-2023-46136'])).toEqual([]);

      const first = await checkAndRecord(t.store, 'requirements.txt', 'werkzeug==2.3.7\n');
      const cve = first.result.findings.filter((f) =>
        f.vulnerability.aliases.concat(f.vulnerability.id).includes('CVE-2023-46136'),
      );
      expect(cve).toHaveLength(1);
      expect(first.run).toMatchObject({
        inventories: ['requirements.txt'],
        components: 1,
        findings: first.result.findings.length,
        notCovered: 0,
        coverage: [{ ecosystem: 'PyPI', components: 1, covered: true }],
      });
      for (const id of [
        'CVE-2023-46136',
        'GHSA-hrfv-mqp8-q5rw',
        'PYSEC-2023-221',
        'cve-2023-46136',
      ]) {
        const hits = await lastCheckFindings(t.store, [id]);
        expect(hits, id).toHaveLength(1);
        expect(hits[0]).toMatchObject({
          package: { name: 'werkzeug', version: '2.3.7', ecosystem: 'PyPI' },
          fixed: ['2.3.8'],
          severity: 'high',
          runId: first.run.id,
        });
      }
      expect(await lastCheckFindings(t.store, ['CVE-1999-0001'])).toEqual([]);

      // A second run after the update: the fix is in, so the last check no longer says so.
      const second = await checkAndRecord(t.store, 'requirements-new.txt', 'werkzeug==3.0.1\n');
      expect(second.run.id).toBeGreaterThan(first.run.id);
      const runs = await listCheckRuns(t.store);
      expect(runs.map((r) => r.id)).toEqual([second.run.id, first.run.id]);
      expect((await lastCheckRun(t.store))?.inventories).toEqual(['requirements-new.txt']);
      expect(await lastCheckFindings(t.store, ['CVE-2023-46136'])).toEqual([]);
      // History kept: the first run's findings are still stored.
      const kept = await t.store.db
        .selectFrom('vuln_check_finding')
        .select((e) => e.fn.countAll().as('n'))
        .where('run_id', '=', first.run.id)
        .executeTakeFirstOrThrow();
      expect(Number(kept.n)).toBe(first.result.findings.length);
    });

    it('the CLI records each check run; --no-record leaves the store untouched', async () => {
      const req = join(dir, 'requirements.txt');
      writeFileSync(req, 'Werkzeug==2.3.7\n');
      const ro = await runMamori(['vuln', 'check', req, '--no-record', '--db', t.spec, '--json']);
      expect(ro.code, ro.stderr).toBe(0);
      expect(JSON.parse(ro.stdout).findings.length).toBeGreaterThan(0);
      expect(await listCheckRuns(t.store)).toEqual([]);
      const rw = await runMamori(['vuln', 'check', req, '--db', t.spec, '--json']);
      expect(rw.code, rw.stderr).toBe(0);
      const runs = await listCheckRuns(t.store);
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({
        origin: 'cli',
        inventories: [req],
        components: 1,
        findings: JSON.parse(rw.stdout).findings.length,
      });
      const hits = await lastCheckFindings(t.store, ['GHSA-hrfv-mqp8-q5rw']);
      expect(hits.map((h) => `${h.package.name} ${h.package.version} → ${h.fixed}`)).toEqual([
        'Werkzeug 2.3.7 → 2.3.8',
      ]);
    });

    it('POST /api/v1/vuln/check records a run; ?record=false does not', async () => {
      const app = await testApp(t.store, 'test');
      const post = (q: string) =>
        app.request(`/api/v1/vuln/check?name=requirements.txt${q}`, {
          method: 'POST',
          body: 'werkzeug==2.3.7\n',
        });
      const ro = await post('&record=false');
      expect(ro.status).toBe(200);
      expect((await ro.json()).findings.length).toBeGreaterThan(0);
      expect(await lastCheckRun(t.store)).toBeUndefined();
      const rw = await post('');
      const n = (await rw.json()).findings.length;
      expect(await lastCheckRun(t.store)).toMatchObject({
        origin: 'api',
        inventories: ['requirements.txt'],
        components: 1,
        findings: n,
      });
      expect(await lastCheckFindings(t.store, ['PYSEC-2023-221'])).toHaveLength(1);
    });
  });
}
