import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../shared/errors.js';
import { EXIT, exitCodeFor } from './exit.js';

describe('exit codes', () => {
  it('maps every error code to one of the documented exit codes', () => {
    const documented = new Set<number>(Object.values(EXIT));
    for (const code of ERROR_CODES) expect(documented.has(exitCodeFor(code)), code).toBe(true);
  });
  it('keeps the public mapping of STYLE.md', () => {
    expect(exitCodeFor('E_USAGE')).toBe(2);
    expect(exitCodeFor('E_INPUT')).toBe(2);
    expect(exitCodeFor('E_STORAGE')).toBe(3);
    expect(exitCodeFor('E_NETWORK')).toBe(3);
    expect(exitCodeFor('E_SCOPE')).toBe(4);
    expect(exitCodeFor('E_POLICY')).toBe(4);
    expect(exitCodeFor('E_FINDINGS')).toBe(1);
    expect(exitCodeFor('E_INTERNAL')).toBe(70);
    expect(exitCodeFor('E_INTERRUPTED')).toBe(130);
  });
});
