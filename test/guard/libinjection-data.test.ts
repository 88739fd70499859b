import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHARMAP, FINGERPRINTS, KEYWORDS_TSV } from '../../src/guard/core/libinjection-data.js';
import { LIBINJECTION_DIR } from './libinjection-vectors.js';

describe('libinjection tables', () => {
  it('the committed tables equal sqlparse_data.json and fingerprints.txt', () => {
    const data = JSON.parse(readFileSync(join(LIBINJECTION_DIR, 'sqlparse_data.json'), 'utf8'));
    expect(CHARMAP).toEqual(data.charmap.map((c: string) => c.replace(/^CHAR_/, '')));
    const kw = Object.fromEntries(KEYWORDS_TSV.split('\n').map((l) => l.split('\t')));
    expect(kw).toEqual(data.keywords);
    const fps = readFileSync(join(LIBINJECTION_DIR, 'fingerprints.txt'), 'utf8').split(/\s+/);
    expect(new Set(FINGERPRINTS.split(' '))).toEqual(new Set(fps.filter((f) => f !== '')));
  });
});
