/**
 * `cosigner serve` over mutual TLS, with the real openssl and curl on 127.0.0.1: a throwaway CA
 * signs the server's certificate (SAN IP:127.0.0.1) and one client's; another client shows a
 * self-signed certificate with the same name. Only the first reaches the app (its JSON refusal
 * of a bad body); no certificate, the other certificate, and plain HTTP get no HTTP answer at
 * all. Then the token beside mutual TLS, the key file's mode, and the built CLI's flags.
 * Not the cosigner check itself (trust-regtest.test.ts).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { HDKey } from '@scure/bip32';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as custody from '../../src/custody/index.js';
import { BIN, runMamori } from '../helpers/cli.js';

const execFileP = promisify(execFile);
const PASS = 'correct horse battery';
const FAST = { N: 2 ** 12, r: 8, p: 1 }; // test-only scrypt cost
const TOKEN = 'test-token-0123456789abcdef';

interface CurlResult {
  exit: number;
  /** The HTTP status, 0 when no HTTP answer came back. */
  status: number;
  body: string;
  stderr: string;
}

/** curl as the hot server would call the cosigner: POST /v1/cosign with a body that is no JSON. */
async function curlCosign(url: string, args: string[]): Promise<CurlResult> {
  const argv = [
    '--silent',
    '--show-error',
    '--max-time',
    '30',
    '--output',
    '-',
    '--write-out',
    '\n%{http_code}',
    '--request',
    'POST',
    '--header',
    'content-type: application/json',
    '--data',
    'not json',
    ...args,
    `${url}/v1/cosign`,
  ];
  let exit = 0;
  let out: string;
  let stderr: string;
  try {
    ({ stdout: out, stderr } = await execFileP('curl', argv));
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    if (typeof err.code !== 'number') throw e; // curl itself missing
    exit = err.code;
    out = err.stdout ?? '';
    stderr = err.stderr ?? '';
  }
  const cut = out.lastIndexOf('\n');
  return { exit, status: Number(out.slice(cut + 1)), body: out.slice(0, cut), stderr };
}

/** What a client that never got past TLS sees: curl fails and no HTTP status came back. */
function expectNoHttpAnswer(r: CurlResult) {
  expect(r.exit, r.stderr).not.toBe(0);
  // 7 would be "could not connect": the server must be up and have dropped the TLS session
  expect(r.exit, r.stderr).not.toBe(7);
  expect(r.status).toBe(0);
  expect(r.body).toBe('');
}

const openssl = (args: string[]) => execFileP('openssl', args);
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2'];
const LEAF = ['-addext', 'basicConstraints=critical,CA:FALSE'];

describe('cosigner serve over mutual TLS (openssl, curl)', () => {
  let dir: string;
  let master: HDKey;
  const f = (n: string) => join(dir, n);
  const files = () => ({
    certFile: f('server.pem'),
    keyFile: f('server.key'),
    clientCaFile: f('ca.pem'),
  });
  const stops: (() => Promise<void>)[] = [];
  const serve = async (extra: { token?: string } = {}) => {
    const srv = await custody.serveCosigner({
      genesis: {}, // never reached: each request here is refused before the check
      master,
      tls: custody.readCosignerTls(files()),
      host: '127.0.0.1',
      port: 0,
      ...extra,
    });
    stops.push(() => srv.close());
    return srv;
  };
  const asClient = (name: string | undefined) => [
    '--cacert',
    f('ca.pem'),
    ...(name ? ['--cert', f(`${name}.pem`), '--key', f(`${name}.key`)] : []),
  ];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mamori-cosigner-mtls-'));
    const ca = ['-CA', f('ca.pem'), '-CAkey', f('ca.key')];
    await openssl([
      'req',
      '-x509',
      ...EC,
      '-subj',
      '/CN=Mamori test client CA',
      '-keyout',
      f('ca.key'),
      '-out',
      f('ca.pem'),
    ]);
    await openssl([
      'req',
      '-x509',
      ...EC,
      ...ca,
      ...LEAF,
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-addext',
      'extendedKeyUsage=serverAuth',
      '-keyout',
      f('server.key'),
      '-out',
      f('server.pem'),
    ]);
    await openssl([
      'req',
      '-x509',
      ...EC,
      ...ca,
      ...LEAF,
      '-subj',
      '/CN=hot-server',
      '-addext',
      'extendedKeyUsage=clientAuth',
      '-keyout',
      f('client.key'),
      '-out',
      f('client.pem'),
    ]);
    // the same name, but signed by itself: only the CA's signature may count
    await openssl([
      'req',
      '-x509',
      ...EC,
      ...LEAF,
      '-subj',
      '/CN=hot-server',
      '-addext',
      'extendedKeyUsage=clientAuth',
      '-keyout',
      f('rogue.key'),
      '-out',
      f('rogue.pem'),
    ]);
    for (const k of ['ca', 'server', 'client', 'rogue']) chmodSync(f(`${k}.key`), 0o600);
    const key = await custody.newKey('regtest', PASS, { scrypt: FAST });
    writeFileSync(f('cosigner.key'), `${JSON.stringify(key.file)}\n`, { mode: 0o600 });
    master = await custody.unlockKeyFile(key.file, PASS);
  });
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });
  afterAll(() => {
    master?.wipePrivateData();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a client with a certificate from the client CA reaches /v1/cosign (the app’s refusal)', async () => {
    const srv = await serve();
    expect(srv.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const r = await curlCosign(srv.url, asClient('client'));
    expect(r.exit, r.stderr).toBe(0);
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body)).toMatchObject({ error: { code: 'E_INPUT' } });
  });

  it('no client certificate: the TLS handshake fails, no HTTP answer', async () => {
    const srv = await serve();
    expectNoHttpAnswer(await curlCosign(srv.url, asClient(undefined)));
    // the same server still serves the good client afterwards
    expect((await curlCosign(srv.url, asClient('client'))).status).toBe(400);
  });

  it('a certificate from another CA (self-signed, same name) is refused in the handshake', async () => {
    const srv = await serve();
    expectNoHttpAnswer(await curlCosign(srv.url, asClient('rogue')));
    // and at TLS 1.2 too, where the refusal comes inside the handshake itself
    const tls12 = await curlCosign(srv.url, [...asClient('rogue'), '--tls-max', '1.2']);
    expectNoHttpAnswer(tls12);
    expect(tls12.exit, tls12.stderr).toBe(35); // CURLE_SSL_CONNECT_ERROR
    expect((await curlCosign(srv.url, [...asClient('client'), '--tls-max', '1.2'])).status).toBe(
      400,
    );
  });

  it('plain HTTP to the TLS port gets no HTTP answer', async () => {
    const srv = await serve();
    expectNoHttpAnswer(await curlCosign(srv.url.replace(/^https:/, 'http:'), []));
  });

  it('mutual TLS and a token: both are required', async () => {
    const srv = await serve({ token: TOKEN });
    const noToken = await curlCosign(srv.url, asClient('client'));
    expect(noToken.status).toBe(401);
    expect(JSON.parse(noToken.body)).toMatchObject({ error: { code: 'E_AUTH' } });
    const auth = ['--header', `authorization: Bearer ${TOKEN}`];
    expect((await curlCosign(srv.url, [...asClient('client'), ...auth])).status).toBe(400);
    expectNoHttpAnswer(await curlCosign(srv.url, [...asClient(undefined), ...auth]));
  });

  it('the TLS files: a key others may read, a key of another certificate, a missing file: E_CONFIG', () => {
    chmodSync(f('server.key'), 0o640);
    try {
      expect(() => custody.readCosignerTls(files())).toThrow(
        expect.objectContaining({ code: 'E_CONFIG', hint: `chmod 600 ${f('server.key')}` }),
      );
    } finally {
      chmodSync(f('server.key'), 0o600);
    }
    expect(() => custody.readCosignerTls({ ...files(), keyFile: f('client.key') })).toThrow(
      expect.objectContaining({ code: 'E_CONFIG' }),
    );
    expect(() => custody.readCosignerTls({ ...files(), clientCaFile: f('nope.pem') })).toThrow(
      expect.objectContaining({ code: 'E_CONFIG' }),
    );
    expect(custody.readCosignerTls(files()).key.length).toBeGreaterThan(0);
  });

  it('without TLS nothing changed: plain HTTP and the token required', async () => {
    const srv = await custody.serveCosigner({ genesis: {}, master, token: TOKEN, port: 0 });
    stops.push(() => srv.close());
    expect(srv.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await curlCosign(srv.url, [])).status).toBe(401);
    const auth = ['--header', `authorization: Bearer ${TOKEN}`];
    expect((await curlCosign(srv.url, auth)).status).toBe(400);
  });

  it('neither a token nor mutual TLS: E_CONFIG', async () => {
    await expect(
      custody.serveCosigner({ genesis: {}, master, host: '127.0.0.1', port: 0 }),
    ).rejects.toMatchObject({ code: 'E_CONFIG' });
  });

  describe('the built CLI', () => {
    const env = () => ({
      MAMORI_KEY_PASSPHRASE: PASS,
      MAMORI_COSIGNER_TOKEN: undefined,
      MAMORI_CONFIG: undefined,
      XDG_CONFIG_HOME: dir,
      HOME: dir,
    });
    const errOf = (stderr: string) => JSON.parse(stderr.trim().split('\n').pop()!).error;
    let genesisFile: string;

    beforeAll(async () => {
      const admin = await custody.newIdentity('adm1', PASS, { scrypt: FAST });
      const signer = await custody.unlockIdentity(admin, PASS);
      try {
        const now = new Date().toISOString();
        const g = custody.makeGenesis({
          identities: [admin.public],
          admins: [admin.public.id],
          adminThreshold: 1,
          approvers: [],
          operators: [],
          createdAt: now,
        });
        genesisFile = f('genesis.json');
        writeFileSync(genesisFile, JSON.stringify(custody.signGenesis(g, signer, now)));
      } finally {
        signer.wipe();
      }
    });

    const serveArgs = (tls: string[]) => [
      'custody',
      'cosigner',
      'serve',
      '--key',
      f('cosigner.key'),
      '--trust',
      genesisFile,
      '--listen',
      '127.0.0.1:0',
      '--json',
      ...tls,
    ];

    it('some of the TLS flags only: E_USAGE (exit 2), naming the missing ones', async () => {
      const r = await runMamori(
        serveArgs(['--tls-cert', f('server.pem'), '--tls-key', f('server.key')]),
        { env: env() },
      );
      expect(r.code, r.stderr).toBe(2);
      const err = errOf(r.stderr);
      expect(err.code).toBe('E_USAGE');
      expect(err.message).toContain('--client-ca');
      const none = await runMamori(serveArgs([]), { env: env() });
      expect(none.code, none.stderr).toBe(2);
      expect(errOf(none.stderr).code).toBe('E_CONFIG');
    });

    it('all three: serves mutual TLS without a token', { timeout: 120_000 }, async () => {
      const child: ChildProcess = spawn(
        process.execPath,
        [
          BIN,
          ...serveArgs([
            '--tls-cert',
            f('server.pem'),
            '--tls-key',
            f('server.key'),
            '--client-ca',
            f('ca.pem'),
          ]),
        ],
        { env: { ...process.env, ...env() }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      stops.push(async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await exited;
      });
      let err = '';
      child.stderr!.on('data', (d) => {
        err += d;
      });
      const started = await new Promise<{ url: string; auth: string[] }>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (d) => {
          out += d;
          if (out.includes('\n')) resolve(JSON.parse(out));
        });
        child.once('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
      });
      expect(started).toMatchObject({
        url: expect.stringMatching(/^https:/),
        auth: ['mutual TLS'],
        verifier: expect.stringMatching(/^libsecp256k1 native/),
      });
      const good = await curlCosign(started.url, asClient('client'));
      expect(good.status, good.stderr).toBe(400);
      expect(JSON.parse(good.body)).toMatchObject({ error: { code: 'E_INPUT' } });
      expectNoHttpAnswer(await curlCosign(started.url, asClient('rogue')));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    });
  });

  it('the client, `cosigner sign`: through mutual TLS to the app; without its certificate, exit 3', async () => {
    const srv = await serve();
    writeFileSync(f('x.psbt'), 'cHNidP8BAAoCAAAAAAAAAAAAAAA=\n');
    writeFileSync(f('x.psbt.evidence.json'), '{}');
    const sign = (args: string[]) =>
      runMamori(['custody', 'cosigner', 'sign', f('x.psbt'), '--url', srv.url, '--json', ...args], {
        env: { MAMORI_DB: f('never.db') },
      });
    const mtls = [
      '--client-cert',
      f('client.pem'),
      '--client-key',
      f('client.key'),
      '--ca',
      f('ca.pem'),
    ];
    // through TLS: the cosigner's own refusal of this PSBT comes back, code and all
    const through = await sign([...mtls, '--out', f('y.psbt')]);
    expect(through.code, through.stderr).toBe(2);
    expect(through.stderr).toMatch(/the cosigner refused \(400\)/);
    const rogue = await sign([
      '--client-cert',
      f('rogue.pem'),
      '--client-key',
      f('rogue.key'),
      '--ca',
      f('ca.pem'),
    ]);
    expect(rogue.code).toBe(3);
    expect(rogue.stderr).toMatch(/E_NETWORK/);
    const none = await sign(['--ca', f('ca.pem')]);
    expect(none.code).toBe(3);
    // a client key others may read is refused before any connection
    chmodSync(f('client.key'), 0o644);
    try {
      const open = await sign(mtls);
      expect(open.code).toBe(2);
      expect(open.stderr).toMatch(/E_CONFIG/);
    } finally {
      chmodSync(f('client.key'), 0o600);
    }
    // half a pair is a usage error
    expect((await sign(['--client-cert', f('client.pem')])).code).toBe(2);
    expect(existsSync(f('y.psbt'))).toBe(false);
  });
});
