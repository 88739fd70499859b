/**
 * OSV range evaluation: introduced/fixed/last_affected, several ranges, unsorted events,
 * SEMVER ranges, GIT ranges (only `versions` count), and fixed versions to update to.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { affectedBy } from './match.js';

describe('affectedBy', () => {
  const eco = (events: object[]) => [{ type: 'ECOSYSTEM', events }];
  it('two ranges in one (urllib3 PYSEC-2023-192 shape), events out of order', () => {
    const r = eco([
      { introduced: '2.0.0' },
      { fixed: '2.0.6' },
      { introduced: '0' },
      { fixed: '1.26.17' },
    ]);
    expect(affectedBy('PyPI', '1.26.4', r, [])).toEqual({ affected: true, fixed: ['1.26.17'] });
    expect(affectedBy('PyPI', '1.26.17', r, [])).toEqual({ affected: false, fixed: [] });
    expect(affectedBy('PyPI', '2.0.5', r, [])).toEqual({ affected: true, fixed: ['2.0.6'] });
    expect(affectedBy('PyPI', '2.0.6', r, [])).toEqual({ affected: false, fixed: [] });
  });
  it('last_affected is inclusive; no fix yet', () => {
    const r = eco([{ introduced: '1.0' }, { last_affected: '1.4' }]);
    expect(affectedBy('PyPI', '1.4', r, [])).toEqual({ affected: true, fixed: [] });
    expect(affectedBy('PyPI', '1.4.1', r, [])?.affected).toBe(false);
    expect(affectedBy('PyPI', '0.9', r, [])?.affected).toBe(false);
  });
  it('GIT ranges only count through explicit versions', () => {
    const git = [
      { type: 'GIT', repo: 'https://x', events: [{ introduced: '0' }, { fixed: 'abc123' }] },
    ];
    expect(affectedBy('PyPI', '0.4.0', git, ['0.4.0'])).toEqual({ affected: true, fixed: [] });
    expect(affectedBy('PyPI', '0.5.0', git, ['0.4.0'])?.affected).toBe(false);
  });
  it('Debian ranges use dpkg order (~ sorts first); unknown ecosystems are unsupported', () => {
    const r = eco([{ introduced: '0' }, { fixed: '3.0.11-1~deb12u2' }]);
    expect(affectedBy('Debian:12', '3.0.11-1~deb12u1', r, [])?.affected).toBe(true);
    expect(affectedBy('Debian:12', '3.0.11-1', r, [])?.affected).toBe(false);
    expect(affectedBy('Hackage', '1.0', r, [])).toBeUndefined();
  });
  it('property: with [introduced a, fixed b), exactly a ≤ v < b is affected (npm semver)', () => {
    const v = fc.tuple(fc.nat(20), fc.nat(20), fc.nat(20)).map((t) => t.join('.'));
    fc.assert(
      fc.property(v, v, v, (a, b, x) => {
        const cmp = (p: string, q: string) => {
          const ps = p.split('.').map(Number);
          const qs = q.split('.').map(Number);
          for (let i = 0; i < 3; i++) if (ps[i] !== qs[i]) return ps[i]! - qs[i]!;
          return 0;
        };
        fc.pre(cmp(a, b) < 0);
        const res = affectedBy(
          'npm',
          x,
          [{ type: 'SEMVER', events: [{ introduced: a }, { fixed: b }] }],
          [],
        );
        expect(res?.affected).toBe(cmp(a, x) <= 0 && cmp(x, b) < 0);
        if (res?.affected) expect(res.fixed).toEqual([b]);
      }),
      { numRuns: 300 },
    );
  });
});
