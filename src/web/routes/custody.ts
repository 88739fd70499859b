/** The custody area's dashboard page and JSON API. Owned by the custody area. */

import type { AreaWeb } from '../types.js';
import { emptyState } from '../ui/layout.js';

export const custodyWeb: AreaWeb = {
  name: 'custody',
  title: 'Custody',
  summary: 'Multisig wallets in hot/warm/cold tiers, withdrawal policy and the watcher.',
  page: () => emptyState('No wallets yet.', 'mamori custody key new'),
};
