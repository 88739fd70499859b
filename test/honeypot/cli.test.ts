/** `mamori honeypot report|start` through the built CLI: JSON shape, CSV, usage errors. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { honeypotReport, startHoneypot } from '../../src/honeypot/index.js';
import { runMamori } from '../helpers/cli.js';
import { freshStore, type TestStore } from '../helpers/db.js';
import { grabBanners, telnetGuess, viewMjpeg } from './simulator.js';

describe('mamori honeypot (CLI)', () => {
  let t: TestStore;
  beforeAll(async () => {
    t = await freshStore('sqlite');
    const hp = await startHoneypot({
      store: t.store,
      ports: { http: 0, rtsp: 0, telnet: 0, onvif: 0 },
      auth: 'weak',
    });
    await grabBanners('127.0.0.31', hp.ports);
    await telnetGuess('127.0.0.32', hp.ports.telnet, [
      ['root', 'vizxv'],
      ['admin', '=HYPERLINK("x")'],
    ]);
    await viewMjpeg('127.0.0.33', hp.ports.http, 'admin:admin');
    await hp.stop();
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('prints the report as JSON in exactly the issue shape', async () => {
    const r = await runMamori(['honeypot', 'report', '--json', '--db', t.spec]);
    expect(r.code).toBe(0);
    const body = JSON.parse(r.stdout) as Record<string, Record<string, unknown>>;
    expect(Object.keys(body)).toEqual(['first', 'sources', 'credentials', 'timeline']);
    expect(Object.keys(body.first!)).toEqual(['contact', 'login', 'view', 'operation']);
    expect(Object.keys(body.sources!)).toEqual([
      'total',
      'scanner',
      'grabber',
      'guesser',
      'viewer',
      'operator',
      'exploiter',
    ]);
    const { report } = await honeypotReport(t.store);
    expect(body).toEqual(JSON.parse(JSON.stringify(report)));
    expect(body.sources).toMatchObject({ total: 3, grabber: 1, guesser: 1, viewer: 1 });
  });

  it('prints a human report and CSV that a spreadsheet cannot execute', async () => {
    const text = await runMamori(['honeypot', 'report', '--db', t.spec]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('first contact:');
    expect(text.stdout).toContain('vizxv');
    const csv = await runMamori(['honeypot', 'report', '--csv', 'credentials', '--db', t.spec]);
    expect(csv.code).toBe(0);
    const lines = csv.stdout.trim().split('\r\n');
    expect(lines[0]).toBe('username,password,password_known,attempts,sources,botnet_default');
    expect(csv.stdout).toContain(`admin,"'=HYPERLINK(""x"")",true,1,1,false`);
  });

  it('refuses bad flags with exit 2', async () => {
    const bad = [
      ['honeypot', 'start', '--auth', 'open'],
      ['honeypot', 'start', '--http', '99999'],
      ['honeypot', 'start', '--profile', 'router'],
      ['honeypot', 'report', '--since', 'yesterday'],
      ['honeypot', 'report', '--csv', 'passwords'],
    ];
    for (const args of bad) {
      const r = await runMamori([...args, '--db', t.spec]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/E_USAGE/);
    }
  });

  it('takes settings from the environment when no flag is given', async () => {
    const r = await runMamori(['honeypot', 'start', '--db', t.spec], {
      env: { MAMORI_HONEYPOT__AUTH: 'open-sesame' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--auth: unknown mode 'open-sesame'");
  });

  it('reports an empty store honestly', async () => {
    const empty = await freshStore('sqlite');
    try {
      const r = await runMamori(['honeypot', 'report', '--json', '--db', empty.spec]);
      expect(JSON.parse(r.stdout)).toEqual({
        first: { contact: null, login: null, view: null, operation: null },
        sources: {
          total: 0,
          scanner: 0,
          grabber: 0,
          guesser: 0,
          viewer: 0,
          operator: 0,
          exploiter: 0,
        },
        credentials: [],
        timeline: [],
      });
    } finally {
      await empty.cleanup();
    }
  });
});
