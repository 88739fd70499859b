import { describe, expect, it } from 'vitest';
import {
  FLAG_QUOTE_NONE,
  FLAG_SQL_ANSI,
  SqliState,
  type SqlToken,
  tokenize,
} from '../../src/guard/core/sqli.js';
import { fold, isSqli } from '../../src/guard/core/sqli-fold.js';
import { readCases } from './libinjection-vectors.js';

function printToken(t: SqlToken): string {
  let body = t.val;
  if (t.type === 's' || t.type === 'v') body = `${t.strOpen}${t.val}${t.strClose}`;
  if (t.type === 'v') body = `${'@'.repeat(Math.min(t.count, 2))}${body}`;
  return `${t.type} ${body}`;
}

const render = (lines: string[]) => lines.join('\n').replace(/\s+$/, '');

describe('libinjection SQL tokenizer (test-tokens-*)', () => {
  const cases = readCases('test-tokens-');
  it('has the vector files', () => expect(cases.length).toBeGreaterThan(200));
  for (const c of cases) {
    it(`${c.file}: ${c.name}`, () => {
      const sf = new SqliState(c.input, FLAG_QUOTE_NONE | FLAG_SQL_ANSI);
      const out: string[] = [];
      for (let i = 0; i < 10_000 && tokenize(sf); i++) out.push(printToken(sf.current));
      expect(render(out)).toBe(c.expected);
    });
  }
});

describe('libinjection folding (test-folding-*)', () => {
  const cases = readCases('test-folding-');
  it('has the vector files', () => expect(cases.length).toBe(118));
  for (const c of cases) {
    it(`${c.file}: ${c.name}`, () => {
      const sf = new SqliState(c.input, FLAG_QUOTE_NONE | FLAG_SQL_ANSI);
      const n = fold(sf);
      expect(render(sf.tokenvec.slice(0, n).map(printToken))).toBe(c.expected);
    });
  }
});

describe('libinjection SQLi verdicts (test-sqli-*)', () => {
  const cases = readCases('test-sqli-');
  it('has the vector files', () => expect(cases.length).toBe(50));
  for (const c of cases) {
    it(`${c.file}: ${c.name}`, () => {
      const sf = new SqliState(c.input);
      const hit = isSqli(sf);
      expect(hit ? sf.fingerprint : '').toBe(c.expected);
    });
  }
});
