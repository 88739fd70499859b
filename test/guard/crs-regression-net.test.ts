/**
 * The CRS regression suite over the network: raw requests on sockets through the guard proxy to
 * a loopback upstream. The rate asserted is the one docs/guard.md states.
 */
import { describe, expect, it } from 'vitest';
import { runRegressionOverNetwork } from '../../src/guard/index.js';
import { vector } from '../helpers/vectors.js';

describe('CRS regression suite (request side, through the proxy)', () => {
  it('passes at least 99% of the request-side tests', { timeout: 900_000 }, async () => {
    const results = await runRegressionOverNetwork(
      vector('waf/crs-regression'),
      vector('waf/crs-rules'),
    );
    const run = results.filter((r) => r.skipped === undefined);
    const passed = run.filter((r) => r.passed).length;
    console.log(`${passed} passed, ${run.length - passed} failed (through the proxy)`);
    expect(run.length).toBeGreaterThan(4900);
    expect(passed / run.length).toBeGreaterThanOrEqual(0.99);
  });
});
