/**
 * guard-proxy: requests/s and p99 through `mamori guard proxy` (CRS at paranoia 1, block mode)
 * against the same upstream direct, and against Apache with Debian's libapache2-mod-security2
 * running the same CRS rules (paranoia 1, SecRuleEngine On, mod_proxy to the same upstream), in
 * the same run, with the same autocannon load (connections, duration, request). The upstream is
 * a small Node HTTP server in its own process; the proxy and Apache run in their own processes.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BenchFn, Figure } from './lib.js';

interface CannonResult {
  requests: { average: number; sent: number; total: number };
  latency: { p99: number; average: number };
  errors: number;
  non2xx: number;
}
type Cannon = (opts: {
  url: string;
  connections: number;
  duration: number;
  headers?: Record<string, string>;
}) => Promise<CannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Cannon;

const root = resolve(import.meta.dirname, '..');
const RULES = resolve(root, '../shared/vectors/waf/crs-rules');

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
    s.on('error', rej);
  });
}

async function waitFor(url: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`${url} did not come up in ${ms} ms`);
}

const UPSTREAM_JS = `
const http = require('node:http');
const body = Buffer.from('<html><body>' + 'x'.repeat(512) + '</body></html>');
http.createServer((req, res) => {
  req.resume();
  req.on('end', () => { res.writeHead(200, { 'content-type': 'text/html', 'content-length': body.length }); res.end(body); });
}).listen(Number(process.argv[1]), '127.0.0.1');
`;

function apacheConf(dir: string, port: number, upstream: number): string {
  const mod = (name: string, file: string) => `LoadModule ${name} /usr/lib/apache2/modules/${file}`;
  return [
    `ServerRoot ${dir}`,
    `Listen 127.0.0.1:${port}`,
    `PidFile ${dir}/httpd.pid`,
    `ErrorLog ${dir}/error.log`,
    'LogLevel error',
    'User www-data',
    'Group www-data',
    'ServerName localhost',
    mod('mpm_event_module', 'mod_mpm_event.so'),
    mod('authz_core_module', 'mod_authz_core.so'),
    mod('unique_id_module', 'mod_unique_id.so'),
    mod('proxy_module', 'mod_proxy.so'),
    mod('proxy_http_module', 'mod_proxy_http.so'),
    mod('security2_module', 'mod_security2.so'),
    'KeepAlive On',
    'MaxKeepAliveRequests 0',
    'SecRuleEngine On',
    'SecRequestBodyAccess On',
    'SecResponseBodyAccess Off',
    'SecAuditEngine Off',
    `SecTmpDir ${dir}`,
    `SecDataDir ${dir}`,
    `Include ${RULES}/crs-setup.conf.example`,
    'SecAction "id:900000,phase:1,pass,nolog,setvar:tx.blocking_paranoia_level=1,setvar:tx.detection_paranoia_level=1"',
    `Include ${RULES}/rules/*.conf`,
    `ProxyPass / http://127.0.0.1:${upstream}/ keepalive=On`,
    '',
  ].join('\n');
}

export const run: BenchFn = async (ctx) => {
  const connections = 32;
  const duration = Math.max(3, Math.round(15 * ctx.scale));
  const headers = {
    'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
    accept: 'text/html,application/xhtml+xml',
    'accept-language': 'en-US,en;q=0.5',
  };
  const path = '/products/list?category=books&sort=price&page=2';
  const children: ChildProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'guard-bench-'));
  chmodSync(dir, 0o777);
  try {
    const upPort = await freePort();
    const proxyPort = await freePort();
    const apachePort = await freePort();
    children.push(
      spawn(process.execPath, ['-e', UPSTREAM_JS, String(upPort)], { stdio: 'ignore' }),
    );
    await waitFor(`http://127.0.0.1:${upPort}/`, 10_000);
    const bin = join(root, 'dist/cli/bin.js');
    ctx.log(
      `guard: node ${bin} guard proxy --listen 127.0.0.1:${proxyPort} --upstream http://127.0.0.1:${upPort} --rules ${RULES} --mode block --paranoia 1`,
    );
    children.push(
      spawn(
        process.execPath,
        [
          bin,
          'guard',
          'proxy',
          '--listen',
          `127.0.0.1:${proxyPort}`,
          '--upstream',
          `http://127.0.0.1:${upPort}`,
          '--rules',
          RULES,
          '--mode',
          'block',
          '--paranoia',
          '1',
        ],
        { stdio: ['ignore', 'ignore', 'inherit'] },
      ),
    );
    await waitFor(`http://127.0.0.1:${proxyPort}/`, 30_000);
    let apache = false;
    const haveApache = () =>
      existsSync('/usr/lib/apache2/modules/mod_security2.so') && existsSync('/usr/sbin/apache2');
    if (!haveApache() && process.getuid?.() === 0) {
      // the peer is Debian's own packages, installed for the bench only (not for the tests)
      ctx.log('installing apache2 and libapache2-mod-security2 (apt-get) for the ModSecurity peer');
      execFileSync(
        'apt-get',
        ['install', '-y', '--no-install-recommends', 'apache2', 'libapache2-mod-security2'],
        {
          stdio: 'inherit',
          env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
        },
      );
    }
    if (haveApache()) {
      const conf = apacheConf(dir, apachePort, upPort);
      ctx.log(`ModSecurity peer: /usr/sbin/apache2 -DFOREGROUND with\n${conf}`);
      writeFileSync(join(dir, 'httpd.conf'), conf);
      execFileSync('/usr/sbin/apache2', ['-t', '-f', join(dir, 'httpd.conf')], {
        stdio: 'inherit',
      });
      children.push(
        spawn('/usr/sbin/apache2', ['-f', join(dir, 'httpd.conf'), '-DFOREGROUND'], {
          stdio: 'inherit',
        }),
      );
      await waitFor(`http://127.0.0.1:${apachePort}/`, 30_000);
      apache = true;
    }
    const load = async (port: number, label: string) => {
      ctx.log(`${label}: ${connections} connections, ${duration} s`);
      await autocannon({
        url: `http://127.0.0.1:${port}${path}`,
        connections,
        duration: 2,
        headers,
      });
      const r = await autocannon({
        url: `http://127.0.0.1:${port}${path}`,
        connections,
        duration,
        headers,
      });
      if (r.non2xx > 0 || r.errors > 0)
        ctx.log(`${label}: ${r.non2xx} non-2xx, ${r.errors} errors`);
      return r;
    };
    const direct = await load(upPort, 'direct');
    const guard = await load(proxyPort, 'guard proxy');
    const modsec = apache ? await load(apachePort, 'apache+modsecurity') : undefined;
    const figures: Figure[] = [
      {
        name: 'guard proxy req/s (CRS PL1)',
        value: guard.requests.average,
        unit: 'req/s',
        base: 'upstream direct',
        baseValue: direct.requests.average,
        ratio: guard.requests.average / direct.requests.average,
      },
    ];
    if (modsec !== undefined) {
      figures.push(
        {
          name: 'guard proxy req/s vs ModSecurity',
          value: guard.requests.average,
          unit: 'req/s',
          base: 'Apache 2.4 + mod_security2 2.9 (CRS PL1)',
          baseValue: modsec.requests.average,
          ratio: guard.requests.average / modsec.requests.average,
          goal: '≥ 3',
          met: guard.requests.average / modsec.requests.average >= 3,
        },
        {
          name: 'guard proxy p99 vs ModSecurity (lower is better)',
          value: guard.latency.p99,
          unit: 'ms',
          base: 'Apache 2.4 + mod_security2 2.9 (CRS PL1)',
          baseValue: modsec.latency.p99,
          ratio: modsec.latency.p99 / guard.latency.p99,
        },
      );
    } else {
      ctx.log('apache2 or libapache2-mod-security2 not installed: ModSecurity figure not measured');
    }
    figures.push({
      name: 'guard proxy p99 (lower is better)',
      value: guard.latency.p99,
      unit: 'ms',
      base: 'upstream direct p99',
      baseValue: direct.latency.p99,
      ratio: direct.latency.p99 / guard.latency.p99,
    });
    return {
      figures,
      notes: [
        `autocannon: ${connections} connections, ${duration} s after a 2 s warm-up, GET ${path} with browser-like headers; keep-alive on every hop.`,
        'guard: `mamori guard proxy --mode block --paranoia 1` (one Node process). ModSecurity: Apache 2.4 event MPM, mod_proxy_http, SecRuleEngine On, same CRS files and paranoia.',
        'Machine has 2 cores shared by the load generator, upstream and proxy, and other sessions run concurrently: figures are noisy.',
      ],
    };
  } finally {
    for (const c of children.reverse()) c.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    rmSync(dir, { recursive: true, force: true });
  }
};
