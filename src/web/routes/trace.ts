/** The trace area's dashboard page and JSON API. Owned by the trace area. */

import type { AreaWeb } from '../types.js';
import { emptyState } from '../ui/layout.js';

export const traceWeb: AreaWeb = {
  name: 'trace',
  title: 'Tracing',
  summary: 'Taint tracing of stolen funds and deposit screening.',
  page: () => emptyState('No chain data has been traced yet.', 'mamori trace ingest <blk*.dat>'),
};
