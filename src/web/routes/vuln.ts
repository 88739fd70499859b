/** The vuln area's dashboard page and JSON API. Owned by the vuln area. */

import type { AreaWeb } from '../types.js';
import { emptyState } from '../ui/layout.js';

export const vulnWeb: AreaWeb = {
  name: 'vuln',
  title: 'Vulnerabilities',
  summary: 'Local vulnerability database (JVN iPedia, NVD, OSV) and inventory checks.',
  page: () =>
    emptyState('No vulnerability data yet.', 'mamori vuln sync --source osv --from <dir>'),
};
