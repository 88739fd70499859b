/**
 * The response side of the guard proxy (SecLang phases 3 and 4): the RESPONSE_* collections
 * from the upstream's answer, and reading at most `limit` bytes of its body for inspection
 * (ModSecurity's ProcessPartial: the rest is streamed on uninspected). Only textual, unencoded
 * bodies are read (SecResponseBodyMimeType); others pass with an empty RESPONSE_BODY.
 * Not the request side (proxy.ts).
 */
import type http from 'node:http';
import type { Collections, Entry } from './core/request.js';

/** Default response body inspection limit: CRS's SecResponseBodyLimit example, 512 KiB. */
export const RESPONSE_BODY_LIMIT = 512 * 1024;

const INSPECTED_TYPES = [
  'text/plain',
  'text/html',
  'text/xml',
  'application/json',
  'application/xml',
  'application/xhtml+xml',
];

/** Set RESPONSE_STATUS, RESPONSE_PROTOCOL, RESPONSE_HEADERS(_NAMES) and content type/length. */
export function setResponseCollections(c: Collections, res: http.IncomingMessage): void {
  const headers: Entry[] = [];
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
    headers.push({ key: res.rawHeaders[i] as string, value: res.rawHeaders[i + 1] as string });
  }
  const one = (value: string): Entry[] => [{ key: '', value }];
  c.set('RESPONSE_STATUS', one(String(res.statusCode ?? 0)));
  c.set('RESPONSE_PROTOCOL', one(`HTTP/${res.httpVersion}`));
  c.set('STATUS_LINE', one(`HTTP/${res.httpVersion} ${res.statusCode} ${res.statusMessage}`));
  c.set('RESPONSE_HEADERS', headers);
  c.set(
    'RESPONSE_HEADERS_NAMES',
    headers.map((h) => ({ key: h.key, value: h.key })),
  );
  c.set('RESPONSE_CONTENT_TYPE', one(res.headers['content-type'] ?? ''));
  c.set('RESPONSE_CONTENT_LENGTH', one(res.headers['content-length'] ?? ''));
  c.set('RESPONSE_BODY', one(''));
}

/** Whether the body is read for phase 4: a textual type and no content coding. */
export function inspectableBody(method: string, res: http.IncomingMessage): boolean {
  if (method === 'HEAD' || res.statusCode === 204 || res.statusCode === 304) return false;
  const coding = (res.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (coding !== '' && coding !== 'identity') return false;
  const type = (res.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return INSPECTED_TYPES.includes(type);
}

/**
 * Read from the upstream until it ends or more than `limit` bytes are held, then pause it.
 * @returns the chunks held (to be sent first) and whether the body has ended.
 */
export function readBodyPrefix(
  res: http.IncomingMessage,
  limit: number,
): Promise<{ chunks: Buffer[]; size: number; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      res.off('data', onData);
      res.off('end', onEnd);
      res.off('error', onError);
    };
    const onData = (c: Buffer) => {
      chunks.push(c);
      size += c.length;
      if (size > limit) {
        res.pause();
        cleanup();
        resolve({ chunks, size, ended: false });
      }
    };
    const onEnd = () => {
      cleanup();
      resolve({ chunks, size, ended: true });
    };
    const onError = (e: Error) => {
      cleanup();
      reject(e);
    };
    res.on('data', onData);
    res.on('end', onEnd);
    res.on('error', onError);
  });
}
