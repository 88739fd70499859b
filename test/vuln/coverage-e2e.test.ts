/**
 * No false all-clear, end to end with the built CLI on both backends. A store holding only the
 * real PyPA flask advisories must not clear this machine's dpkg database (`--host`) or a real
 * package-lock.json: both are NOT COVERED and `--fail-on` exits 3. flask==2.2.2 is affected by
 * CVE-2023-30861, whose PyPA record carries no severity: `--fail-on high` fails closed (exit 1).
 * Also: an all-unpinned requirements file, `vuln show`'s ranges, `vuln stats` after OSV only.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMamori } from '../helpers/cli.js';
import { freshSpec, testBackends } from '../helpers/db.js';
import { PROJECT_ROOT, vector } from '../helpers/vectors.js';

interface Coverage {
  ecosystem: string;
  components: number;
  covered: boolean;
  sources: { source: string; ecosystems: string[]; synced: string | null }[];
  reason?: string;
  hint?: string;
}

/** The ecosystem `--host` names this machine's packages by, from its os-release. */
function hostEcosystem(): string {
  const osr = readFileSync('/etc/os-release', 'utf8');
  const id = /^ID=["']?([^"'\n]+)/m.exec(osr)?.[1];
  const ver = /^VERSION_ID=["']?([^"'\n]+)/m.exec(osr)?.[1];
  if (id === 'ubuntu') return 'Ubuntu';
  return ver ? `Debian:${ver.split('.')[0]}` : 'Debian';
}

for (const backend of testBackends()) {
  describe(`vuln check coverage and unknown severity (${backend})`, () => {
    let spec: string;
    let cleanup: () => Promise<void>;
    let dir: string;
    const lock = join(PROJECT_ROOT, 'package-lock.json');
    beforeAll(async () => {
      ({ spec, cleanup } = await freshSpec(backend));
      dir = mkdtempSync(join(tmpdir(), 'mamori-cov-'));
      const r = await runMamori(
        ['vuln', 'sync', '--from', vector('vuln/osv/pypa/flask'), '--db', spec, '--json'],
        { timeoutMs: 60_000 },
      );
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ added: 3, errors: [] });
    });
    afterAll(async () => {
      await cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it('a PyPI-only store: --host and package-lock.json are NOT COVERED, --fail-on exits 3', async () => {
      const r = await runMamori(
        ['vuln', 'check', '--host', lock, '--db', spec, '--json', '--fail-on', 'high'],
        { timeoutMs: 60_000 },
      );
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toContain('not checked');
      const out = JSON.parse(r.stdout) as {
        findings: unknown[];
        covered: boolean;
        notCovered: number;
        coverage: Coverage[];
      };
      expect(out.findings).toEqual([]);
      expect(out.covered).toBe(false);
      const host = out.coverage.find((c) => c.ecosystem === hostEcosystem())!;
      const npm = out.coverage.find((c) => c.ecosystem === 'npm')!;
      expect(out.coverage).toHaveLength(2);
      expect(host).toMatchObject({ covered: false, sources: [] });
      expect(host.reason).toBe(`no ${hostEcosystem().split(':')[0]} advisories synced`);
      expect(host.components).toBeGreaterThan(50);
      expect(npm).toMatchObject({
        covered: false,
        sources: [],
        reason: 'no npm advisories synced',
        hint: 'mamori vuln sync --source osv --ecosystem npm',
      });
      expect(npm.components).toBeGreaterThan(100);
      expect(out.notCovered).toBe(host.components + npm.components);

      const table = await runMamori(['vuln', 'check', '--host', lock, '--db', spec], {
        timeoutMs: 60_000,
      });
      expect(table.code).toBe(0);
      expect(table.stdout).not.toMatch(/^no known vulnerabilities/m);
      expect(table.stdout).toContain(
        'NOT CHECKED: no synced advisories cover any ecosystem of this inventory',
      );
      expect(table.stdout).toMatch(/^NOT COVERED: npm \(\d+ components\): no npm advisories/m);
      expect(table.stdout).toContain(`NOT COVERED: ${hostEcosystem()} (`);

      const allowed = await runMamori(
        ['vuln', 'check', '--host', lock, '--db', spec, '--fail-on', 'high', '--allow-uncovered'],
        { timeoutMs: 60_000 },
      );
      expect(allowed.code, allowed.stderr).toBe(0);
    });

    it('the dpkg status file given as a file is not covered either', async () => {
      const r = await runMamori(
        ['vuln', 'check', '/var/lib/dpkg/status', '--db', spec, '--json', '--fail-on', 'low'],
        { timeoutMs: 60_000 },
      );
      expect(r.code, r.stderr).toBe(3);
      const out = JSON.parse(r.stdout) as { coverage: Coverage[] };
      expect(out.coverage.map((c) => [c.ecosystem, c.covered])).toEqual([['Debian', false]]);
    });

    it('covered beside not covered: PyPI names its source and sync time, Debian is not covered', async () => {
      const status = join(dir, 'status');
      writeFileSync(
        status,
        'Package: zlib1g\nStatus: install ok installed\nSource: zlib\nVersion: 1:1.2.13.dfsg-1\n',
      );
      // PyPI covered, Debian not: covered entries say their source and sync time.
      writeFileSync(join(dir, 'requirements.txt'), 'flask==2.3.3\n');
      const r = await runMamori(
        ['vuln', 'check', join(dir, 'requirements.txt'), status, '--db', spec, '--json'],
        { timeoutMs: 60_000 },
      );
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as { coverage: Coverage[]; covered: boolean };
      expect(out.covered).toBe(false);
      const [pypi, deb] = out.coverage;
      expect(pypi).toMatchObject({ ecosystem: 'PyPI', components: 1, covered: true });
      expect(pypi!.sources).toEqual([
        { source: 'osv', ecosystems: ['PyPI'], synced: expect.stringMatching(/^20\d\d-/) },
      ]);
      expect(deb).toMatchObject({ ecosystem: 'Debian', covered: false });
    });

    it('flask==2.2.2: CVE-2023-30861 has no severity in any record, so --fail-on high exits 1', async () => {
      const req = join(dir, 'flask-requirements.txt');
      writeFileSync(req, 'flask==2.2.2\n');
      const r = await runMamori(
        ['vuln', 'check', req, '--db', spec, '--json', '--fail-on', 'high'],
        { timeoutMs: 60_000 },
      );
      expect(r.code, r.stderr).toBe(1);
      const out = JSON.parse(r.stdout);
      expect(out.covered).toBe(true);
      const f = out.findings.find(
        (x: { vulnerability: { id: string } }) => x.vulnerability.id === 'CVE-2023-30861',
      );
      expect(f).toMatchObject({
        package: { name: 'flask', version: '2.2.2' },
        vulnerability: { severity: null, severityFrom: null },
        fixed: ['2.2.5'],
      });
      expect(out.unknownSeverity).toBe(out.findings.length);
      const table = await runMamori(['vuln', 'check', req, '--db', spec]);
      expect(table.stdout).toMatch(/flask\s+2\.2\.2\s+CVE-2023-30861.*unknown/);
      expect(table.stdout).toMatch(/\(\d+ of unknown severity\)/);
      const ignored = await runMamori([
        'vuln',
        'check',
        req,
        '--db',
        spec,
        '--fail-on',
        'high',
        '--unknown-severity',
        'ignore',
      ]);
      expect(ignored.code, ignored.stderr).toBe(0);
      const bad = await runMamori(['vuln', 'check', req, '--db', spec, '--unknown-severity', 'x']);
      expect(bad.code).toBe(2);
    });

    it('a requirements file of only unpinned lines lists each as unpinned, and is not covered', async () => {
      const f = join(dir, 'deps.txt');
      writeFileSync(f, '# app\nflask>=2.0\nrequests ~= 2.31\nJinja2\n');
      const r = await runMamori(['vuln', 'check', f, '--db', spec]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toContain('unrecognised');
      for (const line of [
        'line 2: unpinned (not ==), not checked: flask>=2.0',
        'line 3: unpinned (not ==), not checked: requests ~= 2.31',
        'line 4: unpinned (not ==), not checked: Jinja2',
      ])
        expect(r.stderr).toContain(line);
      const gate = await runMamori(['vuln', 'check', f, '--db', spec, '--fail-on', 'high']);
      expect(gate.code).toBe(3);
    });

    it('vuln show prints whole GIT ranges and the ecosystem range', async () => {
      const r = await runMamori(['vuln', 'show', 'PYSEC-2023-62', '--db', spec]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(
        'GIT https://github.com/pallets/flask: introduced 0, fixed 70f906c51ce49c485f1d355703e9cc3386b1cc2b, fixed afd63b16170b7c047f5758eb910c416511e9c965',
      );
      expect(r.stdout).toContain(
        'ECOSYSTEM: introduced 0, fixed 2.2.5, introduced 2.3.0, fixed 2.3.2 = < 2.2.5; >= 2.3.0, < 2.3.2',
      );
      expect(r.stdout).toContain('fixed: 2.2.5, 2.3.2');
    });

    it('vuln stats after an OSV-only sync counts OSV, and says which source to sync for JVN', async () => {
      const r = await runMamori(['vuln', 'stats', '--by', 'year', '--db', spec, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const s = JSON.parse(r.stdout);
      expect(s.source).toBe('osv');
      expect(s.available).toHaveLength(1);
      expect(s.available[0].source).toBe('osv');
      const counted = s.rows.reduce((n: number, x: { count: number }) => n + x.count, 0);
      expect(counted).toBeGreaterThan(0);
      expect(counted).toBeLessThanOrEqual(s.available[0].records);
      const jvn = await runMamori(['vuln', 'stats', '--source', 'jvn', '--db', spec]);
      expect(jvn.code).toBe(0);
      expect(jvn.stdout).toContain('no jvn records: the store holds osv (');
      expect(jvn.stdout).toContain('mamori vuln sync --source jvn');
    });
  });
}
