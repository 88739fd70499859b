/**
 * Fetching feeds and pages, politely and defensively: conditional GET (ETag/Last-Modified),
 * one request at a time per host with a pause between them, a timeout per request, a cap on
 * redirects (and loop detection), and a cap on body size enforced while streaming. Every
 * connection, on every redirect hop, goes only to addresses the source may reach (the SSRF
 * guard: core/addresses.ts decides, the socket's own DNS lookup applies it, so a name that
 * rebinds between a check and the connect cannot win). `file:` URLs and plain paths are read
 * from disk so everything works offline.
 * Not the parsing (core/feed.ts) nor the storing (store.ts).
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { open, stat } from 'node:fs/promises';
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { Transform } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { MamoriError } from '../shared/errors.js';
import { type AllowPrivate, addressVerdict } from './core/addresses.js';

export interface FetchLimits {
  /** Per-request timeout in ms (connect + whole body). */
  timeoutMs: number;
  /** Largest body accepted, in bytes. */
  maxBytes: number;
  maxRedirects: number;
  /** Minimum ms between two requests to the same host. */
  hostDelayMs: number;
  userAgent: string;
}

export const FEED_LIMITS: FetchLimits = {
  timeoutMs: 20_000,
  maxBytes: 50 * 1024 * 1024,
  maxRedirects: 5,
  hostDelayMs: 1000,
  userAgent: 'mamori-bulletin/0.1 (+https://github.com/mamori)',
};

export const PAGE_LIMITS: FetchLimits = { ...FEED_LIMITS, maxBytes: 10 * 1024 * 1024 };

export interface FetchResult {
  status: number;
  /** Final URL after redirects. */
  url: string;
  notModified: boolean;
  contentType: string | null;
  etag: string | null;
  lastModified: string | null;
  body: Uint8Array;
}

/** Serializes requests per host with a minimum gap (politeness). */
export class HostGate {
  private readonly tails = new Map<string, Promise<void>>();
  private readonly last = new Map<string, number>();
  constructor(private readonly delayMs: number) {}

  async run<T>(host: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(host) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => {
      release = r;
    });
    this.tails.set(
      host,
      prev.then(() => mine),
    );
    await prev;
    try {
      const wait = (this.last.get(host) ?? 0) + this.delayMs - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      return await fn();
    } finally {
      this.last.set(host, Date.now());
      release();
    }
  }
}

function isLocalPath(url: string): boolean {
  return (
    url.startsWith('file:') || url.startsWith('/') || url.startsWith('./') || url.startsWith('../')
  );
}

async function readLocal(url: string, limits: FetchLimits): Promise<FetchResult> {
  const path = url.startsWith('file:') ? fileURLToPath(url) : url;
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (e) {
    throw new MamoriError(
      'E_NETWORK',
      `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? e}`,
    );
  }
  if (size > limits.maxBytes)
    throw new MamoriError(
      'E_INPUT',
      `${path} is ${size} bytes, over the ${limits.maxBytes}-byte limit`,
    );
  const fh = await open(path, 'r');
  try {
    const buf = new Uint8Array(size);
    await fh.read(buf, 0, size, 0);
    return {
      status: 200,
      url,
      notModified: false,
      contentType: null,
      etag: null,
      lastModified: null,
      body: buf,
    };
  } finally {
    await fh.close();
  }
}

/** A resolver: every address a host name resolves to (tests inject their own). */
export type Resolver = (hostname: string) => Promise<{ address: string; family: number }[]>;

/** Where a fetch may connect: the source's allowance and, optionally, the resolver to use. */
export interface NetPolicy {
  allowPrivate: AllowPrivate;
  resolve?: Resolver;
}

/** Global unicast only, through the system resolver. */
export const PUBLIC_ONLY: NetPolicy = { allowPrivate: 'none' };

const systemResolve: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

function refusal(url: string, host: string, v: { address: string; range: string }): MamoriError {
  const via = host === v.address ? '' : ` (${host} resolves to it)`;
  return new MamoriError('E_SCOPE', `refused ${url}: ${v.address} is a ${v.range} address${via}`, {
    hint: 'only an intranet feed added with --allow-private may reach such addresses',
  });
}

/**
 * The `lookup` handed to the socket: it resolves, refuses the whole answer if any address is
 * not allowed (a mixed answer is how rebinding attacks slip through), and gives the socket only
 * checked addresses, so the address connected to is the address checked.
 */
function guardedLookup(policy: NetPolicy, url: string): LookupFunction {
  const resolve = policy.resolve ?? systemResolve;
  return ((hostname: string, options: LookupOptions, callback: LookupCallback) => {
    resolve(hostname).then(
      (addrs) => {
        if (!addrs.length) {
          callback(
            Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }),
            '',
            4,
          );
          return;
        }
        for (const a of addrs) {
          const v = addressVerdict(a.address, policy.allowPrivate);
          if (!v.allowed) {
            callback(refusal(url, hostname, v) as unknown as NodeJS.ErrnoException, '', 4);
            return;
          }
        }
        const wanted = options.family === 4 || options.family === 6 ? options.family : 0;
        const usable = wanted ? addrs.filter((a) => a.family === wanted) : addrs;
        if (options.all) (callback as unknown as AllCallback)(null, usable);
        else callback(null, usable[0]?.address ?? '', usable[0]?.family ?? 4);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 4),
    );
  }) as LookupFunction;
}

type LookupOptions = { family?: number | string; all?: boolean };
type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;
type AllCallback = (
  err: NodeJS.ErrnoException | null,
  addresses: { address: string; family: number }[],
) => void;

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
}

/** One request, no redirects followed; connects only to addresses the policy allows. */
function requestOnce(
  url: URL,
  headers: Record<string, string>,
  policy: NetPolicy,
  signal: AbortSignal,
): Promise<RawResponse> {
  // An address literal is never looked up, so it is judged here.
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) {
    const v = addressVerdict(host, policy.allowPrivate);
    if (!v.allowed) return Promise.reject(refusal(url.toString(), host, v));
  }
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise<RawResponse>((resolve, reject) => {
    const req = mod.request(
      url,
      {
        method: 'GET',
        headers,
        agent: false,
        lookup: guardedLookup(policy, url.toString()),
        signal,
      },
      (res) => {
        // Belt and braces: the peer actually connected to, judged once more.
        const peer = res.socket?.remoteAddress;
        const v = peer ? addressVerdict(peer, policy.allowPrivate) : undefined;
        if (!v?.allowed) {
          res.destroy();
          reject(refusal(url.toString(), host, v ?? { address: '?', range: 'unknown' }));
          return;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/**
 * GET a URL with the limits; conditional when `etag`/`lastModified` are given. Every hop of a
 * redirect chain connects only to addresses the policy allows (checked after DNS, on the
 * socket's own lookup).
 * Throws MamoriError E_NETWORK (unreachable, timeout, redirect loop, HTTP error), E_INPUT (too
 * big) or E_SCOPE (an address the source may not reach).
 */
export async function httpGet(
  url: string,
  limits: FetchLimits,
  cond: { etag?: string | null; lastModified?: string | null } = {},
  signal?: AbortSignal,
  policy: NetPolicy = PUBLIC_ONLY,
): Promise<FetchResult> {
  if (isLocalPath(url)) return readLocal(url, limits);
  const seen = new Set<string>();
  let current = url;
  const timeout = AbortSignal.timeout(limits.timeoutMs);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  for (let hop = 0; ; hop++) {
    if (seen.has(current)) throw new MamoriError('E_NETWORK', `redirect loop at ${current}`);
    seen.add(current);
    if (hop > limits.maxRedirects)
      throw new MamoriError('E_NETWORK', `more than ${limits.maxRedirects} redirects from ${url}`);
    const target = new URL(current);
    if (target.protocol !== 'http:' && target.protocol !== 'https:')
      throw new MamoriError('E_INPUT', `unsupported URL scheme ${target.protocol} in ${current}`);
    const headers: Record<string, string> = {
      'user-agent': limits.userAgent,
      accept:
        'application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/html;q=0.8, */*;q=0.5',
      'accept-encoding': 'gzip, deflate, br',
    };
    if (cond.etag) headers['if-none-match'] = cond.etag;
    if (cond.lastModified) headers['if-modified-since'] = cond.lastModified;
    let res: RawResponse;
    try {
      res = await requestOnce(target, headers, policy, combined);
    } catch (e) {
      if (e instanceof MamoriError) throw e;
      if (timeout.aborted)
        throw new MamoriError('E_NETWORK', `timed out after ${limits.timeoutMs} ms: ${current}`);
      const cause = (e as { code?: string }).code ?? (e as Error).message;
      throw new MamoriError('E_NETWORK', `cannot reach ${current}: ${cause}`, { cause: e });
    }
    const header = (n: string): string | null => {
      const v = res.headers[n];
      return Array.isArray(v) ? (v[0] ?? null) : (v ?? null);
    };
    if (res.status >= 300 && res.status < 400 && res.status !== 304) {
      const loc = header('location');
      res.body.destroy();
      if (!loc)
        throw new MamoriError('E_NETWORK', `HTTP ${res.status} without Location from ${current}`);
      current = new URL(loc, current).toString();
      continue;
    }
    const base = {
      status: res.status,
      url: current,
      contentType: header('content-type'),
      etag: header('etag'),
      lastModified: header('last-modified'),
    };
    if (res.status === 304) {
      res.body.destroy();
      return { ...base, notModified: true, body: new Uint8Array(0) };
    }
    if (res.status >= 400) {
      res.body.destroy();
      throw new MamoriError('E_NETWORK', `HTTP ${res.status} from ${current}`);
    }
    const declared = Number(header('content-length') ?? '0');
    const encoding = (header('content-encoding') ?? 'identity').trim().toLowerCase();
    if (declared > limits.maxBytes && encoding === 'identity') {
      res.body.destroy();
      throw new MamoriError(
        'E_INPUT',
        `${current} is ${declared} bytes, over the ${limits.maxBytes}-byte limit`,
      );
    }
    const body = await readCapped(res.body, encoding, limits, current, timeout);
    return { ...base, notModified: false, body };
  }
}

function decoderFor(encoding: string): Transform | undefined {
  if (encoding === 'gzip' || encoding === 'x-gzip') return createGunzip();
  if (encoding === 'deflate') return createInflate();
  if (encoding === 'br') return createBrotliDecompress();
  return undefined;
}

/** The body, decompressed, with the size cap applied to what comes out (no zip bombs). */
async function readCapped(
  raw: IncomingMessage,
  encoding: string,
  limits: FetchLimits,
  current: string,
  timeout: AbortSignal,
): Promise<Uint8Array> {
  const decoder = decoderFor(encoding);
  const stream: AsyncIterable<Buffer> = decoder ? raw.pipe(decoder) : raw;
  if (decoder) raw.on('error', (e) => decoder.destroy(e));
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const value of stream) {
      total += value.byteLength;
      if (total > limits.maxBytes) {
        raw.destroy();
        decoder?.destroy();
        throw new MamoriError('E_INPUT', `${current} exceeded the ${limits.maxBytes}-byte limit`);
      }
      chunks.push(value);
    }
  } catch (e) {
    if (e instanceof MamoriError) throw e;
    if (timeout.aborted)
      throw new MamoriError('E_NETWORK', `timed out after ${limits.timeoutMs} ms: ${current}`);
    throw new MamoriError('E_NETWORK', `reading ${current}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const body = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    body.set(c, off);
    off += c.byteLength;
  }
  return body;
}
