/**
 * Regenerates src/guard/core/libinjection-data.ts from libinjection's sqlparse_data.json
 * (BSD-3-Clause, ../shared/vectors/waf/libinjection). Run: npx tsx test/guard/libinjection-data.gen.ts
 * libinjection-data.test.ts checks the committed table still equals the JSON.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = join(import.meta.dirname, '../../../shared/vectors/waf/libinjection');
const data = JSON.parse(readFileSync(join(dir, 'sqlparse_data.json'), 'utf8')) as {
  charmap: string[];
  keywords: Record<string, string>;
  fingerprints: string[];
};
const kw = Object.entries(data.keywords)
  .map(([k, v]) => `${k}\t${v}`)
  .join('\n');
const out = `/**
 * libinjection's keyword, character and fingerprint tables, generated from its sqlparse_data.json
 * (libinjection/libinjection@85e252a, BSD-3-Clause, Copyright (c) 2012-2016 Nick Galbreath) by
 * test/guard/libinjection-data.gen.ts. Data only; the algorithm is in sqli.ts.
 */
export const CHARMAP: readonly string[] = ${JSON.stringify(data.charmap.map((c) => c.slice(5)))};

/** "WORD<TAB>type" lines. */
export const KEYWORDS_TSV: string = ${JSON.stringify(kw)};

/** Space-separated fingerprints. */
export const FINGERPRINTS: string = ${JSON.stringify(data.fingerprints.join(' '))};
`;
writeFileSync(join(import.meta.dirname, '../../src/guard/core/libinjection-data.ts'), out);
