/**
 * The listener for createApp(): binds 127.0.0.1 by default and closes gracefully (stops
 * accepting, lets in-flight requests finish within a deadline, then ends idle sockets).
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { MamoriError } from '../shared/errors.js';
import type { Store } from '../storage/index.js';
import { createApp } from './app.js';

export interface RunningServer {
  url: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

export async function startServer(opts: {
  store: Store;
  host: string;
  port: number;
  version: string;
  shutdownGraceMs?: number;
}): Promise<RunningServer> {
  const app = createApp({ store: opts.store, version: opts.version });
  const server = serve({ fetch: app.fetch, hostname: opts.host, port: opts.port });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve());
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why =
        err.code === 'EADDRINUSE'
          ? 'the port is in use'
          : err.code === 'EACCES'
            ? 'permission denied'
            : err.message;
      reject(
        new MamoriError('E_USAGE', `cannot listen on ${opts.host}:${opts.port}: ${why}`, {
          cause: err,
        }),
      );
    });
  });
  const addr = server.address() as AddressInfo;
  const hostForUrl = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${hostForUrl}:${addr.port}/`,
    host: addr.address,
    port: addr.port,
    close: () =>
      new Promise<void>((resolve) => {
        const srv = server as unknown as {
          closeIdleConnections?: () => void;
          closeAllConnections?: () => void;
        };
        const deadline = setTimeout(
          () => srv.closeAllConnections?.(),
          opts.shutdownGraceMs ?? 5000,
        );
        server.close(() => {
          clearTimeout(deadline);
          resolve();
        });
        srv.closeIdleConnections?.();
      }),
  };
}
