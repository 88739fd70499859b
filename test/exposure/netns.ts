/**
 * Network namespaces for the exposure tests and benchmarks: made by the test, removed after.
 * Inside one, `ip route add local <range> dev lo` makes a whole range answer locally, so scans
 * never leave the namespace (it has no other interface).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';

export function netnsAvailable(): boolean {
  try {
    const name = `mamori-probe-${process.pid}`;
    execFileSync('ip', ['netns', 'add', name], { stdio: 'ignore' });
    execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface Netns {
  name: string;
  exec(cmd: string, args: string[]): string;
  spawn(cmd: string, args: string[], env?: Record<string, string | undefined>): ChildProcess;
  remove(): void;
}

/** Create a namespace with lo up and `localRanges` routed to lo. */
export function createNetns(tag: string, localRanges: string[]): Netns {
  const name = `mamori-${tag}-${process.pid}`;
  execFileSync('ip', ['netns', 'add', name]);
  const exec = (cmd: string, args: string[]) =>
    execFileSync('ip', ['netns', 'exec', name, cmd, ...args], { encoding: 'utf8' });
  try {
    exec('ip', ['link', 'set', 'lo', 'up']);
    for (const r of localRanges) exec('ip', ['route', 'add', 'local', r, 'dev', 'lo']);
  } catch (err) {
    execFileSync('ip', ['netns', 'del', name]);
    throw err;
  }
  return {
    name,
    exec,
    spawn: (cmd, args, env) =>
      spawn('ip', ['netns', 'exec', name, cmd, ...args], {
        env: { ...process.env, ...env },
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    remove: () => {
      try {
        execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    },
  };
}

/** Run a command in the namespace to completion, with a time limit. */
export function runIn(
  ns: Netns,
  cmd: string,
  args: string[],
  opts: { env?: Record<string, string | undefined>; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = ns.spawn(cmd, args, opts.env);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => {
      stdout += d;
    });
    child.stderr?.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} timed out\n${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin?.end();
  });
}
