/**
 * Two honeypot sensors and a central `mamori serve` as real processes over HTTPS (a self-signed
 * certificate the sensors trust through --ca), with a real PostgreSQL as the central store and
 * curl as the attacker. The centre is SIGKILLed while events flow (so a committed batch can lose
 * its answer and be sent again), curl keeps coming while it is down, then the centre is started
 * again on the same port. Every event a sensor acknowledged (its JSON-lines log is written in the
 * same commit as its queue) must be at the centre exactly once, the report must merge and cut by
 * sensor, and the sensors' status must show through the API.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb } from '../../src/storage/index.js';
import { BIN, runMamori } from '../helpers/cli.js';
import { freshSpec } from '../helpers/db.js';

const run = promisify(execFile);
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Proc {
  child: ChildProcess;
  json: Promise<Record<string, unknown>>;
  stderr(): string;
  stop(signal: NodeJS.Signals): Promise<void>;
}

function spawnMamori(args: string[], env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => {
    err += d;
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  cleanups.push(() => stop('SIGKILL'));
  const json = new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start line: ${err}`)), 60_000);
    child.stdout!.on('data', (d) => {
      out += d;
      try {
        resolve(JSON.parse(out));
        clearTimeout(timer);
      } catch {
        // not a whole document yet
      }
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
  return { child, json, stderr: () => err, stop };
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** curl as the attacker: `n` requests, half with the camera's weak default password. */
async function attack(port: number, n: number): Promise<number> {
  let answered = 0;
  for (let i = 0; i < n; i++) {
    const args = ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '10'];
    if (i % 2 === 0) args.push('-u', 'admin:admin');
    const { stdout } = await run('curl', [
      ...args,
      `http://127.0.0.1:${port}/${i % 3 === 0 ? '' : 'snapshot.jpg'}`,
    ]);
    if (/^[1-5]\d\d$/.test(stdout.trim())) answered++;
  }
  return answered;
}

function logKeys(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const e = JSON.parse(line) as Record<string, unknown>;
      return `${e.time}|${e.session}|${e.eventid}|${e.srcPort}|${e.dstPort}`;
    })
    .sort();
}

function httpsJson(url: string, ca: string, token: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => resolve(JSON.parse(body)));
    });
    req.on('error', reject);
    req.end();
  });
}

describe.skipIf(!process.env.MAMORI_TEST_PG)(
  'honeypot sensors reporting to a central serve',
  () => {
    it('every acknowledged event arrives exactly once across a SIGKILLed and restarted centre', {
      timeout: 300_000,
    }, async () => {
      const { spec, cleanup } = await freshSpec('postgres');
      cleanups.push(cleanup);
      const dir = mkdtempSync(join(tmpdir(), 'mamori-sensors-e2e-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const env = { HOME: dir, XDG_CONFIG_HOME: dir, XDG_DATA_HOME: dir };
      const cert = join(dir, 'centre.pem');
      const key = join(dir, 'centre.key');
      await run('openssl', [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        cert,
      ]);
      const names = ['tokyo-1', 'sapporo-1'];
      for (const name of names) {
        const r = await runMamori(
          ['sensor', 'add', name, '--out', join(dir, `${name}.token`), '--db', spec],
          { env },
        );
        expect(r.code, r.stderr).toBe(0);
      }
      const port = await freePort();
      const serveArgs = [
        'serve',
        '--port',
        String(port),
        '--tls-cert',
        cert,
        '--tls-key',
        key,
        '--json',
        '--db',
        spec,
      ];
      let centre = spawnMamori(serveArgs, env);
      await centre.json;
      const sensors = names.map((name) =>
        spawnMamori(
          [
            'honeypot',
            'start',
            '--http',
            '0',
            '--rtsp',
            '0',
            '--telnet',
            '0',
            '--onvif',
            '0',
            '--json',
            '--report-to',
            `https://127.0.0.1:${port}`,
            '--sensor',
            name,
            '--token',
            join(dir, `${name}.token`),
            '--ca',
            cert,
            '--queue',
            join(dir, `${name}.db`),
            '--log',
            join(dir, `${name}.jsonl`),
          ],
          env,
        ),
      );
      const httpPorts = await Promise.all(
        sensors.map(async (s) => ((await s.json).ports as { http: number }).http),
      );
      const flow = (n: number) => Promise.all(httpPorts.map((p) => attack(p, n)));

      // Events flow; the centre is killed in the middle of it.
      const first = flow(40);
      await new Promise((r) => setTimeout(r, 1500));
      await centre.stop('SIGKILL');
      const answered1 = await first;
      // While the centre is down the sensors keep answering and queueing.
      const answered2 = await flow(15);
      expect([...answered1, ...answered2].every((n) => n > 0)).toBe(true);
      for (const s of sensors) expect(s.stderr()).toMatch(/unreachable/);
      // Back on the same port, while events still flow.
      centre = spawnMamori(serveArgs, env);
      const third = flow(15);
      await centre.json;
      await third;

      const store = await openDb(spec, { migrate: false });
      cleanups.push(() => store.close());
      const atCentre = async (name: string) =>
        (
          await store.db
            .selectFrom('honeypot_sensor_event')
            .select(['time', 'session', 'eventid', 'src_port', 'dst_port'])
            .where('sensor', '=', name)
            .execute()
        )
          .map((r) => `${r.time}|${r.session}|${r.eventid}|${r.src_port}|${r.dst_port}`)
          .sort();
      const end = Date.now() + 90_000;
      for (const name of names) {
        while (Date.now() < end) {
          let logged = Number.POSITIVE_INFINITY;
          try {
            logged = logKeys(join(dir, `${name}.jsonl`)).length;
          } catch {
            // a line being appended right now: read again
          }
          if ((await atCentre(name)).length >= logged) break;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      await Promise.all(sensors.map((s) => s.stop('SIGTERM')));
      let total = 0;
      for (const [i, name] of names.entries()) {
        const acknowledged = logKeys(join(dir, `${name}.jsonl`));
        expect(acknowledged.length).toBeGreaterThan(100);
        // Exactly once: the same events, none missing, none twice.
        expect(await atCentre(name)).toEqual(acknowledged);
        expect(sensors[i]!.stderr()).toMatch(/ 0 queued for the next start/);
        total += acknowledged.length;
      }

      // The report merges the sensors and cuts by sensor.
      const all = await runMamori(['honeypot', 'report', '--json', '--db', spec], { env });
      expect(all.code, all.stderr).toBe(0);
      const days = (r: string) =>
        (JSON.parse(r).timeline as { events: number }[]).reduce((a, d) => a + d.events, 0);
      expect(days(all.stdout)).toBe(total);
      const one = await runMamori(
        ['honeypot', 'report', '--sensor', names[0]!, '--json', '--db', spec],
        {
          env,
        },
      );
      expect(days(one.stdout)).toBe(logKeys(join(dir, `${names[0]}.jsonl`)).length);
      const none = await runMamori(['honeypot', 'report', '--sensor', 'nowhere', '--db', spec], {
        env,
      });
      expect(none.code).toBe(2);

      // Status through the API (with a viewer token) and the CLI.
      const tok = await runMamori(['token', 'create', '--role', 'viewer', '--json', '--db', spec], {
        env,
      });
      const token = JSON.parse(tok.stdout).token as string;
      const api = (await httpsJson(
        `https://127.0.0.1:${port}/api/v1/honeypot/sensors`,
        readFileSync(cert, 'utf8'),
        token,
      )) as {
        sensors: { name: string; events: number; lastSeen: string | null; queueDepth: number }[];
      };
      expect(api.sensors.map((s) => s.name).sort()).toEqual([...names].sort());
      for (const s of api.sensors) {
        expect(s.events).toBe(logKeys(join(dir, `${s.name}.jsonl`)).length);
        expect(s.lastSeen).not.toBeNull();
      }
      await centre.stop('SIGTERM');
    });
  },
);
