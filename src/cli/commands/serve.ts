/** `mamori serve`: the dashboard and JSON API, until SIGINT/SIGTERM. */
import { MamoriError } from '../../shared/errors.js';
import type { AreaSpec } from '../types.js';

export const area: AreaSpec = {
  name: 'serve',
  summary: 'run the dashboard and JSON API (127.0.0.1:8080 by default)',
  verbs: {},
  defaultVerb: {
    summary: 'serve the dashboard and the /api/v1 JSON API; stops cleanly on SIGINT/SIGTERM',
    usage:
      'mamori serve [--host 127.0.0.1] [--port 8080] [--tls-cert <pem> --tls-key <pem>] [--public-url <url>] [--insecure-http]',
    description:
      'Every page and API route but /healthz needs a session (sign in) or a bearer token (mamori token create).\nOn a store without users, serve creates the user admin and prints a one-time password on stderr.\nA non-loopback address needs TLS (or --insecure-http behind a TLS proxy); the service answers only to\nthe bound address and the --public-url host (DNS rebinding gets 421).',
    examples: [
      'mamori serve',
      'mamori serve --port 0 --json   # print the chosen port as JSON',
      'mamori serve --host 0.0.0.0 --port 8443 --tls-cert cert.pem --tls-key key.pem --public-url https://mamori.example:8443',
    ],
    options: {
      host: { type: 'string', value: '<addr>', description: 'address to bind (default 127.0.0.1)' },
      port: {
        type: 'string',
        value: '<n>',
        description: 'TCP port, 0 for any free one (default 8080)',
      },
      'tls-cert': {
        type: 'string',
        value: '<pem>',
        description: 'serve HTTPS with this certificate',
      },
      'tls-key': { type: 'string', value: '<pem>', description: 'the private key of --tls-cert' },
      'public-url': {
        type: 'string',
        value: '<url>',
        description: 'the URL people open; its host joins the Host allow-list',
      },
      'insecure-http': {
        type: 'boolean',
        description: 'allow plain HTTP on a non-loopback address (only behind a TLS proxy)',
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
      const cert = values['tls-cert'] as string | undefined;
      const key = values['tls-key'] as string | undefined;
      if (Boolean(cert) !== Boolean(key))
        throw new MamoriError('E_USAGE', '--tls-cert and --tls-key go together');
      const publicUrl =
        (values['public-url'] as string | undefined) ?? ctx.config.getString('serve.public_url');
      const store = await ctx.store();
      const { startServer } = await import('../../web/index.js');
      const server = await startServer({
        store,
        host,
        port: Number(portText),
        version: ctx.version,
        ...(cert && key ? { tls: { certFile: cert, keyFile: key } } : {}),
        ...(publicUrl ? { publicUrl } : {}),
        insecureHttp: values['insecure-http'] === true,
      });
      const { ensureFirstAdmin } = await import('../../access/index.js');
      const first = await ensureFirstAdmin(store);
      if (first)
        ctx.io.stderr(
          `mamori: no console user existed, so one was made: user '${first.name}', one-time password ${first.password}\n` +
            'mamori: sign in and choose your own password (required); add people with mamori user add <name> --role <role>\n',
        );
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
