import { describe, expect, it } from 'vitest';
import { Html5State } from '../../src/guard/core/html5.js';
import { detectXss } from '../../src/guard/core/xss.js';
import { readCases } from './libinjection-vectors.js';

describe('libinjection HTML5 tokenizer (test-html5-*)', () => {
  const cases = readCases('test-html5-');
  it('has the vector files', () => expect(cases.length).toBe(63));
  for (const c of cases) {
    it(`${c.file}: ${c.name}`, () => {
      const h = new Html5State(c.input, 'DATA_STATE');
      const out: string[] = [];
      for (let i = 0; i < 10_000 && h.next(); i++) out.push(`${h.type},${h.tokenLen},${h.value}`);
      expect(out.join('\n').replace(/\s+$/, '')).toBe(c.expected);
    });
  }
});

describe('detectXss', () => {
  it('flags script tags, event handlers and javascript: URLs', () => {
    expect(detectXss('<script>alert(1)</script>')).toBe(true);
    expect(detectXss('<img src=x onerror=alert(1)>')).toBe(true);
    expect(detectXss('<a href="&#106;avascript:alert(1)">x</a>')).toBe(true);
    expect(detectXss('" onmouseover="alert(1)')).toBe(true);
    expect(detectXss('<!DOCTYPE html>')).toBe(true);
  });
  it('passes plain text and harmless markup', () => {
    expect(detectXss('hello world')).toBe(false);
    expect(detectXss('<b>bold</b> and <i>italic</i>')).toBe(false);
    expect(detectXss('a < b and c > d')).toBe(false);
    expect(detectXss('<a href="https://example.com/">x</a>')).toBe(false);
  });
});
