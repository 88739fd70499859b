/**
 * Fetching feeds and pages, politely and defensively: conditional GET (ETag/Last-Modified),
 * one request at a time per host with a pause between them, a timeout per request, a cap on
 * redirects (and loop detection), and a cap on body size enforced while streaming. `file:` URLs
 * and plain paths are read from disk so everything works offline.
 * Not the parsing (core/feed.ts) nor the storing (store.ts).
 */
import { open, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { MamoriError } from '../shared/errors.js';

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

/**
 * GET a URL with the limits; conditional when `etag`/`lastModified` are given.
 * Throws MamoriError E_NETWORK (unreachable, timeout, redirect loop, HTTP error) or E_INPUT (too big).
 */
export async function httpGet(
  url: string,
  limits: FetchLimits,
  cond: { etag?: string | null; lastModified?: string | null } = {},
  signal?: AbortSignal,
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
    const proto = new URL(current).protocol;
    if (proto !== 'http:' && proto !== 'https:')
      throw new MamoriError('E_INPUT', `unsupported URL scheme ${proto} in ${current}`);
    const headers: Record<string, string> = {
      'user-agent': limits.userAgent,
      accept:
        'application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/html;q=0.8, */*;q=0.5',
    };
    if (cond.etag) headers['if-none-match'] = cond.etag;
    if (cond.lastModified) headers['if-modified-since'] = cond.lastModified;
    let res: Response;
    try {
      res = await fetch(current, { headers, redirect: 'manual', signal: combined });
    } catch (e) {
      if (timeout.aborted)
        throw new MamoriError('E_NETWORK', `timed out after ${limits.timeoutMs} ms: ${current}`);
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
      throw new MamoriError('E_NETWORK', `cannot reach ${current}: ${cause}`, { cause: e });
    }
    if (res.status >= 300 && res.status < 400 && res.status !== 304) {
      const loc = res.headers.get('location');
      await res.body?.cancel();
      if (!loc)
        throw new MamoriError('E_NETWORK', `HTTP ${res.status} without Location from ${current}`);
      current = new URL(loc, current).toString();
      continue;
    }
    const base = {
      status: res.status,
      url: current,
      contentType: res.headers.get('content-type'),
      etag: res.headers.get('etag'),
      lastModified: res.headers.get('last-modified'),
    };
    if (res.status === 304) {
      await res.body?.cancel();
      return { ...base, notModified: true, body: new Uint8Array(0) };
    }
    if (res.status >= 400) {
      await res.body?.cancel();
      throw new MamoriError('E_NETWORK', `HTTP ${res.status} from ${current}`);
    }
    const declared = Number(res.headers.get('content-length') ?? '0');
    if (declared > limits.maxBytes) {
      await res.body?.cancel();
      throw new MamoriError(
        'E_INPUT',
        `${current} is ${declared} bytes, over the ${limits.maxBytes}-byte limit`,
      );
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    if (res.body) {
      const reader = res.body.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          total += value.byteLength;
          if (total > limits.maxBytes) {
            await reader.cancel();
            throw new MamoriError(
              'E_INPUT',
              `${current} exceeded the ${limits.maxBytes}-byte limit`,
            );
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
    }
    const body = new Uint8Array(total);
    let off = 0;
    for (const c of chunks) {
      body.set(c, off);
      off += c.byteLength;
    }
    return { ...base, notModified: false, body };
  }
}
