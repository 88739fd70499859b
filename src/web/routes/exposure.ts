/** The exposure area's dashboard page and JSON API. Owned by the exposure area. */

import type { AreaWeb } from '../types.js';
import { emptyState } from '../ui/layout.js';

export const exposureWeb: AreaWeb = {
  name: 'exposure',
  title: 'Exposure',
  summary: 'Your own address ranges as Shodan and Censys would see them.',
  page: () =>
    emptyState('No scope and no scans yet.', 'mamori exposure scope add <cidr> --owner <you>'),
};
