/**
 * Run inside a test's network namespace: one SYN sweep through the real raw socket, with a scope
 * predicate that refuses the addresses given, and print the result as JSON.
 *   node --import tsx test/exposure/syn-sweep-child.ts <json {addrs, refuse, ports, source}>
 */
import { openRawTcp } from '../../src/exposure/raw.js';
import { synSweep } from '../../src/exposure/syn-scan.js';

const v4 = (t: string) => t.split('.').reduce((a, p) => a * 256 + Number(p), 0);
const input = JSON.parse(process.argv[2] ?? '{}') as {
  addrs: string[];
  refuse: string[];
  ports: number[];
  source: string;
};
const addrs = new Uint32Array(input.addrs.map(v4));
const sources = new Uint32Array(addrs.length).fill(v4(input.source));
const refused = new Set(input.refuse.map(v4));
const open: string[] = [];
const raw = openRawTcp();
try {
  const result = await synSweep(raw, {
    addrs,
    sources,
    ports: input.ports,
    start: 0,
    end: addrs.length * input.ports.length,
    rate: 5000,
    timeoutMs: 500,
    retries: 1,
    key: { k0: 0x1234567, k1: 0x89abcdef },
    sport: 61234,
    inScope: (a) => !refused.has(a),
    onOpen: (a, port) =>
      open.push(`${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}:${port}`),
    onProgress: () => {},
  });
  process.stdout.write(`${JSON.stringify({ ...result, openPorts: open.sort() })}\n`);
} finally {
  raw.close();
}
