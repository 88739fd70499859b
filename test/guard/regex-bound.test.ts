/**
 * The @rx bound: a catastrophic pattern on a long input finishes (V8's linear-time engine takes
 * over), a pattern that engine cannot run sees a shorter prefix of the value, and one that also
 * nests unbounded repeats a shorter one still.
 */
import { describe, expect, it } from 'vitest';
import {
  compileOperator,
  nestsUnboundedRepeats,
  RX_BACKTRACKING_INPUT_LIMIT,
  RX_NESTED_INPUT_LIMIT,
} from '../../src/guard/core/operators.js';
import { linearCapable } from '../../src/guard/regex-bound.js';

const ctx = { readData: () => '', linearCapable };
const id = (s: string) => s;

describe('regex bound', () => {
  it('finishes a catastrophic pattern on a long input (linear-time fallback)', {
    timeout: 60_000,
  }, () => {
    // without the fallback, (a+)+$ on n a's and a b takes about 2^n steps
    const rx = compileOperator('rx', '^(a+)+$', ctx);
    expect(rx(`${'a'.repeat(50_000)}b`, id).matched).toBe(false);
    expect(rx('a'.repeat(50_000), id).matched).toBe(true);
    const ci = compileOperator('rx', '(?i)^(?:[a-z]+\\s?)+$', ctx);
    expect(ci(`${'Ab '.repeat(20_000)}!`, id).matched).toBe(false);
  });
  it('tells which patterns the linear-time engine can run', () => {
    expect(linearCapable('^(a+)+$', 's')).toBe(true);
    expect(linearCapable('(?=a)b', 's')).toBe(false);
    expect(linearCapable('a{1,50}', 's')).toBe(false);
  });
  it('gives nested unbounded repeats the linear-time engine cannot run the shortest prefix', () => {
    const rx = compileOperator('rx', '(?=x)(?:x+y)+$', ctx);
    expect(rx('xxy', id).matched).toBe(true);
    expect(rx(`${'x'.repeat(RX_NESTED_INPUT_LIMIT)}xy`, id).matched).toBe(false);
    expect(nestsUnboundedRepeats('(a+)+')).toBe(true);
    expect(nestsUnboundedRepeats('(?:[a-z]*,){2,}')).toBe(true);
    expect(nestsUnboundedRepeats('(?:ab)+c*')).toBe(false);
    expect(nestsUnboundedRepeats('(?:a+b)?c{1,5}')).toBe(false);
    expect(nestsUnboundedRepeats('[(+]+(\\+)')).toBe(false);
  });
  it('gives other backtracking patterns only the first RX_BACKTRACKING_INPUT_LIMIT bytes', () => {
    const rx = compileOperator('rx', '(?=a)ab{1,30}c', ctx);
    expect(rx('abbc', id).matched).toBe(true);
    expect(rx(`${'x'.repeat(RX_BACKTRACKING_INPUT_LIMIT)}abbc`, id).matched).toBe(false);
    const linear = compileOperator('rx', 'ab+c', ctx);
    expect(linear(`${'x'.repeat(RX_BACKTRACKING_INPUT_LIMIT)}abbc`, id).matched).toBe(true);
  });
});
