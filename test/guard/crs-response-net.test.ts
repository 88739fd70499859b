/**
 * CRS's response-side regression tests (RESPONSE-950 to 959) through the guard proxy: go-ftw's
 * requests go over sockets to the proxy, whose upstream answers /reflect as go-ftw's albedo
 * backend does, so each test's leaking response passes phases 3 and 4. The suite is read from
 * ../shared/vectors (a temporary folder links just those test folders; nothing is copied).
 */
import { mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runRegressionOverNetwork } from '../../src/guard/index.js';
import { vector } from '../helpers/vectors.js';

describe('CRS regression suite (response side, through the proxy)', () => {
  it('passes every RESPONSE-95x test', { timeout: 600_000 }, async () => {
    const suite = vector('waf/crs-regression');
    const folders = readdirSync(suite).filter((d) => /^RESPONSE-95\d-/.test(d));
    expect(folders.length).toBeGreaterThanOrEqual(8);
    const dir = mkdtempSync(join(tmpdir(), 'mamori-crs-response-'));
    try {
      for (const d of folders) symlinkSync(join(suite, d), join(dir, d));
      const results = await runRegressionOverNetwork(dir, vector('waf/crs-rules'), undefined, {
        responseSide: true,
      });
      const run = results.filter((r) => r.skipped === undefined);
      const failed = run.filter((r) => !r.passed).map((r) => `${r.id}: ${r.reason}`);
      expect(run.length).toBeGreaterThanOrEqual(90);
      expect(failed).toEqual([]);
      // and without responseSide they are skipped, as before
      const skipped = await runRegressionOverNetwork(dir, vector('waf/crs-rules'), '950130');
      expect(skipped.every((r) => r.skipped === 'response side')).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
