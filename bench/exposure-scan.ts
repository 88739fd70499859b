/**
 * exposure-scan: TCP connect discovery of 198.18.0.0/16 on one port inside a network namespace
 * made here — 198.18.0.0/17 answers (a local route to lo and one listener), 198.18.128.0/17 is
 * dead (routed through a veth into a namespace that drops every packet, so probes time out) — for
 * recall and time, side by side with `nmap -sT -T4` and `masscan` in the same run.
 * Nothing leaves the namespace: it has no interface to the outside.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
  const bin = join(root, 'dist', 'cli', 'bin.js');
  if (!existsSync(bin)) throw new Error('run npm run build first');
  const ns = createNetns('bench', [liveRange]);
  const sinkName = `${ns.name}-sink`;
  const dir = mkdtempSync(join(tmpdir(), 'mamori-bench-scan-'));
  // one listener stands for every live host: give it a backlog as deep as theirs would be
  ns.exec('sysctl', ['-qw', 'net.core.somaxconn=65535', 'net.ipv4.tcp_max_syn_backlog=65535']);
  const listener = ns.spawn(process.execPath, [
    '-e',
    "require('node:net').createServer((s) => s.destroy()).listen(80, '0.0.0.0', 65535, () => console.log('ready'))",
  ]);
  try {
    // the dead half goes through a veth into a second namespace that forwards nothing
    execFileSync('ip', ['netns', 'add', sinkName]);
    ns.exec('ip', [
      'link',
      'add',
      'veth-dead',
      'type',
      'veth',
      'peer',
      'name',
      'veth-sink',
      'netns',
      sinkName,
    ]);
    ns.exec('ip', ['addr', 'add', '10.99.0.1/30', 'dev', 'veth-dead']);
    ns.exec('ip', ['link', 'set', 'veth-dead', 'up']);
    execFileSync('ip', [
      'netns',
      'exec',
      sinkName,
      'ip',
      'addr',
      'add',
      '10.99.0.2/30',
      'dev',
      'veth-sink',
    ]);
    execFileSync('ip', ['netns', 'exec', sinkName, 'ip', 'link', 'set', 'veth-sink', 'up']);
    execFileSync('ip', ['netns', 'exec', sinkName, 'sysctl', '-qw', 'net.ipv4.ip_forward=0']);
    ns.exec('ip', ['route', 'add', deadRange, 'via', '10.99.0.2']);
    await new Promise<void>((resolve) => listener.stdout?.once('data', () => resolve()));
    const db = join(dir, 'bench.db');
    const mamori = (args: string[], timeoutMs = 600_000) =>
      runIn(ns, process.execPath, [bin, ...args, '--db', db], {
        timeoutMs,
        env: { XDG_CONFIG_HOME: dir },
      });
    await mamori(['exposure', 'scope', 'add', target, '--owner', 'bench']);
    ctx.log(`mamori scan ${target}`);
    let t = performance.now();
    const r = await mamori([
      'exposure',
      'scan',
      target,
      '--ports',
      '80',
      '--rate',
      '50000',
      '--concurrency',
      '4096',
      '--per-host',
      '4',
      '--timeout',
      '1000',
      '--retries',
      '0',
      '--discovery-only',
      '--json',
    ]);
    const oursS = (performance.now() - t) / 1000;
    if (r.code !== 0) throw new Error(`mamori scan failed: ${r.stderr}`);
    const ours = (JSON.parse(r.stdout).open as unknown[]).length;

    ctx.log('nmap -sT -T4');
    const nmapOut = join(dir, 'nmap.gnmap');
    const nmapCap = 420;
    t = performance.now();
    const nm = await runIn(
      ns,
      'timeout',
      [
        String(nmapCap),
        'nmap',
        '-sT',
        '-T4',
        '-Pn',
        '-n',
        '-p',
        '80',
        '--open',
        '-oG',
        nmapOut,
        target,
      ],
      { timeoutMs: (nmapCap + 30) * 1000 },
    );
    const nmapS = (performance.now() - t) / 1000;
    const nmapFound = existsSync(nmapOut)
      ? (readFileSync(nmapOut, 'utf8').match(/Ports: 80\/open/g) ?? []).length
      : 0;
    const nmapKilled = nm.code === 124;

    ctx.log('masscan');
    const msOut = join(dir, 'masscan.list');
    t = performance.now();
    const ms = await runIn(
      ns,
      'timeout',
      [
        '90',
        'masscan',
        target,
        '-p80',
        '--rate',
        '100000',
        '--adapter',
        'lo',
        '--adapter-ip',
        '198.18.0.1',
        '--source-mac',
        '00:00:00:00:00:01',
        '--router-mac',
        '00:00:00:00:00:00',
        '--wait',
        '2',
        '-oL',
        msOut,
      ],
      { timeoutMs: 120_000 },
    );
    const msS = (performance.now() - t) / 1000;
    const msFound = existsSync(msOut)
      ? (readFileSync(msOut, 'utf8').match(/^open tcp 80 /gm) ?? []).length
      : 0;

    const figures: Figure[] = [
      {
        name: `mamori scan recall (${size.toLocaleString('en')} addresses, ${live.toLocaleString('en')} live)`,
        value: (100 * ours) / live,
        unit: '%',
        base: 'live addresses',
        baseValue: 100,
        ratio: ours / live,
        goal: '100%',
        met: ours === live,
      },
      {
        name: 'mamori scan time',
        value: oursS,
        unit: 's',
        base: `nmap -sT -T4${nmapKilled ? ` (killed at ${nmapCap} s)` : ''}`,
        baseValue: nmapS,
        ratio: nmapS / oursS,
        goal: 'faster than nmap -sT',
        met: oursS < nmapS,
      },
      {
        name: 'nmap -sT -T4 recall',
        value: (100 * nmapFound) / live,
        unit: '%',
        base: 'live addresses',
        baseValue: 100,
        ratio: nmapFound / live,
      },
      {
        name: 'mamori scan time vs masscan',
        value: oursS,
        unit: 's',
        base: `masscan --rate 100000${ms.code === 0 ? '' : ` (exit ${ms.code})`}`,
        baseValue: msS,
        ratio: msS / oursS,
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
        `${target} in a namespace: ${liveRange} local (one listener on :80), ${deadRange} routed through a veth into a second namespace that forwards nothing (dead hosts time out). mamori: --rate 50000 --concurrency 4096 --timeout 1000 --retries 0 --discovery-only, run through the built CLI (includes start-up and storing every open port in SQLite).`,
        `nmap: -sT -T4 -Pn -n -p 80 --open, capped at ${nmapCap} s (${nmapKilled ? 'it was killed at the cap; recall counts hosts it had reported by then' : 'finished'}). masscan: --rate 100000 on lo inside the namespace${ms.code === 0 ? '' : `, exit ${ms.code}${ms.code === 124 ? ' (killed at its 90 s cap)' : ''}: ${ms.stderr.trim().split('\n').slice(-1)[0] ?? ''}`}. masscan brings its own TCP stack and needs an Ethernet adapter; on lo inside a namespace it sees no answers, so its figures here measure the set-up, not masscan.`,
        'Ratios for time are peer ÷ mamori (> 1: mamori faster). The machine was shared with other jobs (load average > 10), so absolute times are pessimistic for every tool alike.',
      ],
    };
  } finally {
    listener.kill('SIGKILL');
    ns.remove();
    try {
      execFileSync('ip', ['netns', 'del', sinkName], { stdio: 'ignore' });
    } catch {
      // never made
    }
    rmSync(dir, { recursive: true, force: true });
  }
};
