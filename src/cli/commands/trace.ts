/** `mamori trace …` verbs. Owned by the trace area. */
import type { AreaSpec } from '../types.js';
import { notYet } from './_stub.js';

export const area: AreaSpec = {
  name: 'trace',
  summary: 'taint tracing of stolen funds and deposit screening',
  verbs: {
    ingest: notYet('read blocks into the trace graph', 'mamori trace ingest <blk*.dat>'),
    taint: notYet(
      'propagate taint from tagged outputs',
      'mamori trace taint --model poison|haircut',
    ),
    screen: notYet('screen a deposit against tainted funds', 'mamori trace screen <txid>'),
  },
};
