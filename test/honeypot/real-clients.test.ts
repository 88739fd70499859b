/**
 * The honeypot against the real tools attackers and owners run, in every auth mode: Debian's
 * nmap (-sT -sV, with rtsp-url-brute) must name a camera on every port; ffprobe must see the
 * stream's size over interleaved TCP and UDP, and ffmpeg record 3 s of it; the npm `onvif`
 * client must log in, read the device and its profiles, and move PTZ. Then `honeypot report`
 * must equal what this test knows it did: nmap a scanner or grabber (never a guesser), no `?`
 * source, one login per connection. nmap is bounded (loopback, the honeypots' ports only,
 * --host-timeout); scripts/test.sh installs nmap and ffmpeg.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { Agent } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUTH_MODES,
  type AuthMode,
  honeypotReport,
  type RunningHoneypot,
  startHoneypot,
} from '../../src/honeypot/index.js';
import { freshStore, type TestStore } from '../helpers/db.js';

const run = promisify(execFile);
const NMAP_FROM = '127.0.0.77';
const ONVIF_FROM = '127.0.0.90';
/** ffmpeg cannot choose its source address: it connects from 127.0.0.1. */
const FFMPEG_FROM = '127.0.0.1';
const OWNER_PASSWORD = 'Owner-Only-9f3a';

interface OnvifCam {
  getDeviceInformation(cb: (err: Error | null, info: Record<string, unknown>) => void): void;
  continuousMove(opts: { x: number; y: number }, cb: (err: Error | null) => void): void;
  stop(opts: object, cb: (err: Error | null) => void): void;
  profiles: { $: { token: string } }[];
  activeSource?: { width: number; height: number; encoding: string };
}
type CamCtor = new (
  opts: Record<string, unknown>,
  cb: (this: OnvifCam, err: Error | null) => void,
) => OnvifCam;
const { Cam } = createRequire(import.meta.url)('onvif') as { Cam: CamCtor };

/** The credential each mode's owner (or anyone, in `none`) uses. */
function credentialOf(mode: AuthMode): [string, string] {
  if (mode === 'none') return ['viewer', 'anything-goes'];
  return mode === 'weak' ? ['admin', 'admin'] : ['admin', OWNER_PASSWORD];
}

interface Truth {
  classes: Map<string, string>;
  creds: Map<string, number>;
}

async function ffprobeSize(url: string, transport: 'tcp' | 'udp') {
  const { stdout } = await run(
    'ffprobe',
    [
      '-v',
      'error',
      '-rw_timeout',
      '10000000',
      '-rtsp_transport',
      transport,
      '-show_entries',
      'stream=codec_name,width,height',
      '-of',
      'json',
      url,
    ],
    { timeout: 30_000 },
  );
  return (JSON.parse(stdout) as { streams: Record<string, unknown>[] }).streams;
}

async function onvifSession(port: number, user: string, password: string) {
  // One keep-alive connection from our own source: the client's requests share it.
  const agent = new Agent({ keepAlive: true, maxSockets: 1, localAddress: ONVIF_FROM });
  try {
    return await new Promise<{ info: Record<string, unknown>; cam: OnvifCam }>(
      (resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('onvif client timed out')), 20_000);
        new Cam(
          { hostname: '127.0.0.1', port, username: user, password, agent, timeout: 10_000 },
          function (err) {
            if (err) {
              clearTimeout(timer);
              return reject(err);
            }
            this.getDeviceInformation((e, info) => {
              if (e) return reject(e);
              this.continuousMove({ x: 0.5, y: -0.25 }, (e2) => {
                if (e2) return reject(e2);
                this.stop({}, (e3) => {
                  clearTimeout(timer);
                  if (e3) reject(e3);
                  else resolve({ info, cam: this });
                });
              });
            });
          },
        );
      },
    );
  } finally {
    agent.destroy();
  }
}

describe('the honeypot against nmap, ffmpeg and an ONVIF client', () => {
  const pots = new Map<AuthMode, { t: TestStore; hp: RunningHoneypot; truth: Truth }>();
  let nmapXml: Record<string, unknown>[] = [];
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mamori-hp-real-'));
    for (const mode of AUTH_MODES) {
      const t = await freshStore('sqlite');
      const hp = await startHoneypot({
        store: t.store,
        ports: { http: 0, rtsp: 0, telnet: 0, onvif: 0 },
        auth: mode,
        password: OWNER_PASSWORD,
        maxStreamMs: 20_000,
      });
      pots.set(mode, { t, hp, truth: { classes: new Map(), creds: new Map() } });
    }
    const ports = [...pots.values()].flatMap(({ hp }) => Object.values(hp.ports));
    // Every honeypot port at once: one bounded run. -sT is the connect scan that resets each
    // probe connection at once; -S binds its sockets to a source of its own.
    const nmap = run(
      'nmap',
      [
        '-sT',
        '-sV',
        '-Pn',
        '-n',
        '--script',
        'rtsp-url-brute',
        '-S',
        NMAP_FROM,
        '-e',
        'lo',
        '--host-timeout',
        '120s',
        '-p',
        ports.join(','),
        '-oX',
        '-',
        '127.0.0.1',
      ],
      { timeout: 150_000, maxBuffer: 16 * 1024 * 1024 },
    );
    // The owners' clients run meanwhile, from sources of their own.
    for (const [mode, { hp, truth }] of pots) {
      const [user, password] = credentialOf(mode);
      const url = `rtsp://${user}:${encodeURIComponent(password)}@127.0.0.1:${hp.ports.rtsp}/11`;
      const tcp = await ffprobeSize(url, 'tcp');
      const udp = await ffprobeSize(url, 'udp');
      const out = join(dir, `${mode}.mp4`);
      await run(
        'ffmpeg',
        ['-v', 'error', '-rtsp_transport', 'tcp', '-i', url, '-t', '3', '-c', 'copy', '-y', out],
        { timeout: 30_000 },
      );
      const rec = JSON.parse(
        (
          await run('ffprobe', [
            '-v',
            'error',
            '-show_entries',
            'format=duration:stream=width,height',
            '-of',
            'json',
            out,
          ])
        ).stdout,
      ) as { format: { duration: string }; streams: { width: number; height: number }[] };
      Object.assign(hp, { probe: { tcp, udp, rec, size: statSync(out).size } });
      truth.classes.set(FFMPEG_FROM, 'viewer');
      // Three connections (ffprobe TCP, ffprobe UDP, ffmpeg), one login each, only where a
      // password is asked for.
      if (mode !== 'none') truth.creds.set(`${user}/${password}`, 3);

      const { info, cam } = await onvifSession(hp.ports.onvif, user, password);
      Object.assign(hp, { onvif: { info, profiles: cam.profiles, active: cam.activeSource } });
      truth.classes.set(ONVIF_FROM, 'operator');
      // In `none` mode no password is checked, so a digest's password is never learnt.
      const key = mode === 'none' ? `${user}/?` : `${user}/${password}`;
      truth.creds.set(key, (truth.creds.get(key) ?? 0) + 1);
    }
    const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(
      (await nmap).stdout,
    ) as { nmaprun: { host: { ports: { port: Record<string, unknown>[] } } } };
    nmapXml = xml.nmaprun.host.ports.port;
    for (const { truth } of pots.values()) truth.classes.set(NMAP_FROM, 'grabber');
    for (const { hp } of pots.values()) await hp.stop();
  }, 240_000);

  afterAll(async () => {
    for (const { hp, t } of pots.values()) {
      await hp.stop();
      await t.cleanup();
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('nmap -sV names a camera on every port, in every mode', () => {
    for (const [mode, { hp }] of pots) {
      const byPort = (p: number) => {
        const row = nmapXml.find((r) => Number(r.portid) === p);
        const svc = (row?.service ?? {}) as Record<string, string>;
        return { mode, name: svc.name, product: svc.product, devicetype: svc.devicetype };
      };
      expect(byPort(hp.ports.telnet)).toEqual({
        mode,
        name: 'telnet',
        product: 'BusyBox telnetd',
        devicetype: undefined,
      });
      expect(byPort(hp.ports.rtsp)).toMatchObject({ mode, name: 'rtsp', devicetype: 'webcam' });
      expect(byPort(hp.ports.rtsp).product).toMatch(/Hipcam/);
      for (const p of [hp.ports.http, hp.ports.onvif])
        expect(byPort(p)).toMatchObject({ mode, name: 'http', devicetype: 'webcam' });
    }
  });

  it('rtsp-url-brute finds only the camera’s own stream paths', () => {
    for (const { hp } of pots.values()) {
      const row = nmapXml.find((r) => Number(r.portid) === hp.ports.rtsp)!;
      const script = [row.script].flat().find((s) => (s as { id: string }).id === 'rtsp-url-brute');
      const text = String((script as { output: string }).output);
      const urls = [...text.matchAll(/rtsp:\/\/[^\s&<]+/g)].map((m) => new URL(m[0]).pathname);
      expect(urls.length).toBeGreaterThan(0);
      expect(urls.length).toBeLessThanOrEqual(5);
      for (const u of urls)
        expect(['/', '/11', '/12', '/live/ch00_0', '/live/ch00_1']).toContain(u);
    }
  });

  it('ffprobe sees 320×240 H.264 over TCP and UDP; ffmpeg records 3 s', () => {
    for (const { hp } of pots.values()) {
      const probe = (hp as unknown as { probe: Record<string, unknown> }).probe as {
        tcp: Record<string, unknown>[];
        udp: Record<string, unknown>[];
        rec: { format: { duration: string }; streams: { width: number; height: number }[] };
      };
      for (const s of [probe.tcp, probe.udp])
        expect(s).toEqual([{ codec_name: 'h264', width: 320, height: 240 }]);
      expect(Number(probe.rec.format.duration)).toBeGreaterThanOrEqual(2.9);
      expect(probe.rec.streams[0]).toMatchObject({ width: 320, height: 240 });
    }
  });

  it('the onvif client logs in, reads the device and its profiles, and moves PTZ', async () => {
    for (const [mode, { hp, t }] of pots) {
      const o = (hp as unknown as { onvif: Record<string, unknown> }).onvif as {
        info: Record<string, unknown>;
        profiles: { $: { token: string } }[];
        active: Record<string, unknown>;
      };
      expect(o.info).toMatchObject({ manufacturer: 'IPCAM', model: 'IPC-HD2130' });
      expect(o.profiles.map((p) => p.$.token)).toEqual(['Profile_1']);
      expect(o.active).toMatchObject({ encoding: 'H264', width: 320, height: 240 });
      const ptz = await t.store.db
        .selectFrom('honeypot_event')
        .select('summary')
        .where('eventid', '=', 'ptz.command')
        .where('src_ip', '=', ONVIF_FROM)
        .execute();
      expect(
        ptz.map((r) => JSON.parse(r.summary).action),
        mode,
      ).toEqual(['ContinuousMove:pan=0.5,tilt=-0.25', 'Stop']);
    }
  });

  it('the report equals what the clients did: nmap a grabber, no `?` source', async () => {
    for (const [mode, { t, truth }] of pots) {
      const { report, extras } = await honeypotReport(t.store, { topN: 100 });
      expect(Object.fromEntries(extras.classes), mode).toEqual(Object.fromEntries(truth.classes));
      expect(extras.unattributed).toBe(0);
      const creds = Object.fromEntries(
        report.credentials.map((c) => [`${c.username}/${c.password ?? '?'}`, c.attempts]),
      );
      expect(creds, mode).toEqual(Object.fromEntries(truth.creds));
      expect(report.sources.guesser).toBe(0);
    }
  });
});
