/**
 * Reads libinjection's --TEST--/--INPUT--/--EXPECTED-- files from ../shared/vectors (byte
 * strings: latin1 keeps one char per byte) and renders actual output the way its test driver does.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { vector } from '../helpers/vectors.js';

export const LIBINJECTION_DIR = vector('waf/libinjection');

export interface LibinjectionCase {
  file: string;
  name: string;
  input: string;
  expected: string;
}

export function readCases(prefix: string): LibinjectionCase[] {
  const dir = join(LIBINJECTION_DIR, 'tests');
  const files = readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.txt'))
    .sort();
  return files.map((file) => {
    const text = readFileSync(join(dir, file), 'latin1');
    const m = /^--TEST--\n([\s\S]*?)\n--INPUT--\n([\s\S]*?)\n?--EXPECTED--\n?([\s\S]*)$/.exec(text);
    if (!m) throw new Error(`${file}: not a --TEST--/--INPUT--/--EXPECTED-- file`);
    return {
      file,
      name: m[1] as string,
      input: m[2] as string,
      expected: (m[3] as string).replace(/\s+$/, ''),
    };
  });
}
