/**
 * libinjection's own sample inputs (URL-encoded, one per line): the attack files should match,
 * false_positives.txt should not. Figures are printed and recorded in docs/guard.md; the bounds
 * asserted are the ones the docs state.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectSqli } from '../../src/guard/core/sqli-fold.js';
import { detectXss } from '../../src/guard/core/xss.js';
import { LIBINJECTION_DIR } from './libinjection-vectors.js';

/** URL-decodes to a byte string, '+' as space, bad escapes kept as they are. */
function urlDecodeBytes(s: string): string {
  return s
    .replace(/\+/g, ' ')
    .replace(/%([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
}

function samples(file: string): string[] {
  return readFileSync(join(LIBINJECTION_DIR, 'data', file), 'latin1')
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map(urlDecodeBytes);
}

const files = readdirSync(join(LIBINJECTION_DIR, 'data'));

describe('libinjection sample data', () => {
  it('detects the SQLi samples', () => {
    const sqli = files.filter((f) => f.startsWith('sqli-'));
    expect(sqli.length).toBeGreaterThan(25);
    let total = 0;
    let hit = 0;
    for (const f of sqli) {
      for (const s of samples(f)) {
        total++;
        if (detectSqli(s) !== undefined) hit++;
      }
    }
    console.log(`sqli samples: ${hit}/${total} detected`);
    expect(hit / total).toBeGreaterThan(0.97);
  });
  it('detects the XSS samples', () => {
    const xss = files.filter((f) => f.startsWith('xss-'));
    expect(xss.length).toBeGreaterThan(8);
    let total = 0;
    let hit = 0;
    for (const f of xss) {
      for (const s of samples(f)) {
        total++;
        if (detectXss(s)) hit++;
      }
    }
    console.log(`xss samples: ${hit}/${total} detected`);
    expect(hit / total).toBeGreaterThan(0.7);
  });
  it('keeps false positives low on false_positives.txt', () => {
    const fp = samples('false_positives.txt');
    expect(fp.length).toBeGreaterThan(300);
    const flagged = fp.filter((s) => detectSqli(s) !== undefined);
    console.log(`false positives: ${flagged.length}/${fp.length}`, flagged.slice(0, 10));
    expect(flagged.length / fp.length).toBeLessThan(0.06);
  });
});
