import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkRules } from '../../src/guard/index.js';
import { vector } from '../helpers/vectors.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('guard check', () => {
  it('finds nothing unsupported in the CRS rules the tests were written for', () => {
    const r = checkRules(vector('waf/crs-rules'));
    expect(r.issues).toEqual([]);
    expect(r.rules).toBeGreaterThan(600);
  });
  it('reports unsupported parts and uncompilable regexes with file:line', () => {
    dir = mkdtempSync(join(tmpdir(), 'guard-check-'));
    writeFileSync(
      join(dir, 'a.conf'),
      'SecRule ARGS "@rx (?R)" "id:1,phase:2,pass"\n# comment\nSecRule ARGS "@rx a" "id:2,t:bogus"\nSecWhatever 1\n',
    );
    const r = checkRules(dir);
    expect(r.issues.map((i) => `${i.file}:${i.line}`)).toEqual([
      'a.conf:1',
      'a.conf:3',
      'a.conf:4',
    ]);
    expect(r.issues[0]?.message).toMatch(/rule 1: @rx: V8 cannot compile/);
    expect(r.issues[1]?.message).toMatch(/t:bogus/);
  });
  it('fails with E_INPUT on a missing directory', () => {
    expect(() => checkRules('/nonexistent/rules')).toThrow(
      expect.objectContaining({ code: 'E_INPUT' }),
    );
  });
});
