/**
 * The built CLI on loopback: scope errors and exit codes, a hostile HTTP banner stored safely
 * and printed escaped, query errors pointing at the position.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMamori } from '../helpers/cli.js';

describe('mamori exposure (built CLI, loopback)', () => {
  let dir: string;
  let server: Server;
  let port: number;
  const cli = (args: string[]) =>
    runMamori([...args, '--db', join(dir, 'm.db')], {
      env: { XDG_CONFIG_HOME: dir, MAMORI_DB: undefined },
    });
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mamori-cli-'));
    // hostile: ANSI escapes in the title and headers, invalid UTF-8, a NUL, a long body
    const body = Buffer.concat([
      Buffer.from('<html><head><title>Cam \u001b[2J\u001b]0;owned\u0007 view</title></head><body>'),
      Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28]),
      Buffer.alloc(100_000, 0x41),
      Buffer.from('</body></html>'),
    ]);
    server = createServer((s) => {
      s.on('error', () => {});
      s.once('data', () => {
        s.end(
          Buffer.concat([
            Buffer.from(
              `HTTP/1.1 200 OK\r\nServer: evil\u001b[31m/1.0\r\nContent-Length: ${body.length}\r\n\r\n`,
              'latin1',
            ),
            body,
          ]),
        );
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.20.1', () => r()));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });
  it('refuses without scope (exit 4), validates input (exit 2), scans, and prints hostile text escaped', async () => {
    const none = await cli(['exposure', 'scan', '127.0.20.1', '--ports', String(port)]);
    expect(none.code).toBe(4);
    expect((await cli(['exposure', 'scope', 'add', '127.0.20.0/33', '--owner', 'x'])).code).toBe(2);
    expect((await cli(['exposure', 'scope', 'add', '127.0.20.0/24'])).code).toBe(2);
    expect((await cli(['exposure', 'scope', 'add', '127.0.20.0/24', '--owner', 'lab'])).code).toBe(
      0,
    );
    const badPorts = await cli(['exposure', 'scan', '127.0.20.1', '--ports', '80,9x']);
    expect(badPorts.code).toBe(2);
    expect(badPorts.stderr).toContain('position 5');
    const out = await cli([
      'exposure',
      'scan',
      '127.0.20.1',
      '127.0.21.1',
      '--ports',
      String(port),
    ]);
    expect(out.code).toBe(4);
    const scan = await cli(['exposure', 'scan', '127.0.20.1', '--ports', String(port), '--json']);
    expect(scan.code).toBe(0);
    expect(JSON.parse(scan.stdout).open).toHaveLength(1);
    const text = await cli(['exposure', 'search', 'port:' + port]);
    expect(text.code).toBe(0);
    expect(text.stdout).not.toMatch(/[\u001b\u0007\u0000]/);
    expect(text.stdout).toContain('\\x1b[2J');
    const json = await cli(['exposure', 'search', 'view', '--json']);
    expect(JSON.parse(json.stdout).matches[0].title).toBe('Cam \u001b[2J\u001b]0;owned\u0007 view');
    const exported = await cli(['exposure', 'export', '--format', 'csv']);
    expect(exported.stdout.split('\r\n')[0]).toMatch(/^ip,port,transport/);
    const bad = await cli(['exposure', 'search', 'port:80 AND (title:x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/position \d+/);
  });
  it('judges other address forms by the scope (exit 4) and refuses malformed input with exit 2, never 70', async () => {
    // the scope from the test above is 127.0.20.0/24; these all name 127.0.0.1 or ::ffff:127.0.0.200
    for (const target of [
      '2130706433',
      '0x7f000001',
      '0177.0.0.1',
      '127.1',
      'localhost',
      '::ffff:127.0.0.200',
    ]) {
      const r = await cli(['exposure', 'scan', target, '--ports', String(port)]);
      expect(r.code, `${target}: ${r.stderr}`).toBe(4);
    }
    expect(
      (await cli(['exposure', 'scope', 'add', '::ffff:0.0.0.0/96', '--owner', 'x'])).code,
    ).toBe(4);
    expect((await cli(['exposure', 'scope', 'add', '::/1', '--owner', 'x'])).code).toBe(4);
    // SYN shards for workers are not built: said so, never a silent connect scan
    const syn = await cli([
      'exposure',
      'scan',
      '127.0.20.1',
      '--ports',
      String(port),
      '--syn',
      '--distribute',
    ]);
    expect(syn.code).toBe(2);
    expect(syn.stderr).toContain('not implemented');
    const xml = join(dir, 'bad.xml');
    writeFileSync(xml, '<nmaprun><host><address addr="192.0.2.1" addrtype="ipv4"/><ports>');
    const imp = await cli(['exposure', 'import', xml]);
    expect(imp.code, imp.stderr).toBe(2);
    expect(imp.stderr).toMatch(/line \d+/);
    for (const q of ['port:80\u0001', `${'('.repeat(5000)}a${')'.repeat(5000)}`]) {
      const r = await cli(['exposure', 'search', q]);
      expect(r.code, r.stderr.slice(0, 200)).toBe(2);
    }
  });
});
