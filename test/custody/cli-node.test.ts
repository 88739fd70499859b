/**
 * `mamori custody node start --regtest` as a user runs it: the built CLI prints the JSON-RPC
 * URL, answers `node mine` from another process, and stops cleanly on SIGINT.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, runMamori } from '../helpers/cli.js';

describe('mamori custody node start|mine (built CLI)', () => {
  it('starts past segwit activation, mines, stops on SIGINT', { timeout: 90_000 }, async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'custody', 'node', 'start', '--regtest', '--json'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    const started = await new Promise<{ url: string; height: number }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('node start: no URL within 60 s')), 60_000);
      child.stdout.on('data', (d) => {
        out += d;
        try {
          const j = JSON.parse(out);
          clearTimeout(timer);
          resolve(j);
        } catch {
          // not complete yet
        }
      });
      child.on('exit', (code) => reject(new Error(`node start exited ${code}`)));
    });
    try {
      expect(started.url).toMatch(/^http:\/\/x:[0-9a-f]{32}@127\.0\.0\.1:\d+\/$/);
      expect(started.height).toBeGreaterThan(432);
      const mined = await runMamori([
        'custody',
        'node',
        'mine',
        '2',
        '--node',
        started.url,
        '--json',
      ]);
      expect(mined.code).toBe(0);
      expect(JSON.parse(mined.stdout)).toMatchObject({ blocks: 2, height: started.height + 2 });
      const bad = await runMamori([
        'custody',
        'node',
        'mine',
        '2',
        '--node',
        started.url.replace(/:[0-9a-f]{32}@/, ':wrong@'),
        '--json',
      ]);
      // E_AUTH: refused (exit 4), as the README's exit codes say
      expect(bad.code).toBe(4);
    } finally {
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    }
  });
});
