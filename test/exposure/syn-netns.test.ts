/**
 * `exposure scan --syn` in a network namespace made by this test, with real listeners: the SYN
 * scan finds exactly what the connect scan finds (and what the listeners are), a valid answer
 * from an address the scope refuses is not counted, and without CAP_NET_RAW the CLI exits 3 with
 * the reason and sends nothing (no silent connect scan).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { PROJECT_ROOT } from '../helpers/vectors.js';
import { createNetns, type Netns, netnsAvailable, runIn } from './netns.js';

// every address of 198.18.0.0/24 answers on 80 and 554; 8080 only on .9, 2222 only on .200;
// 198.18.1.0/28 is a blackhole (no answer at all)
const LISTENERS = `
const net = require('node:net');
let accepted = 0;
const serve = (port, host) => new Promise((r) =>
  net.createServer((s) => { accepted++; s.destroy(); }).listen(port, host, 1024, r));
Promise.all([serve(80, '0.0.0.0'), serve(554, '0.0.0.0'), serve(8080, '198.18.0.9'),
  serve(2222, '198.18.0.200')]).then(() => console.log('ready'));
process.stdin.on('data', () => console.log('accepted ' + accepted));
`;

describe('exposure scan --syn in a network namespace', () => {
  if (!netnsAvailable()) {
    it('needs root and ip netns', () => {
      throw new Error('ip netns add failed: run the exposure SYN test as root with iproute2');
    });
    return;
  }
  let ns: Netns;
  let listeners: ChildProcess;
  let dir: string;
  let db: string;
  const cli = (args: string[], wrap: string[] = []) => {
    const [cmd, ...pre] = wrap.length ? wrap : [process.execPath];
    return runIn(
      ns,
      cmd!,
      [...pre, ...(wrap.length ? [process.execPath] : []), BIN, ...args, '--db', db],
      {
        env: { XDG_CONFIG_HOME: dir, MAMORI_DB: undefined },
        timeoutMs: 90_000,
      },
    );
  };
  const accepted = () =>
    new Promise<number>((resolve) => {
      listeners.stdout?.once('data', (d: Buffer) =>
        resolve(Number(/accepted (\d+)/.exec(String(d))?.[1])),
      );
      listeners.stdin?.write('?\n');
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mamori-syn-'));
    db = join(dir, 'mamori.db');
    ns = createNetns('syn', ['198.18.0.0/24']);
    ns.exec('ip', ['route', 'add', 'blackhole', '198.18.1.0/28']);
    listeners = ns.spawn(process.execPath, ['-e', LISTENERS]);
    await new Promise<void>((resolve, reject) => {
      listeners.stdout?.once('data', () => resolve());
      listeners.on('exit', (code) => reject(new Error(`listeners exited ${code}`)));
    });
    const r = await cli(['exposure', 'scope', 'add', '198.18.0.0/16', '--owner', 'test']);
    expect(r.code, r.stderr).toBe(0);
  }, 60_000);

  afterAll(() => {
    listeners?.kill('SIGKILL');
    ns?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const scanArgs = [
    'exposure',
    'scan',
    '198.18.0.0/24',
    '198.18.1.0/28',
    '--ports',
    '80,554,8080,2222,23',
    '--timeout',
    '500',
    '--discovery-only',
    '--json',
  ];
  const openSet = (stdout: string) =>
    (JSON.parse(stdout).open as { ip: string; port: number }[])
      .map((o) => `${o.ip}:${o.port}`)
      .sort();

  it('finds exactly what a connect scan finds, and what is listening (recall 100%)', async () => {
    const syn = await cli([...scanArgs, '--syn']);
    expect(syn.code, syn.stderr).toBe(0);
    const connect = await cli(scanArgs);
    expect(connect.code, connect.stderr).toBe(0);
    const expected: string[] = [];
    for (let i = 0; i < 255; i++) expected.push(`198.18.0.${i}:80`, `198.18.0.${i}:554`);
    expected.push('198.18.0.9:8080', '198.18.0.200:2222');
    const found = openSet(syn.stdout);
    expect(found).toEqual(openSet(connect.stdout));
    expect(found).toEqual(expected.sort());
    expect(JSON.parse(syn.stdout)).toMatchObject({ status: 'done', probes: (255 + 15) * 5 });
  }, 120_000);

  it('does not count a valid answer from an address the scope refuses', async () => {
    const input = {
      addrs: ['198.18.0.5', '198.18.0.6', '198.18.0.9'],
      refuse: ['198.18.0.6'],
      ports: [80, 8080, 23],
      source: '198.18.0.1',
    };
    const r = await runIn(
      ns,
      process.execPath,
      [
        '--import',
        'tsx',
        join(PROJECT_ROOT, 'test/exposure/syn-sweep-child.ts'),
        JSON.stringify(input),
      ],
      { timeoutMs: 60_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.openPorts).toEqual(['198.18.0.5:80', '198.18.0.9:80', '198.18.0.9:8080']);
    // .6 answered on 80 (SYN-ACK) and on 8080 and 23 (RST): all three refused, none counted
    expect(out).toMatchObject({ refused: 3, open: 3, closed: 3, interrupted: false });
  }, 90_000);

  it('exits 3 with the reason without CAP_NET_RAW, and sends nothing', async () => {
    const before = await accepted();
    const r = await cli(
      [...scanArgs, '--syn'],
      ['setpriv', '--inh-caps=-all', '--bounding-set=-net_raw', '--'],
    );
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('CAP_NET_RAW');
    expect(r.stderr).toContain('E_DEPENDENCY');
    expect(r.stdout).toBe('');
    expect(await accepted()).toBe(before);
  }, 60_000);

  it('refuses a target outside the scope before opening anything (exit 4)', async () => {
    const r = await cli(['exposure', 'scan', '203.0.113.0/24', '--ports', '80', '--syn']);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('E_SCOPE');
  }, 60_000);
});
