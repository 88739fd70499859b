/**
 * Bad input never crashes or hangs the engine: random request lines, headers and bodies
 * (including broken multipart, JSON and XML and invalid UTF-8) through CRS at paranoia 4.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/guard/core/engine.js';
import { runRequest } from '../../src/guard/core/ftw.js';
import { loadRules } from '../../src/guard/index.js';
import { vector } from '../helpers/vectors.js';

let engine: Engine;
beforeAll(() => {
  engine = loadRules(vector('waf/crs-rules'), { paranoia: 4, testSettings: true }).engine;
}, 60_000);

const bytes = (max: number) =>
  fc.uint8Array({ maxLength: max }).map((a) => String.fromCharCode(...a));

const contentType = fc.constantFrom(
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'multipart/form-data',
  'application/json',
  'text/xml',
  'text/plain',
);

const body = fc.oneof(
  bytes(300),
  fc.constant('--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\n1'),
  fc.constant('{"a":[1,{"b":'),
  fc.constant('<a><b></a>'),
  fc.constant('\xc3\x28\xff\xfe%zz%u12'),
);

describe('engine robustness', () => {
  it('returns a verdict for any request', { timeout: 120_000 }, () => {
    fc.assert(
      fc.property(
        bytes(12),
        bytes(200),
        contentType,
        body,
        fc.array(fc.tuple(bytes(20), bytes(80)), { maxLength: 5 }),
        (method, uri, ct, b, extra) => {
          const out = runRequest(
            engine,
            {
              method: method || 'GET',
              uri: `/${uri}`,
              protocol: 'HTTP/1.1',
              headers: [['Host', 'localhost'], ['Content-Type', ct], ...extra],
              body: b,
              remoteAddr: '127.0.0.1',
              remotePort: 1,
              serverPort: 80,
            },
            'p',
          );
          expect(out.status === 200 || out.status === 400 || out.status === 403).toBe(true);
        },
      ),
      { numRuns: 150, seed: 17 },
    );
  });
});
