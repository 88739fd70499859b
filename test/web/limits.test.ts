/**
 * Limits over a real socket: a chunked 1 GB body to an authenticated route gets 413 while the
 * server's memory stays flat (the body is never buffered past the limit), and an
 * unauthenticated one is refused before any of it is read.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../../src/access/index.js';
import { type RunningServer, startServer } from '../../src/web/index.js';
import { freshStore, type TestStore } from '../helpers/db.js';

const GIB = 1024 * 1024 * 1024;

/** Send up to `total` bytes chunked; stop as soon as the response arrives. */
function chunkedUpload(
  url: string,
  path: string,
  headers: Record<string, string>,
  total: number,
): Promise<{ status: number; sent: number; body: string }> {
  const u = new URL(url);
  const chunk = Buffer.alloc(256 * 1024, 0x61);
  return new Promise((resolve, reject) => {
    let sent = 0;
    let done = false;
    const req = request({
      host: u.hostname,
      port: u.port,
      path,
      method: 'POST',
      headers: { ...headers, 'transfer-encoding': 'chunked', 'content-type': 'text/plain' },
    });
    req.on('response', (res) => {
      done = true;
      let body = '';
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, sent, body });
      });
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      // the server may close the connection after answering; a reset before an answer is a failure
      if (!done) reject(err);
    });
    const pump = () => {
      while (!done && sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!done && sent >= total) req.end();
    };
    pump();
  });
}

describe('body limits on a real socket', () => {
  let t: TestStore;
  let server: RunningServer;
  let operator: string;
  beforeAll(async () => {
    t = await freshStore('sqlite');
    server = await startServer({ store: t.store, host: '127.0.0.1', port: 0, version: 'test' });
    operator = (await createToken(t.store, { role: 'operator', ttlMs: 3_600_000 })).token;
  });
  afterAll(async () => {
    await server?.close();
    await t?.cleanup();
  });

  it('a chunked 1 GB inventory gets 413 and memory stays flat', async () => {
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const r = await chunkedUpload(
      server.url,
      '/api/v1/vuln/check',
      { authorization: `Bearer ${operator}`, host: new URL(server.url).host },
      GIB,
    );
    clearInterval(sampler);
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body)).toMatchObject({
      error: { code: 'E_INPUT', details: { reason: 'too_large' } },
    });
    // answered long before the whole gigabyte was sent, and the process grew by far less than it
    expect(r.sent).toBeLessThan(GIB);
    expect(peak - before).toBeLessThan(150 * 1024 * 1024);
    // the service still answers
    expect((await fetch(new URL('/healthz', server.url))).status).toBe(200);
  }, 120_000);

  it('without credentials the body is refused unread', async () => {
    const r = await chunkedUpload(
      server.url,
      '/api/v1/vuln/check',
      { host: new URL(server.url).host },
      64 * 1024 * 1024,
    );
    expect(r.status).toBe(401);
    expect(r.sent).toBeLessThan(64 * 1024 * 1024);
  }, 60_000);
});
