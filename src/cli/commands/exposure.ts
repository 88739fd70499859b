/** `mamori exposure …` verbs. Owned by the exposure area. */
import type { AreaSpec } from '../types.js';
import { notYet } from './_stub.js';

export const area: AreaSpec = {
  name: 'exposure',
  summary: 'scan and index your own address ranges: banners, fingerprints, default passwords',
  verbs: {
    scope: notYet('scope add|list|remove', 'mamori exposure scope add <cidr> --owner <text>'),
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
