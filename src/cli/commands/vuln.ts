/** `mamori vuln …` verbs. Owned by the vuln area. */
import type { AreaSpec } from '../types.js';
import { notYet } from './_stub.js';

export const area: AreaSpec = {
  name: 'vuln',
  summary: 'vulnerability database (JVN iPedia, NVD, OSV), IPA-style stats, inventory checks',
  verbs: {
    sync: notYet(
      'download or import advisories',
      'mamori vuln sync [--source jvn|nvd|osv|all] [--from <file|dir|zip|gz|url>] [--since <date>]',
    ),
    show: notYet('show one vulnerability by any alias', 'mamori vuln show <ID>'),
    stats: notYet('IPA-style statistics', 'mamori vuln stats --by year|quarter|cwe'),
    check: notYet(
      'match an inventory against the store',
      'mamori vuln check <inventory...> [--fail-on <sev>]',
    ),
  },
};
