/**
 * Real attacks through the proxy to a loopback upstream: sqlmap- and XSS-style payloads in block
 * mode get 403 and never reach the upstream; clean requests pass untouched; request smuggling
 * (Content-Length with Transfer-Encoding) gets 400. In detect mode the attack passes on and is
 * still reported, as detected.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loadRules,
  type ProxyMatchLog,
  type RunningProxy,
  startProxy,
} from '../../src/guard/index.js';
import { vector } from '../helpers/vectors.js';

let upstream: http.Server;
let upstreamPort = 0;
let proxy: RunningProxy;
const seen: string[] = [];
const logs: ProxyMatchLog[] = [];
const blocks: number[][] = [];

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url}`);
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'yes' });
      res.end(
        JSON.stringify({
          method: req.method,
          url: req.url,
          headers: req.headers,
          body: Buffer.concat(chunks).toString('base64'),
        }),
      );
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  upstreamPort = (upstream.address() as AddressInfo).port;
  const { engine } = loadRules(vector('waf/crs-rules'), { paranoia: 1, ruleEngine: 'On' });
  proxy = await startProxy({
    listen: { host: '127.0.0.1', port: 0 },
    upstream: `http://127.0.0.1:${upstreamPort}`,
    engine,
    mode: 'block',
    onMatch: (m) => logs.push(m),
    onBlock: (b) => blocks.push(b.ruleIds),
  });
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  await new Promise<void>((r) => upstream.close(() => r()));
});

async function send(path: string, init: RequestInit = {}) {
  const res = await fetch(`http://127.0.0.1:${proxy.port}${path}`, {
    headers: {
      'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0',
      accept: 'text/html',
      ...(init.headers ?? {}),
    },
    ...init,
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

describe('guard proxy (block mode, CRS paranoia 1)', () => {
  it('passes a clean GET and POST untouched, body and headers', async () => {
    const get = await send('/products?id=42&sort=price');
    expect(get.status).toBe(200);
    expect(get.headers.get('x-upstream')).toBe('yes');
    expect(JSON.parse(get.text)).toMatchObject({
      method: 'GET',
      url: '/products?id=42&sort=price',
    });
    const body = 'name=Taro+Yamada&comment=Hello%2C+world';
    const post = await send('/form', {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-custom': 'kept' },
    });
    expect(post.status).toBe(200);
    const echoed = JSON.parse(post.text);
    expect(Buffer.from(echoed.body, 'base64').toString()).toBe(body);
    expect(echoed.headers['x-custom']).toBe('kept');
  });
  it('streams a large clean response back', async () => {
    const r = await send('/big', {
      method: 'POST',
      body: 'a='.concat('x'.repeat(300)),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(r.status).toBe(200);
  });
  it('blocks sqlmap-style SQL injection with 403 before the upstream sees it', async () => {
    const before = seen.length;
    const payloads = [
      "/item?id=1' AND 1=1 UNION ALL SELECT NULL,CONCAT(0x71,user(),0x71),NULL-- -",
      '/item?id=1 AND SLEEP(5)',
      "/item?id=1');WAITFOR DELAY '0:0:5'--",
    ];
    for (const p of payloads) {
      const r = await send(encodeURI(p));
      expect(r.status, p).toBe(403);
    }
    expect(seen.length).toBe(before);
    expect(blocks.at(-1)).toContain(949110);
    expect(logs.some((l) => l.ruleId === 942100 && l.action === 'blocked')).toBe(true);
  });
  it('blocks XSS in the query and in a form body', async () => {
    expect(
      (await send(`/search?q=${encodeURIComponent('<script>alert(document.cookie)</script>')}`))
        .status,
    ).toBe(403);
    const r = await send('/comment', {
      method: 'POST',
      body: `text=${encodeURIComponent('<img src=x onerror=alert(1)>')}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(r.status).toBe(403);
  });
  it('answers 400 to conflicting Content-Length and Transfer-Encoding', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const s = net.connect(proxy.port, '127.0.0.1', () => {
        s.write(
          'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n',
        );
      });
      let data = '';
      s.on('data', (d) => {
        data += d.toString('latin1');
      });
      s.on('end', () => resolve(data));
      s.on('error', reject);
      setTimeout(() => {
        s.destroy();
        resolve(data);
      }, 3000);
    });
    expect(reply.startsWith('HTTP/1.1 400')).toBe(true);
    expect(seen).not.toContain('GET /admin');
  });
});

describe('guard proxy (detect mode, CRS paranoia 1)', () => {
  let detect: RunningProxy;
  const reported: { ruleIds: number[]; detected?: boolean }[] = [];
  beforeAll(async () => {
    const { engine } = loadRules(vector('waf/crs-rules'), { paranoia: 1, ruleEngine: 'On' });
    detect = await startProxy({
      listen: { host: '127.0.0.1', port: 0 },
      upstream: `http://127.0.0.1:${upstreamPort}`,
      engine,
      mode: 'detect',
      onBlock: (b) => reported.push(b),
    });
  }, 60_000);
  afterAll(async () => {
    await detect?.close();
  });

  it('passes the attack on, and reports it as detected (no silent pass)', async () => {
    const before = seen.length;
    const path = encodeURI(
      "/item?id=1' AND 1=1 UNION ALL SELECT NULL,CONCAT(0x71,user(),0x71)-- -",
    );
    const r = await fetch(`http://127.0.0.1:${detect.port}${path}`, {
      headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0', accept: '*/*' },
    });
    expect(r.status).toBe(200);
    await r.text();
    expect(seen.length).toBe(before + 1);
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatchObject({ detected: true });
    expect(reported[0]!.ruleIds).toContain(949110);
    // a clean request is not reported
    const clean = await fetch(`http://127.0.0.1:${detect.port}/products?id=42`, {
      headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0', accept: '*/*' },
    });
    expect(clean.status).toBe(200);
    await clean.text();
    expect(reported).toHaveLength(1);
  });
});
