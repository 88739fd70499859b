/**
 * exposure-syn: `mamori exposure scan --syn` against masscan in the same run, on the same wire and
 * the same range, with the same --rate, wait and retries (issue 19: ≥ 0.5× masscan's rate at
 * ≥ 99% recall). A scanner namespace joins a target namespace over a veth; in the target,
 * 198.18.0.0/17 is local (one listener on :80 stands for every live host) and 198.18.128.0/17 is a
 * blackhole route (dropped, never answered). masscan brings its own TCP stack (--adapter,
 * --router-mac); mamori sends through the scanner kernel's raw socket, routed over the same veth.
 * Rate is probes ÷ wall time of the whole run, start-up and the final wait included for both.
 * Nothing leaves the namespaces: neither has an interface to the outside.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNetns, runIn } from '../test/exposure/netns.js';
import type { BenchFn, Figure } from './lib.js';

const root = join(import.meta.dirname, '..');

export const run: BenchFn = async (ctx) => {
  const prefix = ctx.scale < 1 ? 20 : 16;
  const size = 2 ** (32 - prefix);
  const target = `198.18.0.0/${prefix}`;
  const liveRange = `198.18.0.0/${prefix + 1}`;
  const deadRange =
    prefix === 16 ? '198.18.128.0/17' : `198.18.${2 ** (24 - prefix - 1)}.0/${prefix + 1}`;
  const live = size / 2;
  // the same budget for both: packets per second, seconds of listening after the last SYN, and
  // retries (0: one SYN per probe)
  const rate = Number(process.env.BENCH_SYN_RATE ?? 50000);
  const waitS = 1;
  const retries = 0;
  const bin = join(root, 'dist', 'cli', 'bin.js');
  if (!existsSync(bin)) throw new Error('run npm run build first');
  const dir = mkdtempSync(join(tmpdir(), 'mamori-bench-syn-'));
  const scan = createNetns('bsyn-s', []);
  const tgt = createNetns('bsyn-t', [liveRange]);
  const listener = tgt.spawn(process.execPath, [
    '-e',
    "require('node:net').createServer((s) => s.destroy()).listen(80, '0.0.0.0', 65535, () => console.log('ready'))",
  ]);
  try {
    tgt.exec('ip', ['route', 'add', 'blackhole', deadRange]);
    tgt.exec('sysctl', ['-qw', 'net.core.somaxconn=65535', 'net.ipv4.tcp_max_syn_backlog=65535']);
    scan.exec('ip', [
      'link',
      'add',
      'veth-s',
      'type',
      'veth',
      'peer',
      'name',
      'veth-t',
      'netns',
      tgt.name,
    ]);
    scan.exec('ip', ['addr', 'add', '10.98.0.1/30', 'dev', 'veth-s']);
    scan.exec('ip', ['link', 'set', 'veth-s', 'up']);
    tgt.exec('ip', ['addr', 'add', '10.98.0.2/30', 'dev', 'veth-t']);
    tgt.exec('ip', ['link', 'set', 'veth-t', 'up']);
    scan.exec('ip', ['route', 'add', target, 'via', '10.98.0.2']);
    const scanMac = scan.exec('cat', ['/sys/class/net/veth-s/address']).trim();
    const tgtMac = tgt.exec('cat', ['/sys/class/net/veth-t/address']).trim();
    // static neighbours: no answer waits (and is dropped) behind an ARP resolution
    for (const [ns, ip, mac, dev] of [
      [tgt, '10.98.0.1', scanMac, 'veth-t'],
      [scan, '10.98.0.2', tgtMac, 'veth-s'],
    ] as const)
      ns.exec('ip', ['neigh', 'replace', ip, 'lladdr', mac, 'dev', dev, 'nud', 'permanent']);
    await new Promise<void>((resolve) => listener.stdout?.once('data', () => resolve()));

    const db = join(dir, 'bench.db');
    // BENCH_CPU_PROF=<dir>: write a V8 CPU profile of mamori's scan there (node --cpu-prof)
    const profDir = process.env.BENCH_CPU_PROF;
    const profileFlags = profDir ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [];
    const mamori = (args: string[]) =>
      runIn(scan, process.execPath, [...profileFlags, bin, ...args, '--db', db], {
        timeoutMs: 600_000,
        env: { XDG_CONFIG_HOME: dir },
      });
    await mamori(['exposure', 'scope', 'add', target, '--owner', 'bench']);
    const oursArgs = [
      '--syn',
      '--ports',
      '80',
      '--rate',
      String(rate),
      '--timeout',
      String(waitS * 1000),
      '--retries',
      String(retries),
      '--discovery-only',
    ];
    ctx.log(`mamori exposure scan ${target} ${oursArgs.join(' ')}`);
    let t = performance.now();
    const r = await mamori(['exposure', 'scan', target, ...oursArgs, '--json']);
    const oursS = (performance.now() - t) / 1000;
    if (r.code !== 0) throw new Error(`mamori --syn failed (${r.code}): ${r.stderr}`);
    const ours = (JSON.parse(r.stdout).open as unknown[]).length;
    const load1 = loadavg()[0] ?? 0;

    const msOut = join(dir, 'masscan.list');
    const msArgs = [
      '-p80',
      '--rate',
      String(rate),
      '--wait',
      String(waitS),
      '--retries',
      String(retries),
      '--adapter',
      'veth-s',
      '--adapter-ip',
      '10.98.0.1',
      '--router-mac',
      tgtMac,
    ];
    ctx.log(`masscan ${target} ${msArgs.join(' ')}`);
    t = performance.now();
    const ms = await runIn(scan, 'timeout', ['120', 'masscan', target, ...msArgs, '-oL', msOut], {
      timeoutMs: 150_000,
    });
    const msS = (performance.now() - t) / 1000;
    if (ms.code !== 0)
      throw new Error(`masscan failed (exit ${ms.code}): ${ms.stderr.slice(-500)}`);
    const msFound = new Set(
      [...readFileSync(msOut, 'utf8').matchAll(/^open tcp 80 (\S+) /gm)].map((m) => m[1]),
    ).size;
    const load2 = loadavg()[0] ?? 0;

    const probes = size - 1; // the range's broadcast address is skipped by mamori
    const oursRate = probes / oursS;
    const msRate = size / msS;
    const figures: Figure[] = [
      {
        name: `mamori --syn recall (${size.toLocaleString('en')} addresses, ${live.toLocaleString('en')} live)`,
        value: (100 * ours) / live,
        unit: '%',
        base: 'live addresses',
        baseValue: 100,
        ratio: ours / live,
        goal: '≥ 99%',
        met: ours / live >= 0.99,
      },
      {
        name: 'mamori --syn rate (probes ÷ wall time, start-up and wait included)',
        value: oursRate,
        unit: 'probes/s',
        base: `masscan ${msArgs.slice(0, 7).join(' ')}`,
        baseValue: msRate,
        ratio: oursRate / msRate,
        goal: '≥ 0.5× masscan at ≥ 99% recall',
        met: oursRate / msRate >= 0.5 && ours / live >= 0.99,
      },
      {
        name: 'masscan recall',
        value: (100 * msFound) / live,
        unit: '%',
        base: 'live addresses',
        baseValue: 100,
        ratio: msFound / live,
      },
    ];
    return {
      figures,
      notes: [
        `${target}: ${liveRange} local in the target namespace (one listener on :80), ${deadRange} a blackhole route there. Both scanners run in the scanner namespace and reach it over the same veth.`,
        `mamori: exposure scan ${target} ${oursArgs.join(' ')} --json through the built CLI (${oursS.toFixed(2)} s, includes Node start-up, the SQLite store and storing every open port). masscan: masscan ${target} ${msArgs.join(' ')} -oL (${msS.toFixed(2)} s). Same rate, the same 1 s of listening after the last SYN (mamori --timeout 1000 = masscan --wait 1), no retries.`,
        `1-minute load average ${load1.toFixed(1)} after mamori's run and ${load2.toFixed(1)} after masscan's (2 cores shared with other sessions: absolute rates are noisy; both ran back to back).`,
      ],
    };
  } finally {
    listener.kill('SIGKILL');
    scan.remove();
    tgt.remove();
    rmSync(dir, { recursive: true, force: true });
  }
};
