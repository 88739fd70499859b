/**
 * Phases 3 and 4 through the proxy, against a loopback upstream that leaks: an SQL error
 * message (CRS 951), a PHP warning (953), an IIS path (954) and a directory listing (950130).
 * In block mode the leak is answered with 403 and never reaches the client; in detect mode it
 * passes and is logged. Clean responses pass byte for byte, and a body past the inspection
 * limit streams: the client has the first bytes before the upstream has finished.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loadRules,
  type ProxyMatchLog,
  type RunningProxy,
  startProxy,
} from '../../src/guard/index.js';
import { vector } from '../helpers/vectors.js';

const LEAKS: Record<string, { type: string; body: string; rule: number }> = {
  '/sql': {
    type: 'text/html',
    body: "<p>You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near ''' at line 1</p>",
    rule: 951230,
  },
  '/php': {
    type: 'text/html',
    body: '<br />\n<b>Warning</b>:  include(config.php): failed to open stream: No such file or directory in <b>/var/www/html/index.php</b> on line <b>3</b><br />',
    rule: 953100,
  },
  '/iis': {
    type: 'text/html',
    body: '<p>Server Error in application: c:\\inetpub\\wwwroot\\app\\default.aspx</p>',
    rule: 954100,
  },
  '/listing': {
    type: 'text/html',
    body: '<html><head><title>Index of /backup</title></head><body><h1>Index of /backup</h1><a href="db.sql">db.sql</a></body></html>',
    rule: 950130,
  },
};

const BINARY = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 256));
let upstream: http.Server;
let upstreamPort = 0;
let releaseSlow: (() => void) | undefined;
const engines = new Map<string, ReturnType<typeof loadRules>['engine']>();

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    const leak = LEAKS[req.url ?? ''];
    if (leak) {
      res.writeHead(200, { 'content-type': leak.type });
      res.end(leak.body);
      return;
    }
    if (req.url === '/clean') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'x-app': 'shop' });
      res.end('<html><body><h1>ようこそ</h1><p>Order #42 shipped.</p></body></html>');
      return;
    }
    if (req.url === '/binary') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(BINARY);
      return;
    }
    if (req.url === '/slow') {
      // More than the inspection limit at once, then nothing until the test says so.
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('a'.repeat(8 * 1024));
      releaseSlow = () => res.end('\nthe end\n');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  upstreamPort = (upstream.address() as AddressInfo).port;
  engines.set(
    'block',
    loadRules(vector('waf/crs-rules'), { paranoia: 1, ruleEngine: 'On' }).engine,
  );
  engines.set(
    'detect',
    loadRules(vector('waf/crs-rules'), { paranoia: 1, ruleEngine: 'DetectionOnly' }).engine,
  );
}, 120_000);

afterAll(async () => {
  releaseSlow?.();
  await new Promise<void>((r) => upstream.close(() => r()));
});

const headers = {
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0',
  accept: 'text/html',
};

for (const mode of ['block', 'detect'] as const) {
  describe(`guard proxy response phases (${mode} mode)`, () => {
    let proxy: RunningProxy;
    const logs: ProxyMatchLog[] = [];
    beforeAll(async () => {
      proxy = await startProxy({
        listen: { host: '127.0.0.1', port: 0 },
        upstream: `http://127.0.0.1:${upstreamPort}`,
        engine: engines.get(mode)!,
        mode,
        responseBodyLimit: 4096,
        onMatch: (m) => logs.push(m),
      });
    });
    afterAll(async () => {
      await proxy.close();
    });
    const url = (p: string) => `http://127.0.0.1:${proxy.port}${p}`;

    for (const [path, leak] of Object.entries(LEAKS)) {
      it(`${mode === 'block' ? 'blocks' : 'logs'} a leak on ${path} (rule ${leak.rule})`, async () => {
        const res = await fetch(url(path), { headers });
        const text = await res.text();
        const mine = logs.filter((l) => l.path === path);
        expect(mine.map((l) => l.ruleId)).toContain(leak.rule);
        const hit = mine.find((l) => l.ruleId === leak.rule)!;
        expect(hit).toMatchObject({ phase: 4, matchedVar: 'RESPONSE_BODY' });
        if (mode === 'block') {
          expect(res.status).toBe(403);
          expect(text).not.toContain(leak.body.slice(0, 20));
          expect(mine.map((l) => l.ruleId)).toContain(959100);
          expect(mine.filter((l) => l.phase >= 3).every((l) => l.action === 'blocked')).toBe(true);
        } else {
          expect(res.status).toBe(200);
          expect(text).toBe(leak.body);
          expect(mine.every((l) => l.action === 'logged')).toBe(true);
        }
      });
    }

    it('passes clean responses untouched: status, headers, bytes', async () => {
      const before = logs.length;
      const res = await fetch(url('/clean'), { headers });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-app')).toBe('shop');
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await res.text()).toBe(
        '<html><body><h1>ようこそ</h1><p>Order #42 shipped.</p></body></html>',
      );
      const bin = await fetch(url('/binary'), { headers });
      expect(Buffer.from(await bin.arrayBuffer()).equals(BINARY)).toBe(true);
      const missing = await fetch(url('/nope'), { headers });
      expect(missing.status).toBe(404);
      expect(await missing.text()).toBe('not found\n');
      expect(logs.slice(before).filter((l) => l.phase >= 3)).toEqual([]);
    });

    it('streams a body past the limit: the first bytes arrive before the upstream ends', async () => {
      const res = await fetch(url('/slow'), { headers });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      let got = 0;
      while (got < 8 * 1024) {
        const { value, done } = await reader.read();
        if (done) throw new Error('ended early');
        got += value.length;
      }
      // Only now does the upstream finish its body.
      releaseSlow?.();
      let tail = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        tail += Buffer.from(value).toString();
      }
      expect(tail).toBe('\nthe end\n');
    });
  });
}
