/** `mamori serve`: the dashboard and JSON API, until SIGINT/SIGTERM. */
import { MamoriError } from '../../shared/errors.js';
import type { AreaSpec } from '../types.js';

export const area: AreaSpec = {
  name: 'serve',
  summary: 'run the dashboard and JSON API (127.0.0.1:8080 by default)',
  verbs: {},
  defaultVerb: {
    summary: 'serve the dashboard and the /api/v1 JSON API; stops cleanly on SIGINT/SIGTERM',
    usage: 'mamori serve [--host 127.0.0.1] [--port 8080]',
    examples: ['mamori serve', 'mamori serve --port 0 --json   # print the chosen port as JSON'],
    options: {
      host: { type: 'string', value: '<addr>', description: 'address to bind (default 127.0.0.1)' },
      port: {
        type: 'string',
        value: '<n>',
        description: 'TCP port, 0 for any free one (default 8080)',
      },
    },
    async run(ctx, { values }) {
      const host =
        (values.host as string | undefined) ?? ctx.config.getString('serve.host') ?? '127.0.0.1';
      const portText =
        (values.port as string | undefined) ?? ctx.config.getString('serve.port') ?? '8080';
      if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
        throw new MamoriError('E_USAGE', `--port: not a TCP port: '${portText}'`, {
          hint: 'use 0–65535',
        });
      }
      const store = await ctx.store();
      const { startServer } = await import('../../web/index.js');
      const server = await startServer({
        store,
        host,
        port: Number(portText),
        version: ctx.version,
      });
      ctx.print(
        { url: server.url, host: server.host, port: server.port, backend: store.backend },
        () =>
          `mamori: serving ${server.url} (store: ${store.backend} ${store.display}); Ctrl-C to stop`,
      );
      if (!ctx.signal.aborted) {
        await new Promise<void>((resolve) =>
          ctx.signal.addEventListener('abort', () => resolve(), { once: true }),
        );
      }
      await server.close();
      if (!ctx.json && !ctx.quiet) ctx.io.stderr('mamori: stopped\n');
      return 0;
    },
  },
};
