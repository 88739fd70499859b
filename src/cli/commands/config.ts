/** `mamori config show`: the effective configuration and where each value came from. */

import { formatTable } from '../../shared/text.js';
import { redactUrl } from '../../storage/db.js';
import type { AreaSpec } from '../types.js';

export const area: AreaSpec = {
  name: 'config',
  summary: 'show the effective configuration and where each value came from',
  verbs: {
    show: {
      summary: 'print every effective value and its source (default, file, env, flag)',
      usage: 'mamori config show [--config <file>] [--json]',
      async run(ctx) {
        const rows = [...ctx.config.values.entries()]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([key, v]) => ({
            key,
            value: typeof v.value === 'string' ? redactUrl(v.value) : v.value,
            source: v.source,
          }));
        ctx.print({ file: ctx.config.file ?? null, values: rows }, () =>
          [
            `config file: ${ctx.config.file ?? '(none)'}`,
            '',
            formatTable(
              ['key', 'value', 'source'],
              rows.map((r) => [r.key, JSON.stringify(r.value), r.source]),
            ),
          ].join('\n'),
        );
        return 0;
      },
    },
  },
};
