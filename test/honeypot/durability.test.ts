/**
 * Durability: `mamori honeypot start` (the built CLI, a child process) is loaded over HTTP and
 * telnet, killed with SIGKILL mid-load and restarted; every event whose answer reached the
 * attacker before the kill must be in the store. Runs on SQLite and PostgreSQL.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../src/storage/index.js';
import { BIN } from '../helpers/cli.js';
import { freshSpec, testBackends } from '../helpers/db.js';
import { RawClient } from './simulator.js';

interface Started {
  child: ChildProcess;
  ports: { http: number; telnet: number };
}

function startChild(spec: string, dir: string): Promise<Started> {
  const child = spawn(
    process.execPath,
    [
      BIN,
      'honeypot',
      'start',
      '--db',
      spec,
      '--http',
      '0',
      '--rtsp',
      '0',
      '--telnet',
      '0',
      '--onvif',
      '0',
      '--log',
      join(dir, 'events.jsonl'),
      '--max-per-source',
      '200',
      '--json',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, XDG_DATA_HOME: dir } },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`start timed out: ${err}`)), 20_000);
    child.stderr!.on('data', (d) => {
      err += d;
    });
    child.stdout!.on('data', (d) => {
      out += d;
      try {
        const j = JSON.parse(out) as { ports: { http: number; telnet: number } };
        clearTimeout(timer);
        resolve({ child, ports: j.ports });
      } catch {
        // not all of it yet
      }
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
}

function get(agent: Agent, port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

for (const backend of testBackends()) {
  describe(`honeypot durability (${backend})`, () => {
    it('keeps every acknowledged event across SIGKILL and restart', async () => {
      const { spec, cleanup } = await freshSpec(backend);
      const dir = mkdtempSync(join(tmpdir(), 'mamori-hp-kill-'));
      try {
        const first = await startChild(spec, dir);
        const ackedHttp = new Set<number>();
        const ackedTelnet = new Set<string>();
        let stop = false;
        let n = 0;
        const agent = new Agent({ keepAlive: true, maxSockets: 24 });
        const httpLoops = Array.from({ length: 24 }, async () => {
          while (!stop) {
            const id = n++;
            try {
              const status = await get(agent, first.ports.http, `/probe/${id}`);
              if (status === 404) ackedHttp.add(id);
            } catch {
              return; // the honeypot died under us
            }
          }
        });
        const telnetLoops = Array.from({ length: 4 }, async (_, k) => {
          const c = new RawClient('127.0.0.1', first.ports.telnet);
          try {
            await c.ready;
            await c.waitFor(/login: $/);
            c.send('root\r\n');
            await c.waitFor(/Password: $/);
            c.send('xc3511\r\n');
            await c.waitFor(/# $/);
            for (let i = 0; !stop; i++) {
              const tag = `t${k}x${i}`;
              const mark = c.text().length;
              c.send(`echo ${tag}\r\n`);
              // The output line, not the echo of the typed command (which is not an answer).
              await c.waitFor(new RegExp(`\\r\\n${tag}\\r\\n`), 5000, mark);
              ackedTelnet.add(`echo ${tag}`);
            }
          } catch {
            // killed mid-command
          } finally {
            c.socket.destroy();
          }
        });
        // Load until enough has been acknowledged, then kill without warning.
        const deadline = Date.now() + 15_000;
        while ((ackedHttp.size < 400 || ackedTelnet.size < 40) && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 10));
        first.child.kill('SIGKILL');
        stop = true;
        await Promise.all([...httpLoops, ...telnetLoops]);
        agent.destroy();
        expect(ackedHttp.size).toBeGreaterThanOrEqual(400);
        expect(ackedTelnet.size).toBeGreaterThanOrEqual(40);

        // Restart on the same store: it must come up and stop cleanly.
        const second = await startChild(spec, dir);
        const exited = new Promise<number | null>((r) => second.child.on('exit', (c) => r(c)));
        second.child.kill('SIGTERM');
        expect(await exited).toBe(0);

        const store = await openDb(spec);
        try {
          const rows = await store.db
            .selectFrom('honeypot_event')
            .select(['eventid', 'summary'])
            .where('eventid', 'in', ['http.request', 'telnet.command'])
            .execute();
          const paths = new Set<string>();
          const commands = new Set<string>();
          for (const r of rows) {
            const s = JSON.parse(r.summary) as { path?: string; command?: string };
            if (r.eventid === 'http.request' && s.path) paths.add(s.path);
            if (r.eventid === 'telnet.command' && s.command) commands.add(s.command);
          }
          const lostHttp = [...ackedHttp].filter((id) => !paths.has(`/probe/${id}`));
          const lostTelnet = [...ackedTelnet].filter((c) => !commands.has(c));
          expect(lostHttp).toEqual([]);
          expect(lostTelnet).toEqual([]);
          // The JSON-lines log is appended before the answer too.
          const logged = new Set(
            readFileSync(join(dir, 'events.jsonl'), 'utf8')
              .split('\n')
              .filter((l) => l.startsWith('{') && l.endsWith('}'))
              .map((l) => (JSON.parse(l) as { summary: { path?: string } }).summary.path),
          );
          expect([...ackedHttp].filter((id) => !logged.has(`/probe/${id}`))).toEqual([]);
          const runs = await store.db.selectFrom('honeypot_run').selectAll().execute();
          expect(runs.length).toBe(2);
          expect(runs.filter((r) => r.stopped_at === null).length).toBe(1); // the killed one
        } finally {
          await store.close();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
        await cleanup();
      }
    }, 90_000);
  });
}
