/**
 * Every line of osv-scalibr's version-order ground truth (../shared/vectors/vuln/versions) for
 * the ecosystems we claim, both directions (a op b and b op' a), failures listed by line.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Comparator,
  compareApk,
  compareDebian,
  compareMaven,
  comparePep440,
  compareRpm,
  compareRubyGems,
  compareSemver,
} from '../../src/vuln/core/versions/index.js';
import { vector } from '../helpers/vectors.js';

const FILES: [string, Comparator][] = [
  ['debian-versions.txt', compareDebian],
  ['debian-versions-generated.txt', compareDebian],
  ['redhat-versions.txt', compareRpm],
  ['alpine-versions.txt', compareApk],
  ['alpine-versions-generated.txt', compareApk],
  ['pypi-versions.txt', comparePep440],
  ['pypi-versions-generated.txt', comparePep440],
  ['semver-versions.txt', compareSemver],
  ['maven-versions.txt', compareMaven],
  ['maven-versions-generated.txt', compareMaven],
  ['rubygems-versions.txt', compareRubyGems],
  ['rubygems-versions-generated.txt', compareRubyGems],
];

const EXPECT: Record<string, number> = { '<': -1, '=': 0, '>': 1 };

describe('version order vectors', () => {
  for (const [file, cmp] of FILES) {
    it(file, () => {
      const lines = readFileSync(vector(`vuln/versions/${file}`), 'utf8').split('\n');
      const failures: string[] = [];
      let total = 0;
      lines.forEach((line, i) => {
        if (line === '' || line.startsWith('# ') || line.startsWith('// ')) return;
        const pieces = line.split(' ');
        expect(pieces, `line ${i + 1} has three pieces`).toHaveLength(3);
        const [a, op, b] = pieces as [string, string, string];
        const want = EXPECT[op];
        expect(want, `line ${i + 1}: operator ${op}`).toBeDefined();
        total++;
        const ab = cmp(a, b);
        const ba = cmp(b, a);
        if (ab !== want || ba !== -want!) {
          failures.push(`${file}:${i + 1}: ${line} (got ${ab}, reverse ${ba})`);
        }
      });
      expect(total).toBeGreaterThan(10);
      expect(failures, failures.slice(0, 40).join('\n')).toEqual([]);
    });
  }
});

describe('version order properties', () => {
  const num = fc.integer({ min: 0, max: 10_000 }).map(String);
  const dotted = fc.array(num, { minLength: 1, maxLength: 4 }).map((xs) => xs.join('.'));
  for (const [name, cmp] of [
    ['dpkg', compareDebian],
    ['rpm', compareRpm],
    ['pep440', comparePep440],
    ['semver', compareSemver],
    ['maven', compareMaven],
    ['rubygems', compareRubyGems],
    ['apk', compareApk],
  ] as [string, Comparator][]) {
    it(`${name}: antisymmetric and reflexive on dotted numbers`, () => {
      fc.assert(
        fc.property(dotted, dotted, (a, b) => {
          expect(cmp(a, a)).toBe(0);
          expect(cmp(a, b)).toBe(-cmp(b, a) || 0);
        }),
        { numRuns: 300 },
      );
    });
    it(`${name}: a larger last component is a larger version`, () => {
      fc.assert(
        fc.property(fc.array(num, { minLength: 1, maxLength: 3 }), num, (head, last) => {
          const a = [...head, last].join('.');
          const b = [...head, String(Number(last) + 1)].join('.');
          expect(cmp(a, b)).toBe(-1);
        }),
        { numRuns: 300 },
      );
    });
  }
});
