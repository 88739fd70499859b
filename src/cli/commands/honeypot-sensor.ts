/**
 * `mamori honeypot start --report-to …`: the honeypot as a sensor. Events are queued in the
 * sensor's own SQLite file (durable before the attacker is answered) and delivered to a central
 * `mamori serve` by the honeypot area's SensorReporter. Refusals and outages go to stderr; the
 * queue is kept through both.
 */
import { join } from 'node:path';
import type { AuthMode, HoneypotPorts, ReporterStatus } from '../../honeypot/index.js';
import { MamoriError } from '../../shared/errors.js';
import { dataDir } from '../../shared/paths.js';
import type { CommandContext, OptionSpec, ParsedValues } from '../types.js';

export const SENSOR_OPTIONS: Record<string, OptionSpec> = {
  'report-to': {
    type: 'string',
    value: '<url>',
    description: 'run as a sensor: deliver events to this mamori serve (https://…)',
  },
  sensor: { type: 'string', value: '<name>', description: "this sensor's name at the centre" },
  token: {
    type: 'string',
    value: '<file>',
    description: 'file holding the sensor token (mamori sensor add --out)',
  },
  ca: {
    type: 'string',
    value: '<pem>',
    description: "CA or self-signed certificate the centre's certificate must chain to",
  },
  queue: {
    type: 'string',
    value: '<file>',
    description: "the sensor's queue (default $XDG_DATA_HOME/mamori/honeypot/sensor-<name>.db)",
  },
  'insecure-http': {
    type: 'boolean',
    description: 'allow plain http:// to a centre that is not on loopback (not advised)',
  },
};

export async function runSensor(
  ctx: CommandContext,
  flags: ParsedValues,
  hpOpts: {
    bind: string;
    ports: HoneypotPorts;
    auth: AuthMode;
    logPath: string;
    maxSessionsPerSource: number;
  },
): Promise<number> {
  const url = flags['report-to'] as string;
  const sensor = flags.sensor as string | undefined;
  const tokenFile = flags.token as string | undefined;
  if (!sensor || !tokenFile)
    throw new MamoriError('E_USAGE', '--report-to needs --sensor <name> and --token <file>', {
      hint: 'make both at the centre: mamori sensor add <name> --out <file>',
    });
  const h = await import('../../honeypot/index.js');
  const insecure = flags['insecure-http'] === true;
  h.centreUrl(url, insecure);
  const token = h.readSensorToken(tokenFile);
  const ca = flags.ca ? h.readCa(flags.ca as string) : undefined;
  const queuePath =
    (flags.queue as string | undefined) ??
    join(dataDir(ctx.io.env), 'honeypot', `sensor-${sensor}.db`);
  const queue = await h.SensorQueue.open(queuePath, hpOpts.logPath);
  const say = (line: string) => {
    if (!ctx.quiet) ctx.io.stderr(`${line}\n`);
  };
  const onStatus = (s: ReporterStatus) => {
    if (s.state === 'delivering') say(`mamori: sensor ${sensor}: delivering to ${url}`);
    else if (s.state === 'refused')
      say(
        `mamori: sensor ${sensor}: the centre refused this sensor (${s.reason}); events stay queued`,
      );
    else if (s.state === 'rejected')
      say(
        `mamori: sensor ${sensor}: the centre rejected a batch (${s.reason}); events stay queued`,
      );
    else if (s.state === 'unreachable')
      say(`mamori: sensor ${sensor}: the centre is unreachable (${s.reason}); queueing`);
  };
  let reporter: InstanceType<typeof h.SensorReporter>;
  let hp: Awaited<ReturnType<typeof h.startHoneypot>>;
  try {
    reporter = new h.SensorReporter({
      queue,
      url,
      sensor,
      token,
      ca,
      insecure,
      onStatus,
    });
    hp = await h.startHoneypot({
      store: queue.store,
      sink: queue.recorder,
      ...hpOpts,
      profile: 'camera',
    });
  } catch (err) {
    await queue.close();
    throw err;
  }
  reporter.start();
  ctx.print(
    {
      runId: hp.runId,
      bind: hp.bind,
      ports: hp.ports,
      auth: hp.auth,
      log: hpOpts.logPath,
      sensor,
      reportTo: url,
      queue: queuePath,
    },
    () =>
      `mamori: camera honeypot sensor ${sensor} (auth ${hp.auth}) on ${hp.bind}: http ${hp.ports.http}, rtsp ${hp.ports.rtsp}, telnet ${hp.ports.telnet}, onvif ${hp.ports.onvif}; queue ${queuePath}, reporting to ${url}; Ctrl-C to stop`,
  );
  if (!ctx.signal.aborted) {
    await new Promise<void>((resolve) =>
      ctx.signal.addEventListener('abort', () => resolve(), { once: true }),
    );
  }
  await hp.stop();
  // A short chance to hand over what is queued; what is left waits for the next start.
  await reporter.drain(3000);
  await reporter.stop();
  const left = await queue.depth();
  await queue.close();
  say(
    `mamori: sensor ${sensor} stopped; ${reporter.status.delivered} events delivered, ${left} queued for the next start`,
  );
  return 0;
}
