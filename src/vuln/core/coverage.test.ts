import { describe, expect, it } from 'vitest';
import { COVERAGE_CPE, COVERAGE_ECO, coverageOf, uncoveredCount } from './coverage.js';

const mark = (source: string, eco: string, value = '2026-12-01T00:00:00Z') => ({
  source,
  key: `${COVERAGE_ECO}${eco}`,
  value,
});

describe('coverageOf', () => {
  it('another Debian release does not cover this one; the bare family or the same release does', () => {
    const comps = [{ name: 'zlib', version: '1:1.2.13', ecosystem: 'Debian:12' }];
    const [only11] = coverageOf(comps, [mark('osv', 'Debian:11')]);
    expect(only11).toMatchObject({
      covered: false,
      reason: 'advisories synced only for Debian:11, not Debian:12',
      hint: 'mamori vuln sync --source osv --ecosystem Debian:12',
    });
    expect(coverageOf(comps, [mark('osv', 'Debian:12')])[0]!.covered).toBe(true);
    expect(coverageOf(comps, [mark('osv', 'Debian')])[0]!.covered).toBe(true);
    // A component without a release is covered by any release's advisories.
    const bare = [{ name: 'zlib', version: '1:1.2.13', ecosystem: 'Debian' }];
    expect(coverageOf(bare, [mark('osv', 'Debian:11')])[0]!.covered).toBe(true);
  });

  it('sources and the newest sync time per source; an unknown time stays null', () => {
    const comps = [
      { name: 'a', version: '1', ecosystem: 'PyPI' },
      { name: 'b', version: '2', ecosystem: 'PyPI' },
    ];
    const [c] = coverageOf(comps, [
      mark('osv', 'PyPI', '2026-12-01T00:00:00Z'),
      mark('nvd', 'PyPI', ''),
      mark('osv', 'npm', '2026-12-03T00:00:00Z'),
    ]);
    expect(c).toEqual({
      ecosystem: 'PyPI',
      components: 2,
      covered: true,
      sources: [
        { source: 'nvd', ecosystems: ['PyPI'], synced: null },
        { source: 'osv', ecosystems: ['PyPI'], synced: '2026-12-01T00:00:00Z' },
      ],
    });
  });

  it('CPE names need synced CPE matches; an ecosystem without a version order is never covered', () => {
    const comps = [
      { name: 'x', version: '1', ecosystem: 'CPE', cpe: 'cpe:2.3:a:x:y:1:*:*:*:*:*:*:*' },
      { name: 'z', version: '1', ecosystem: 'NoSuchEcosystem' },
    ];
    const none = coverageOf(comps, [mark('osv', 'PyPI')]);
    expect(none.map((c) => c.covered)).toEqual([false, false]);
    expect(none[0]!.hint).toBe('mamori vuln sync --source nvd');
    expect(uncoveredCount(none)).toBe(2);
    const cpe = coverageOf(comps, [{ source: 'jvn', key: COVERAGE_CPE, value: '' }]);
    expect(cpe[0]).toMatchObject({ ecosystem: 'CPE', covered: true, sources: [{ source: 'jvn' }] });
    expect(uncoveredCount(cpe)).toBe(1);
  });
});
