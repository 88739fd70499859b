/** `mamori db migrate|status`: the store's schema and contents. */
import { formatTable } from '../../shared/text.js';
import type { AreaSpec } from '../types.js';

export const area: AreaSpec = {
  name: 'db',
  summary: 'the store: migrate, status',
  description:
    'The store is an embedded SQLite file ($XDG_DATA_HOME/mamori/mamori.db) unless --db or\nMAMORI_DB names another file or a postgres:// URL.',
  verbs: {
    migrate: {
      summary: 'apply pending schema migrations (in one transaction)',
      usage: 'mamori db migrate [--db <path|url>] [--json]',
      examples: ['mamori db migrate --db postgres://mamori@127.0.0.1/mamori'],
      async run(ctx) {
        const { openDb, migrate, storeStatus } = await import('../../storage/index.js');
        const store = await openDb(ctx.dbSpec(), { migrate: false });
        try {
          const applied = await migrate(store);
          const status = await storeStatus(store);
          ctx.print(
            { applied, schemaVersion: status.schemaVersion, backend: status.backend },
            () =>
              applied.length
                ? `applied ${applied.length} migration(s); schema version ${status.schemaVersion}`
                : `up to date; schema version ${status.schemaVersion}`,
          );
        } finally {
          await store.close();
        }
        return 0;
      },
    },
    status: {
      summary: 'backend, schema version, and row counts per table',
      usage: 'mamori db status [--db <path|url>] [--json]',
      examples: ['mamori db status --json'],
      async run(ctx) {
        const { storeStatus } = await import('../../storage/index.js');
        const status = await storeStatus(await ctx.store());
        ctx.print(status, () =>
          [
            `backend:        ${status.backend}`,
            `location:       ${status.location}`,
            `schema version: ${status.schemaVersion} (latest ${status.latestVersion})`,
            '',
            formatTable(
              ['table', 'rows'],
              status.tables.map((t) => [t.name, t.rows]),
            ),
          ].join('\n'),
        );
        return 0;
      },
    },
  },
};
