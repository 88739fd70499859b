/**
 * The go-ftw suite over the network: each test request is written as raw bytes on a socket to
 * the guard proxy (DetectionOnly, CRS test settings) in front of a loopback upstream, one at a
 * time, and judged on the status the client saw and the rule ids and audit lines the proxy
 * logged for it.
 * Not a load test: requests are sequential so each log line belongs to one request.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import {
  type FtwResult,
  type FtwTest,
  isResponseSide,
  judge,
  requestFromInput,
} from './core/ftw.js';
import { startProxy } from './proxy.js';
import { readRegressionTests } from './regression.js';
import { loadRules } from './rules.js';

function sendRaw(port: number, raw: Buffer, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.end(raw));
    let data = '';
    const done = () => {
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(data);
      resolve(m ? Number(m[1]) : 0);
    };
    const timer = setTimeout(() => {
      s.destroy();
      done();
    }, timeoutMs);
    s.on('data', (d: Buffer) => {
      data += d.toString('latin1');
    });
    s.on('close', () => {
      clearTimeout(timer);
      done();
    });
    s.on('error', () => undefined);
  });
}

/** @example await runRegressionOverNetwork('crs-regression', 'crs-rules') */
export async function runRegressionOverNetwork(
  dir: string,
  rulesDir: string,
  only?: string,
): Promise<FtwResult[]> {
  let tests: FtwTest[] = readRegressionTests(dir);
  if (only !== undefined) {
    tests = tests.filter((t) => String(t.ruleId) === only || `${t.ruleId}-${t.testId}` === only);
  }
  const upstream = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok\n'));
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const { engine } = loadRules(rulesDir, { paranoia: 4, testSettings: true });
  let ids = new Set<number>();
  let log: string[] = [];
  const proxy = await startProxy({
    listen: { host: '127.0.0.1', port: 0 },
    upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
    engine,
    mode: 'detect',
    onMatch: (m) => ids.add(m.ruleId),
    onAuditLine: (line) => log.push(line),
  });
  const results: FtwResult[] = [];
  try {
    for (const t of tests) {
      const id = `${t.ruleId}-${t.testId}`;
      if (isResponseSide(t.ruleId)) {
        results.push({
          id,
          ruleId: t.ruleId,
          testId: t.testId,
          passed: false,
          skipped: 'response side',
        });
        continue;
      }
      let reason: string | undefined;
      for (const s of t.stages) {
        let raw: Buffer;
        if (s.input.encoded_request !== undefined) {
          raw = Buffer.from(s.input.encoded_request.replace(/\s+/g, ''), 'base64');
        } else {
          const req = requestFromInput(s.input);
          if (req === undefined) break;
          const head = [
            `${req.method} ${req.uri} ${req.protocol}`,
            ...req.headers.map(([k, v]) => `${k}: ${v}`),
          ];
          if (!req.headers.some(([k]) => k.toLowerCase() === 'connection'))
            head.push('Connection: close');
          raw = Buffer.from(`${head.join('\r\n')}\r\n\r\n${req.body}`, 'latin1');
        }
        ids = new Set();
        log = [];
        const status = await sendRaw(proxy.port, raw, 5000);
        reason = judge(s.output, { ids, log: log.join('\n'), status });
        if (reason !== undefined) break;
      }
      const r: FtwResult = { id, ruleId: t.ruleId, testId: t.testId, passed: reason === undefined };
      if (reason !== undefined) r.reason = reason;
      results.push(r);
    }
  } finally {
    await proxy.close();
    await new Promise<void>((r) => upstream.close(() => r()));
  }
  return results;
}
