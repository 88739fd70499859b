/**
 * `mamori sensor add|list|revoke`: honeypot sensors allowed to deliver events to this store's
 * `mamori serve`. A sensor's token is written once to a file (0600); the store keeps its hash.
 */
import { writeFileSync } from 'node:fs';
import { MamoriError } from '../../shared/errors.js';
import type { AreaSpec } from '../types.js';
import { auditCli as audit } from './user.js';

const honeypot = () => import('../../honeypot/index.js');

export const area: AreaSpec = {
  name: 'sensor',
  summary: 'honeypot sensors that report to this store: add, list, revoke',
  verbs: {
    add: {
      summary: 'register a sensor and write its token to a file (shown nowhere else)',
      usage: 'mamori sensor add <name> --out <token file> [--json]',
      examples: [
        'mamori sensor add tokyo-1 --out tokyo-1.token',
        'mamori honeypot start --report-to https://centre:8443 --sensor tokyo-1 --token tokyo-1.token --ca centre.pem',
      ],
      positionals: { min: 1, max: 1, name: 'name' },
      options: {
        out: {
          type: 'string',
          value: '<file>',
          description: 'where to write the token (created 0600; must not exist)',
        },
      },
      async run(ctx, { values, positionals }) {
        const out = values.out as string | undefined;
        if (!out)
          throw new MamoriError('E_USAGE', 'sensor add needs --out <file> for the token', {
            hint: 'the token is written there once; copy it to the sensor',
          });
        const h = await honeypot();
        const store = await ctx.store();
        const { name, token } = await h.addSensor(store, positionals[0]!);
        try {
          writeFileSync(out, `${token}\n`, { mode: 0o600, flag: 'wx' });
        } catch (err) {
          await h.revokeSensor(store, name);
          throw new MamoriError(
            'E_USAGE',
            `cannot write the token to ${out}: ${(err as Error).message}; sensor '${name}' was revoked`,
            { cause: err, hint: 'choose a new file and a new sensor name' },
          );
        }
        await audit(ctx, 'sensor add', name);
        ctx.print(
          { name, tokenFile: out },
          () => `sensor ${name} added; its token is in ${out} (only its hash is stored)`,
        );
        return 0;
      },
    },
    list: {
      summary: 'sensors with their last delivery, reported queue depth and event count',
      usage: 'mamori sensor list [--json]',
      async run(ctx) {
        const sensors = await (await honeypot()).listSensors(await ctx.store());
        const { formatTable } = await import('../../shared/text.js');
        ctx.print(sensors, () =>
          sensors.length
            ? formatTable(
                ['sensor', 'state', 'last seen', 'queue depth', 'events', 'batches'],
                sensors.map((s) => [
                  s.name,
                  s.revokedAt ? `revoked ${s.revokedAt}` : 'active',
                  s.lastSeen ?? 'never',
                  s.queueDepth ?? '—',
                  s.events,
                  s.batches,
                ]),
              )
            : 'no sensors (mamori sensor add <name> --out <file>)',
        );
        return 0;
      },
    },
    revoke: {
      summary: 'revoke a sensor: its token is refused (403); events it delivered stay',
      usage: 'mamori sensor revoke <name>',
      positionals: { min: 1, max: 1, name: 'name' },
      async run(ctx, { positionals }) {
        const name = positionals[0]!;
        await (await honeypot()).revokeSensor(await ctx.store(), name);
        await audit(ctx, 'sensor revoke', name);
        ctx.print({ name, revoked: true }, () => `revoked sensor ${name}`);
        return 0;
      },
    },
  },
};
