/** `mamori exposure …` verbs. Owned by the exposure area. They parse, call the area, and print. */
import { MamoriError } from '../../shared/errors.js';
import { formatTable } from '../../shared/text.js';
import type { AreaSpec, VerbSpec } from '../types.js';
import { notYet } from './_stub.js';

const scope: VerbSpec = {
  summary: 'declare the ranges you own: scope add|list|remove',
  usage:
    'mamori exposure scope add <cidr> --owner <text> [--allow-credentials] | scope list | scope remove <cidr>',
  examples: [
    'mamori exposure scope add 192.0.2.0/24 --owner "home lab" --allow-credentials',
    'mamori exposure scope list --json',
    'mamori exposure scope remove 192.0.2.0/24',
  ],
  description:
    'Every scan and audit target must lie inside a declared range; anything else is refused\n(E_SCOPE, exit 4) before a packet is sent. Multicast and broadcast are never in scope.',
  options: {
    owner: { type: 'string', value: '<text>', description: 'who owns or authorised the range' },
    'allow-credentials': {
      type: 'boolean',
      description: 'allow audit-credentials to try factory-default passwords here',
    },
  },
  positionals: { min: 1, max: 2, name: 'add|list|remove [<cidr>]' },
  async run(ctx, { values, positionals }) {
    const [sub, cidr] = positionals;
    const ex = await import('../../exposure/index.js');
    const store = await ctx.store();
    if (sub === 'add') {
      if (!cidr) throw new MamoriError('E_USAGE', 'scope add needs a <cidr>');
      if (typeof values.owner !== 'string') {
        throw new MamoriError('E_USAGE', 'scope add needs --owner <text>', {
          hint: 'mamori exposure scope add 192.0.2.0/24 --owner "ops team"',
        });
      }
      const row = await ex.addScope(store, {
        cidr,
        owner: values.owner,
        allowCredentials: values['allow-credentials'] === true,
      });
      ctx.print(
        row,
        () =>
          `in scope: ${row.cidr} (owner ${row.owner}${row.allowCredentials ? ', credential audit allowed' : ''})`,
      );
      return 0;
    }
    if (sub === 'list') {
      const rows = await ex.listScope(store);
      ctx.print(rows, () =>
        rows.length === 0
          ? 'no scope declared; mamori exposure scope add <cidr> --owner <you>'
          : formatTable(
              ['cidr', 'owner', 'credentials', 'added'],
              rows.map((r) => [r.cidr, r.owner, r.allowCredentials ? 'yes' : 'no', r.createdAt]),
            ),
      );
      return 0;
    }
    if (sub === 'remove') {
      if (!cidr) throw new MamoriError('E_USAGE', 'scope remove needs a <cidr>');
      await ex.removeScope(store, cidr);
      ctx.print({ removed: cidr }, () => `removed ${cidr} from the scope`);
      return 0;
    }
    throw new MamoriError('E_USAGE', `unknown scope sub-command '${sub}'`, {
      hint: 'use scope add|list|remove',
    });
  },
};

export const area: AreaSpec = {
  name: 'exposure',
  summary: 'scan and index your own address ranges: banners, fingerprints, default passwords',
  verbs: {
    scope,
    scan: notYet('scan targets in scope', 'mamori exposure scan <targets…>'),
    'audit-credentials': notYet(
      'default-credential audit',
      'mamori exposure audit-credentials [<targets>]',
    ),
    search: notYet('search stored banners', "mamori exposure search '<query>'"),
    diff: notYet('services that appeared or disappeared', 'mamori exposure diff [--since <scan>]'),
    import: notYet('import nmap XML or masscan JSON', 'mamori exposure import <file>'),
    export: notYet('export results', 'mamori exposure export --format json|csv|nmap-xml'),
  },
};
