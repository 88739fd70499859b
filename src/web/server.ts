/**
 * The listener for createApp(): binds 127.0.0.1 by default, over TLS when given a certificate,
 * answers only to its own host names (the allow-list), and closes gracefully (stops accepting,
 * lets in-flight requests finish within a deadline, then ends idle sockets).
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { MamoriError } from '../shared/errors.js';
import type { Store } from '../storage/index.js';
import { createApp } from './app.js';
import type { AccessConfig } from './guard.js';

export interface RunningServer {
  url: string;
  host: string;
  port: number;
  /** The Host values this server answers to. */
  allowedHosts: string[];
  close(): Promise<void>;
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/i;

/** Whether binding this address keeps the service on this machine. */
export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}

export async function startServer(opts: {
  store: Store;
  host: string;
  port: number;
  version: string;
  shutdownGraceMs?: number;
  tls?: { certFile: string; keyFile: string };
  /** The URL people open, e.g. https://mamori.example:8443; its host is allowed. */
  publicUrl?: string;
  /** Allow plain HTTP on a non-loopback address (not advised). */
  insecureHttp?: boolean;
}): Promise<RunningServer> {
  if (!isLoopback(opts.host) && !opts.tls && !opts.insecureHttp) {
    throw new MamoriError(
      'E_USAGE',
      `refusing to serve plain HTTP on ${opts.host}: passwords and session cookies would cross the network in clear`,
      { hint: 'give --tls-cert and --tls-key, or --insecure-http if a TLS proxy is in front' },
    );
  }
  const wildcard = opts.host === '0.0.0.0' || opts.host === '::';
  if (wildcard && !opts.publicUrl) {
    throw new MamoriError(
      'E_USAGE',
      `--host ${opts.host} needs --public-url: the host name people use`,
      {
        hint: 'e.g. --public-url https://mamori.example:8443',
      },
    );
  }
  let publicUrl: URL | undefined;
  if (opts.publicUrl) {
    try {
      publicUrl = new URL(opts.publicUrl);
    } catch {
      throw new MamoriError('E_USAGE', `--public-url: not a URL: '${opts.publicUrl}'`);
    }
    if (publicUrl.protocol !== 'http:' && publicUrl.protocol !== 'https:')
      throw new MamoriError('E_USAGE', '--public-url must be an http(s) URL');
  }
  let tlsOptions: { cert: Buffer; key: Buffer } | undefined;
  if (opts.tls) {
    try {
      tlsOptions = { cert: readFileSync(opts.tls.certFile), key: readFileSync(opts.tls.keyFile) };
    } catch (err) {
      throw new MamoriError(
        'E_USAGE',
        `cannot read the TLS certificate or key: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
  const scheme = tlsOptions ? 'https' : 'http';
  // Filled in once the port is known (port 0 picks one).
  const access: AccessConfig = {
    allowedHosts: [],
    allowedOrigins: [],
    secureCookies: Boolean(tlsOptions),
  };
  const app = createApp({ store: opts.store, version: opts.version, access });
  let server: ReturnType<typeof serve>;
  try {
    server = tlsOptions
      ? serve({
          fetch: app.fetch,
          hostname: opts.host,
          port: opts.port,
          createServer: createHttpsServer,
          serverOptions: tlsOptions,
        })
      : serve({ fetch: app.fetch, hostname: opts.host, port: opts.port });
  } catch (err) {
    throw new MamoriError('E_USAGE', `cannot start the server: ${(err as Error).message}`, {
      cause: err,
    });
  }
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
  const defaultPort = scheme === 'https' ? 443 : 80;
  const withPort = (h: string) => (addr.port === defaultPort ? h : `${h}:${addr.port}`);
  const hosts = new Set<string>();
  if (!wildcard) hosts.add(withPort(hostForUrl));
  if (isLoopback(addr.address)) hosts.add(withPort('localhost'));
  if (publicUrl) hosts.add(publicUrl.host);
  access.allowedHosts.push(...hosts);
  access.allowedOrigins.push(...[...hosts].map((h) => `${scheme}://${h}`));
  if (publicUrl) access.allowedOrigins.push(publicUrl.origin);
  const url = publicUrl ? publicUrl.toString() : `${scheme}://${withPort(hostForUrl)}/`;
  return {
    url,
    host: addr.address,
    port: addr.port,
    allowedHosts: access.allowedHosts,
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
