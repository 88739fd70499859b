/**
 * The code-quality gates as tests, so CI counts them: strict TypeScript and Biome both clean.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from './helpers/vectors.js';

const run = promisify(execFile);
const bin = (name: string) => join(PROJECT_ROOT, 'node_modules', '.bin', name);

describe('code quality', () => {
  it('tsc --noEmit is clean', { timeout: 300_000 }, async () => {
    const r = await run(bin('tsc'), ['--noEmit', '-p', PROJECT_ROOT], {
      cwd: PROJECT_ROOT,
      maxBuffer: 1 << 24,
    }).catch((e) => e);
    expect(r.stdout ?? '').toBe('');
  });
  it('biome check is clean', { timeout: 120_000 }, async () => {
    const r = await run(bin('biome'), ['check', '--diagnostic-level=error', '.'], {
      cwd: PROJECT_ROOT,
      maxBuffer: 1 << 24,
    }).catch((e) => e);
    expect(r.code ?? 0, `${r.stdout}\n${r.stderr}`).toBe(0);
  });
});
