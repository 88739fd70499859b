/**
 * Inventory parsers: each supported format, its unsupported items (one line each), and whole
 * inputs that cannot be used (an InventoryError, which the CLI turns into exit 2).
 */
import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { InventoryError, parseDpkgStatus, parseInventory, parseRequirements } from './inventory.js';
import { parsePurl, purlToOsv } from './purl.js';

const inv = (name: string, text: string) => parseInventory(name, text, parseToml);

describe('inventory formats', () => {
  it('requirements.txt: pins, extras, markers, hashes; everything else one unsupported line', () => {
    const r = parseRequirements(
      [
        'Django==3.2.1',
        'requests[socks]==2.19.1 ; python_version >= "3.6"',
        'cryptography==41.0.0 \\',
        '    --hash=sha256:abc',
        '-r other.txt',
        'numpy>=1.0',
        'flask',
        '# comment',
        'PyYAML===5.3.1',
      ].join('\n'),
    );
    expect(r.components.map((c) => `${c.name}@${c.version}`)).toEqual([
      'Django@3.2.1',
      'requests@2.19.1',
      'cryptography@41.0.0',
      'PyYAML@5.3.1',
    ]);
    expect(r.unsupported).toEqual([
      'line 4: option not followed: -r',
      'line 5: unpinned (not ==), not checked: numpy>=1.0',
      'line 6: unpinned (not ==), not checked: flask',
    ]);
  });

  it('SPDX 2.3 with purl and cpe references', () => {
    const doc = {
      spdxVersion: 'SPDX-2.3',
      packages: [
        {
          name: 'lodash',
          versionInfo: '4.17.20',
          externalRefs: [
            {
              referenceCategory: 'PACKAGE-MANAGER',
              referenceType: 'purl',
              referenceLocator: 'pkg:npm/lodash@4.17.20',
            },
          ],
        },
        {
          name: 'openssl',
          versionInfo: '1.1.1k',
          externalRefs: [
            {
              referenceType: 'cpe23Type',
              referenceLocator: 'cpe:2.3:a:openssl:openssl:1.1.1k:*:*:*:*:*:*:*',
            },
          ],
        },
        { name: 'mystery', versionInfo: '1' },
      ],
    };
    const r = inv('sbom.spdx.json', JSON.stringify(doc));
    expect(r.format).toBe('spdx-2.3');
    expect(r.components).toEqual([
      { name: 'lodash', version: '4.17.20', ecosystem: 'npm', purl: 'pkg:npm/lodash@4.17.20' },
      {
        name: 'openssl',
        version: '1.1.1k',
        ecosystem: 'CPE',
        cpe: 'cpe:2.3:a:openssl:openssl:1.1.1k:*:*:*:*:*:*:*',
      },
    ]);
    expect(r.unsupported).toEqual(['mystery@1: no purl or cpe23Type reference']);
    expect(() => inv('x.json', JSON.stringify({ spdxVersion: 'SPDX-2.2', packages: [] }))).toThrow(
      InventoryError,
    );
  });

  it('package-lock v2/v3 (scoped and nested packages); v1 refused', () => {
    const lock = {
      name: 'app',
      lockfileVersion: 3,
      packages: {
        '': { name: 'app', version: '1.0.0' },
        'node_modules/@babel/core': { version: '7.0.0' },
        'node_modules/a/node_modules/minimist': { version: '0.0.8' },
        'packages/local': { version: '1.0.0' },
      },
    };
    expect(inv('package-lock.json', JSON.stringify(lock)).components).toEqual([
      { name: '@babel/core', version: '7.0.0', ecosystem: 'npm' },
      { name: 'minimist', version: '0.0.8', ecosystem: 'npm' },
    ]);
    expect(() =>
      inv('package-lock.json', JSON.stringify({ lockfileVersion: 1, dependencies: {} })),
    ).toThrow(/lockfileVersion 1/);
  });

  it('poetry.lock', () => {
    const text =
      '[[package]]\nname = "urllib3"\nversion = "1.26.4"\n\n[[package]]\nname = "idna"\nversion = "2.10"\n\n[metadata]\nlock-version = "2.0"\n';
    expect(inv('poetry.lock', text).components).toEqual([
      { name: 'urllib3', version: '1.26.4', ecosystem: 'PyPI' },
      { name: 'idna', version: '2.10', ecosystem: 'PyPI' },
    ]);
    expect(() => inv('poetry.lock', '[[package]\nname = ')).toThrow(/malformed TOML/);
  });

  it('dpkg status: installed packages by source name and version, release from os-release', () => {
    const status = [
      'Package: libssl3\nStatus: install ok installed\nSource: openssl (3.0.11-1~deb12u2)\nVersion: 3.0.11-1~deb12u2\nArchitecture: amd64',
      'Package: openssl\nStatus: install ok installed\nVersion: 3.0.11-1~deb12u2',
      'Package: removed\nStatus: deinstall ok config-files\nVersion: 1.0',
      'Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b2',
    ].join('\n\n');
    const r = parseDpkgStatus(status, { id: 'debian', version: '12' });
    expect(r.components).toEqual([
      { name: 'openssl', version: '3.0.11-1~deb12u2', ecosystem: 'Debian:12' },
      { name: 'bash', version: '5.2.15-2+b2', ecosystem: 'Debian:12' },
    ]);
    expect(inv('status', status).components[0]!.ecosystem).toBe('Debian');
  });

  it('CycloneDX: versions 1.4–1.6 only; nested components', () => {
    for (const v of ['1.4', '1.5', '1.6']) {
      const r = inv(
        'bom.json',
        JSON.stringify({
          bomFormat: 'CycloneDX',
          specVersion: v,
          components: [
            {
              name: 'a',
              purl: 'pkg:gem/rails@5.2.0',
              components: [
                { name: 'b', purl: 'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1' },
              ],
            },
          ],
        }),
      );
      expect(r.components.map((c) => `${c.ecosystem}/${c.name}@${c.version}`)).toEqual([
        'RubyGems/rails@5.2.0',
        'Maven/org.apache.logging.log4j:log4j-core@2.14.1',
      ]);
    }
    expect(() =>
      inv('bom.json', JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.3' })),
    ).toThrow(/1\.3/);
  });

  it('wrong formats are refused as a whole', () => {
    expect(() => inv('x.json', '{"hello": 1}')).toThrow(/unrecognised JSON inventory/);
    expect(() => inv('bom.xml', '<bom xmlns="http://cyclonedx.org/schema/bom/1.5"/>')).toThrow(
      /XML inventories are not supported/,
    );
    expect(() => inv('x.json', '{"bomFormat": "CycloneDX", "specV')).toThrow(/malformed JSON/);
    expect(() => inv('notes.txt', 'just some words\nmore words')).toThrow(
      /unrecognised inventory format/,
    );
  });

  it('purls map to OSV ecosystems', () => {
    expect(purlToOsv(parsePurl('pkg:deb/debian/openssl@3.0.11-1?distro=debian-12')!)).toEqual({
      ecosystem: 'Debian:12',
      name: 'openssl',
    });
    expect(purlToOsv(parsePurl('pkg:npm/%40angular/core@16.0.0')!)).toEqual({
      ecosystem: 'npm',
      name: '@angular/core',
    });
    expect(purlToOsv(parsePurl('pkg:golang/github.com/gin-gonic/gin@v1.9.0')!)).toEqual({
      ecosystem: 'Go',
      name: 'github.com/gin-gonic/gin',
    });
    expect(purlToOsv(parsePurl('pkg:hackage/aeson@2.0')!)).toBeUndefined();
    expect(parsePurl('not a purl')).toBeUndefined();
  });

  it('100,000 lines: each item gets its own line, nothing is lost', () => {
    const lines = Array.from({ length: 100_000 }, (_, i) =>
      i % 2 ? `pkg${i}==1.0.${i}` : `pkg${i}>=1`,
    );
    const r = parseRequirements(lines.join('\n'));
    expect(r.components).toHaveLength(50_000);
    expect(r.unsupported).toHaveLength(50_000);
    expect(r.unsupported[0]).toBe('line 1: unpinned (not ==), not checked: pkg0>=1');
  });
});
