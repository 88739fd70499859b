/** The honeypot area's dashboard page and JSON API. Owned by the honeypot area. */

import type { AreaWeb } from '../types.js';
import { emptyState } from '../ui/layout.js';

export const honeypotWeb: AreaWeb = {
  name: 'honeypot',
  title: 'Honeypot',
  summary: 'Who finds an exposed camera, how fast, and what they do.',
  page: () => emptyState('The honeypot has recorded no events yet.', 'mamori honeypot start'),
};
