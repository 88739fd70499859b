import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { closest, editDistance, escapeForTerminal, formatTable } from './text.js';

describe('editDistance', () => {
  it('matches known distances', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('flaw', 'lawn')).toBe(2);
  });
  it('is a metric: symmetric, zero only on equal strings, triangle inequality', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (a, b, c) => {
        expect(editDistance(a, b)).toBe(editDistance(b, a));
        expect(editDistance(a, b) === 0).toBe(a === b);
        expect(editDistance(a, c)).toBeLessThanOrEqual(editDistance(a, b) + editDistance(b, c));
      }),
    );
  });
});

describe('closest', () => {
  const areas = ['vuln', 'custody', 'trace', 'exposure', 'honeypot', 'bulletin', 'serve', 'db'];
  it('suggests the intended command for typos and prefixes', () => {
    expect(closest('vlun', areas)).toBe('vuln');
    expect(closest('custdy', areas)).toBe('custody');
    expect(closest('hon', areas)).toBe('honeypot');
    expect(closest('servr', areas)).toBe('serve');
  });
  it('suggests nothing for unrelated words', () => {
    expect(closest('frobnicate', areas)).toBeUndefined();
  });
});

describe('escapeForTerminal', () => {
  it('neutralises ANSI escapes and control bytes but keeps text and newlines', () => {
    expect(escapeForTerminal('a\u001b[31mb\u0007c\n日本')).toBe('a\\x1b[31mb\\x07c\n日本');
  });
  it('never leaves a control character other than \\t and \\n', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(escapeForTerminal(s))).toBe(false);
      }),
    );
  });
});

describe('formatTable', () => {
  it('aligns columns and escapes cells', () => {
    const t = formatTable(
      ['a', 'bb'],
      [
        ['x\u001b', 1],
        ['long', null],
      ],
    );
    expect(t.split('\n')).toEqual(['a      bb', '-----  --', 'x\\x1b  1', 'long']);
  });
});
