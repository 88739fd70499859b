/** `mamori honeypot start|report`: the camera honeypot and its measurement report. */
import { join } from 'node:path';
import { MamoriError } from '../../shared/errors.js';
import { dataDir } from '../../shared/paths.js';
import { formatTable } from '../../shared/text.js';
import type { AreaSpec } from '../types.js';
import { runSensor, SENSOR_OPTIONS } from './honeypot-sensor.js';

function port(name: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  const s = String(v);
  if (!/^\d{1,5}$/.test(s) || Number(s) > 65535)
    throw new MamoriError('E_USAGE', `--${name}: not a TCP port: '${s}'`, { hint: 'use 0–65535' });
  return Number(s);
}

function positiveInt(name: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  const s = String(v);
  if (!/^\d{1,7}$/.test(s) || Number(s) < 1)
    throw new MamoriError('E_USAGE', `--${name}: not a positive whole number: '${s}'`);
  return Number(s);
}

export const area: AreaSpec = {
  name: 'honeypot',
  summary: 'a camera honeypot that measures who comes and what they do',
  description:
    'One process emulates a network camera (HTTP web UI with MJPEG live view, RTSP, telnet,\nONVIF). Every event is recorded durably in the store and a JSON-lines log. It never makes an\noutbound connection. See docs/honeypot.md for exposing it on ports 80/554/23 with nftables.',
  verbs: {
    start: {
      summary: 'run the camera honeypot until SIGINT/SIGTERM',
      usage:
        'mamori honeypot start [--profile camera] [--bind 127.0.0.1] [--http 8080] [--rtsp 8554] [--telnet 2323] [--onvif 8000] [--auth none|weak|flawed|strong] [--report-to <url> --sensor <name> --token <file> [--ca <pem>]]',
      examples: [
        'mamori honeypot start --auth weak',
        'mamori honeypot start --bind 0.0.0.0 --auth flawed --log /var/log/mamori/honeypot.jsonl',
        'mamori honeypot start --http 0 --rtsp 0 --telnet 0 --onvif 0 --json   # any free ports',
        'mamori honeypot start --report-to https://centre:8443 --sensor tokyo-1 --token tokyo-1.token --ca centre.pem',
      ],
      options: {
        profile: {
          type: 'string',
          value: 'camera',
          description: 'what to emulate',
          default: 'camera',
        },
        bind: {
          type: 'string',
          value: '<addr>',
          description: 'address to listen on (default 127.0.0.1; config honeypot.bind)',
        },
        http: {
          type: 'string',
          value: '<port>',
          description: 'web UI port (default 8080; config honeypot.http)',
        },
        rtsp: {
          type: 'string',
          value: '<port>',
          description: 'RTSP port (default 8554; config honeypot.rtsp)',
        },
        telnet: {
          type: 'string',
          value: '<port>',
          description: 'telnet port (default 2323; config honeypot.telnet)',
        },
        onvif: {
          type: 'string',
          value: '<port>',
          description: 'ONVIF port (default 8000; config honeypot.onvif)',
        },
        auth: {
          type: 'string',
          value: 'none|weak|flawed|strong',
          description:
            'none: no password; weak (default): admin/admin, telnet root/xc3511; flawed: strong password but unauthenticated snapshot/config paths; strong: a random password (config honeypot.auth)',
        },
        log: {
          type: 'string',
          value: '<file>',
          description: 'JSON-lines event log (default $XDG_DATA_HOME/mamori/honeypot/events.jsonl)',
        },
        'max-per-source': {
          type: 'string',
          value: '<n>',
          description: 'concurrent sessions allowed per source address (default 32)',
        },
        ...SENSOR_OPTIONS,
      },
      async run(ctx, { values: flags }) {
        // flag, then MAMORI_HONEYPOT__<KEY> or [honeypot] in the config file, then the default
        const setting = (flag: string, key: string, dflt: string) =>
          (flags[flag] as string | undefined) ?? ctx.config.getString(`honeypot.${key}`) ?? dflt;
        const values = {
          profile: flags.profile,
          bind: setting('bind', 'bind', '127.0.0.1'),
          http: setting('http', 'http', '8080'),
          rtsp: setting('rtsp', 'rtsp', '8554'),
          telnet: setting('telnet', 'telnet', '2323'),
          onvif: setting('onvif', 'onvif', '8000'),
          auth: setting('auth', 'auth', 'weak'),
          log: (flags.log as string | undefined) ?? ctx.config.getString('honeypot.log'),
          'max-per-source': setting('max-per-source', 'max_per_source', '32'),
        };
        if (values.profile !== 'camera')
          throw new MamoriError(
            'E_USAGE',
            `--profile: unknown profile '${String(values.profile)}'`,
            {
              hint: 'the only profile is camera',
            },
          );
        const { AUTH_MODES, startHoneypot } = await import('../../honeypot/index.js');
        const auth = String(values.auth);
        if (!(AUTH_MODES as readonly string[]).includes(auth))
          throw new MamoriError('E_USAGE', `--auth: unknown mode '${auth}'`, {
            hint: `use one of ${AUTH_MODES.join(', ')}`,
          });
        const ports = {
          http: port('http', values.http, 8080),
          rtsp: port('rtsp', values.rtsp, 8554),
          telnet: port('telnet', values.telnet, 2323),
          onvif: port('onvif', values.onvif, 8000),
        };
        const logPath =
          (values.log as string | undefined) ??
          join(dataDir(ctx.io.env), 'honeypot', 'events.jsonl');
        if (flags['report-to'] !== undefined)
          return runSensor(ctx, flags, {
            bind: String(values.bind),
            ports,
            auth: auth as (typeof AUTH_MODES)[number],
            logPath,
            maxSessionsPerSource: positiveInt('max-per-source', values['max-per-source'], 32),
          });
        const store = await ctx.store();
        const { createAlertSink } = await import('../../alerts/index.js');
        // Alerts go to the store and, as JSON lines, to stderr: stdout carries only the result.
        const alerts = createAlertSink({
          store,
          ...(ctx.quiet ? {} : { write: (line: string) => ctx.io.stderr(line) }),
        });
        const hp = await startHoneypot({
          alerts,
          store,
          bind: String(values.bind),
          ports,
          auth: auth as (typeof AUTH_MODES)[number],
          logPath,
          maxSessionsPerSource: positiveInt('max-per-source', values['max-per-source'], 32),
          profile: 'camera',
        });
        ctx.print(
          {
            runId: hp.runId,
            bind: hp.bind,
            ports: hp.ports,
            auth: hp.auth,
            log: logPath,
            backend: store.backend,
          },
          () =>
            `mamori: camera honeypot (auth ${hp.auth}) on ${hp.bind}: http ${hp.ports.http}, rtsp ${hp.ports.rtsp}, telnet ${hp.ports.telnet}, onvif ${hp.ports.onvif}; events to ${store.backend} ${store.display} and ${logPath}; Ctrl-C to stop`,
        );
        if (!ctx.signal.aborted) {
          await new Promise<void>((resolve) =>
            ctx.signal.addEventListener('abort', () => resolve(), { once: true }),
          );
        }
        await hp.stop();
        if (!ctx.json && !ctx.quiet)
          ctx.io.stderr(
            `mamori: honeypot stopped; ${hp.recorder?.stats.committed ?? 0} events recorded\n`,
          );
        return 0;
      },
    },
    report: {
      summary: 'who came, how fast, what they did',
      usage:
        'mamori honeypot report [--since <date|7d>] [--top <n>] [--csv timeline|credentials|sources|commands] [--json]',
      examples: [
        'mamori honeypot report',
        'mamori honeypot report --since 7d --json',
        'mamori honeypot report --csv credentials > credentials.csv',
      ],
      options: {
        since: {
          type: 'string',
          value: '<date|span>',
          description: 'only events since (2026-11-01, 7d, 12h)',
        },
        top: {
          type: 'string',
          value: '<n>',
          description: 'credentials and commands listed',
          default: '20',
        },
        csv: {
          type: 'string',
          value: '<table>',
          description: 'print one table as CSV: timeline, credentials, sources or commands',
        },
        sensor: {
          type: 'string',
          value: '<name>',
          description:
            "only the events this sensor delivered (default: this machine's and every sensor's)",
        },
      },
      async run(ctx, { values }) {
        const { CSV_TABLES, honeypotReport, reportCsv } = await import('../../honeypot/index.js');
        const csv = values.csv as string | undefined;
        if (csv !== undefined && !(CSV_TABLES as readonly string[]).includes(csv))
          throw new MamoriError('E_USAGE', `--csv: unknown table '${csv}'`, {
            hint: `use one of ${CSV_TABLES.join(', ')}`,
          });
        const { report, extras } = await honeypotReport(await ctx.store(), {
          since: values.since as string | undefined,
          topN: positiveInt('top', values.top, 20),
          sensor: values.sensor as string | undefined,
        });
        if (csv !== undefined) {
          ctx.io.stdout(reportCsv(report, extras, csv as (typeof CSV_TABLES)[number]));
          return 0;
        }
        ctx.print(report, () => {
          const f = (x: { at: string; source: string; afterSeconds: number } | null) =>
            x ? `${x.at}  (+${formatDuration(x.afterSeconds)}, from ${x.source})` : '—';
          const s = report.sources;
          return [
            `events: ${extras.events}${extras.since ? ` since ${extras.since}` : ''}; reference start ${extras.startedAt ?? '—'}`,
            '',
            `first contact:    ${f(report.first.contact)}`,
            `first login:      ${f(report.first.login)}`,
            `first view:       ${f(report.first.view)}`,
            `first operation:  ${f(report.first.operation)}`,
            '',
            `sources: ${s.total}  (each counted once, in the furthest class it reached)`,
            formatTable(
              ['scanner', 'grabber', 'guesser', 'viewer', 'operator', 'exploiter'],
              [[s.scanner, s.grabber, s.guesser, s.viewer, s.operator, s.exploiter]],
            ),
            `viewed (viewer or beyond): ${s.viewer + s.operator + s.exploiter}; operated: ${s.operator}`,
            ...(extras.unattributed
              ? [
                  `connections whose source could not be read (not counted as sources): ${extras.unattributed}`,
                ]
              : []),
            '',
            `login attempts: ${extras.loginAttempts}; known botnet (Mirai) defaults: ${(extras.botnetShare * 100).toFixed(1)}%`,
            report.credentials.length
              ? formatTable(
                  ['username', 'password', 'attempts', 'sources', 'botnet default'],
                  report.credentials.map((c) => [
                    c.username,
                    c.password ?? '(unknown: digest)',
                    c.attempts,
                    c.sources,
                    c.botnetDefault ? 'yes' : '',
                  ]),
                )
              : '(no credentials tried)',
            '',
            extras.commands.length
              ? formatTable(
                  ['command', 'count'],
                  extras.commands.map((c) => [c.command, c.count]),
                )
              : '(no shell commands)',
            '',
            report.timeline.length
              ? formatTable(
                  ['day', 'events', 'sources', 'logins', 'views', 'operations', 'downloads'],
                  report.timeline.map((t) => [
                    t.day,
                    t.events,
                    t.sources,
                    t.logins,
                    t.views,
                    t.operations,
                    t.downloads,
                  ]),
                )
              : '(no events)',
          ].join('\n');
        });
        return 0;
      },
    },
  },
};

function formatDuration(seconds: number): string {
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172800) return `${(seconds / 3600).toFixed(1)}h`;
  return `${(seconds / 86400).toFixed(1)}d`;
}
