/**
 * End to end on both backends: sync the whole pypa OSV database with the built CLI (zero
 * errors), then check a pinned requirements file and a CycloneDX 1.5 SBOM. The expected
 * findings were counted by hand from the pypa YAML files (ranges and fixed versions).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMamori } from '../helpers/cli.js';
import { freshSpec, testBackends } from '../helpers/db.js';
import { vector } from '../helpers/vectors.js';

const REQUIREMENTS = `# pinned
requests==2.19.1
Jinja2==2.10   # PEP 503: stored as jinja2
Flask==2.3.1 ; python_version >= "3.8"
numpy>=1.0
`;

const SBOM = {
  bomFormat: 'CycloneDX',
  specVersion: '1.5',
  version: 1,
  components: [
    { type: 'library', name: 'aiohttp', version: '3.8.6', purl: 'pkg:pypi/aiohttp@3.8.6' },
    {
      type: 'library',
      name: 'PyYAML',
      version: '5.3.1',
      purl: 'pkg:pypi/PyYAML@5.3.1',
      components: [
        { type: 'library', name: 'urllib3', version: '1.26.4', purl: 'pkg:pypi/urllib3@1.26.4' },
      ],
    },
    { type: 'library', name: 'left-pad', version: '1.0.0', purl: 'pkg:generic/left-pad@1.0.0' },
  ],
};

interface F {
  package: { name: string; version: string; ecosystem: string; purl: string | null };
  vulnerability: {
    id: string;
    aliases: string[];
    severity: string | null;
    cvss: { score: number | null };
  };
  fixed: string[];
  confidence: string;
  source: string;
}

const brief = (f: F) =>
  `${f.package.name}@${f.package.version} ${f.vulnerability.id} fixed=${f.fixed.join('|')}`;

for (const backend of testBackends()) {
  describe(`vuln sync + check (${backend})`, () => {
    let spec: string;
    let cleanup: () => Promise<void>;
    let dir: string;
    beforeAll(async () => {
      ({ spec, cleanup } = await freshSpec(backend));
      dir = mkdtempSync(join(tmpdir(), 'mamori-vuln-'));
      writeFileSync(join(dir, 'requirements.txt'), REQUIREMENTS);
      writeFileSync(join(dir, 'bom.json'), JSON.stringify(SBOM));
    });
    afterAll(async () => {
      await cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it('syncs the whole pypa database with zero errors, then again with no change', async () => {
      const r = await runMamori(
        [
          'vuln',
          'sync',
          '--source',
          'osv',
          '--from',
          vector('vuln/osv/pypa'),
          '--db',
          spec,
          '--json',
        ],
        { timeoutMs: 120_000 },
      );
      expect(r.code, r.stderr).toBe(0);
      const s = JSON.parse(r.stdout);
      expect(s.errors).toEqual([]);
      expect(s.records).toBeGreaterThan(2600);
      expect(s.added).toBe(s.records);
      expect(s.withdrawn).toBeGreaterThan(0);
      const again = JSON.parse(
        (
          await runMamori(
            ['vuln', 'sync', '--from', vector('vuln/osv/pypa'), '--db', spec, '--json'],
            { timeoutMs: 120_000 },
          )
        ).stdout,
      );
      expect(again).toMatchObject({ added: 0, updated: 0, unchanged: s.records, errors: [] });
    });

    it('show finds one vulnerability by any alias', async () => {
      for (const name of ['GHSA-rgrf-6mf5-m882', 'PYSEC-2024-6', 'cve-2024-22194']) {
        const r = await runMamori(['vuln', 'show', name, '--db', spec, '--json']);
        expect(r.code, r.stderr).toBe(0);
        const d = JSON.parse(r.stdout);
        expect(d.id).toBe('CVE-2024-22194');
        expect(d.aliases).toEqual(['GHSA-rgrf-6mf5-m882', 'PYSEC-2024-5', 'PYSEC-2024-6']);
        expect(d.records.map((x: { id: string }) => x.id)).toEqual([
          'PYSEC-2024-5',
          'PYSEC-2024-6',
        ]);
        // case-utils has GIT ranges (kept, with their repos) and an open ECOSYSTEM range: no fix yet.
        const cu = d.affected.find((a: { name: string }) => a.name === 'case-utils');
        expect(cu.fixed).toEqual([]);
        expect(
          cu.ranges
            .filter((x: { type: string }) => x.type === 'GIT')
            .map((x: { repo: string }) => x.repo),
        ).toEqual([
          'https://github.com/Cyber-Domain-Ontology/CDO-Utility-Local-UUID',
          'https://github.com/casework/CASE-Utilities-Python',
        ]);
        expect(cu.versions).toContain('0.14.1.post0');
      }
      const missing = await runMamori(['vuln', 'show', 'CVE-1999-0000', '--db', spec]);
      expect(missing.code).toBe(2);
    });

    it('requirements.txt: exactly the expected findings and fixed versions', async () => {
      const r = await runMamori([
        'vuln',
        'check',
        join(dir, 'requirements.txt'),
        '--db',
        spec,
        '--format',
        'json',
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('line 5: unpinned (not ==), not checked: numpy>=1.0');
      const { findings } = JSON.parse(r.stdout) as { findings: F[] };
      expect(findings.map(brief).sort()).toEqual(
        [
          'Flask@2.3.1 CVE-2023-30861 fixed=2.3.2',
          'Jinja2@2.10 CVE-2019-10906 fixed=2.10.1',
          'Jinja2@2.10 CVE-2020-28493 fixed=2.11.3',
          'requests@2.19.1 CVE-2018-18074 fixed=2.20.0',
          'requests@2.19.1 CVE-2023-32681 fixed=2.31.0',
        ].sort(),
      );
      const flask = findings.find((f) => f.package.name === 'Flask')!;
      expect(flask).toMatchObject({
        package: {
          name: 'Flask',
          version: '2.3.1',
          ecosystem: 'PyPI',
          purl: 'pkg:pypi/Flask@2.3.1',
        },
        vulnerability: { id: 'CVE-2023-30861' },
        confidence: 'high',
        source: 'osv',
      });
      expect(flask.vulnerability.aliases).toEqual(
        expect.arrayContaining(['GHSA-m2qf-hxjv-5gpq', 'PYSEC-2023-62']),
      );
    });

    it('CycloneDX SBOM: findings with severities, withdrawn advisories left out, --fail-on', async () => {
      const bom = join(dir, 'bom.json');
      const r = await runMamori([
        'vuln',
        'check',
        bom,
        '--db',
        spec,
        '--json',
        '--fail-on',
        'high',
      ]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain('left-pad@1.0.0: unsupported ecosystem pkg:generic');
      const { findings } = JSON.parse(r.stdout) as { findings: F[] };
      expect(findings.map((f) => `${brief(f)} ${f.vulnerability.severity}`).sort()).toEqual(
        [
          'PyYAML@5.3.1 CVE-2020-14343 fixed=5.4 null',
          'aiohttp@3.8.6 CVE-2023-49081 fixed=3.9.0 medium',
          'aiohttp@3.8.6 CVE-2023-49082 fixed=3.9.0 medium',
          'aiohttp@3.8.6 CVE-2024-23334 fixed=3.9.2 high',
          'aiohttp@3.8.6 CVE-2024-23829 fixed=3.9.2 medium',
          'urllib3@1.26.4 CVE-2021-33503 fixed=1.26.5 null',
          'urllib3@1.26.4 CVE-2023-43804 fixed=1.26.17 high',
          'urllib3@1.26.4 CVE-2023-45803 fixed=1.26.18 medium',
        ].sort(),
      );
      expect(
        findings.find((f) => f.vulnerability.id === 'CVE-2024-23334')!.vulnerability.cvss.score,
      ).toBe(7.5);
      // CVE-2022-33124 (aiohttp, all versions) was withdrawn upstream: never a finding.
      expect(findings.some((f) => f.vulnerability.id === 'CVE-2022-33124')).toBe(false);
      // Nothing is critical, but two findings have no severity in any record: that fails
      // closed; ignoring unknown severity still leaves left-pad (pkg:generic) unchecked: exit 3.
      const crit = await runMamori([
        'vuln',
        'check',
        bom,
        '--db',
        spec,
        '--json',
        '--fail-on',
        'critical',
      ]);
      expect(crit.code, crit.stderr).toBe(1);
      const out = JSON.parse(crit.stdout);
      expect(out.unknownSeverity).toBe(2);
      expect(out.covered).toBe(false);
      expect(out.notCovered).toBe(0);
      expect(out.coverage).toHaveLength(1);
      expect(out.coverage[0]).toMatchObject({
        ecosystem: 'PyPI',
        components: 3,
        covered: true,
        sources: [{ source: 'osv', ecosystems: ['PyPI'] }],
      });
      expect(out.coverage[0].sources[0].synced).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(out.unsupported).toEqual([
        expect.stringContaining('left-pad@1.0.0: unsupported ecosystem pkg:generic'),
      ]);
      const ignored = await runMamori([
        'vuln',
        'check',
        bom,
        '--db',
        spec,
        '--fail-on',
        'critical',
        '--unknown-severity',
        'ignore',
      ]);
      expect(ignored.code, ignored.stderr).toBe(3);
      const allowed = await runMamori([
        'vuln',
        'check',
        bom,
        '--db',
        spec,
        '--fail-on',
        'critical',
        '--unknown-severity',
        'ignore',
        '--allow-uncovered',
      ]);
      expect(allowed.code, allowed.stderr).toBe(0);
      const sarif = JSON.parse(
        (await runMamori(['vuln', 'check', bom, '--db', spec, '--format', 'sarif'])).stdout,
      );
      expect(sarif.version).toBe('2.1.0');
      expect(sarif.runs[0].results).toHaveLength(8);
      const vex = JSON.parse(
        (await runMamori(['vuln', 'check', bom, '--db', spec, '--format', 'cyclonedx-vex'])).stdout,
      );
      expect(vex.bomFormat).toBe('CycloneDX');
      expect(vex.vulnerabilities).toHaveLength(8);
      const table = await runMamori(['vuln', 'check', bom, '--db', spec]);
      expect(table.stdout).toMatch(/urllib3\s+1\.26\.4\s+CVE-2023-43804/);
    });

    it('bad sync inputs: a missing path, or nothing usable, exit 2 with the errors listed', async () => {
      const missing = await runMamori(['vuln', 'sync', '--from', join(dir, 'nope'), '--db', spec]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('no such file or directory');
      const bad = join(dir, 'bad-only');
      const { mkdirSync } = await import('node:fs');
      mkdirSync(bad);
      writeFileSync(join(bad, 'x.json'), '{"id": "GHSA-1234-5678-9abc", "affected": [');
      const r = await runMamori(['vuln', 'sync', '--from', bad, '--db', spec]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/x\.json: (line \d+, column \d+|end of input).*malformed JSON/);
      const none = await runMamori(['vuln', 'check', '--db', spec]);
      expect(none.code).toBe(2);
    });

    it('bad inventories: wrong format and bad encoding exit 2', async () => {
      writeFileSync(
        join(dir, 'wrong.json'),
        JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.2', components: [] }),
      );
      writeFileSync(
        join(dir, 'latin1.txt'),
        Buffer.from([0x72, 0x65, 0x71, 0x3d, 0x3d, 0xe9, 0x0a]),
      );
      writeFileSync(
        join(dir, 'trunc.json'),
        '{"bomFormat": "CycloneDX", "specVersion": "1.5", "compo',
      );
      for (const f of ['wrong.json', 'latin1.txt', 'trunc.json', 'missing.txt']) {
        const r = await runMamori(['vuln', 'check', join(dir, f), '--db', spec]);
        expect(r.code, `${f}: ${r.stderr}`).toBe(2);
        expect(r.stderr).toMatch(/mamori: error: /);
      }
    });
  });
}
