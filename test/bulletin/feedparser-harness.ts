/**
 * Runs one feedparser test file through our parser and its `Expect:` expression through the
 * Python evaluator, with feedparser's FeedParserDict key aliases. Shared by the vitest suite and
 * by anyone who wants the per-directory table (`npx tsx test/bulletin/feedparser-report.ts`).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { decodeBytes } from '../../src/bulletin/core/encoding.js';
import { type FeedDict, type ParsedFeed, parseFeed } from '../../src/bulletin/core/feed.js';
import { evalPy, type PyEnv, PyKeyError, type PyValue, truthy } from './pyexpr.js';

export interface FpCase {
  file: string;
  rel: string;
  description: string;
  expect: string;
  headers: Record<string, string>;
  skipUnless: string | undefined;
}

export function listCases(root: string): FpCase[] {
  const out: FpCase[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(xml|rdf|json)$/.test(name)) {
        const head = readFileSync(p, 'latin1').slice(0, 4000);
        const expect = /Expect:\s*(.*)/.exec(head)?.[1]?.trim();
        if (!expect) continue;
        const headers: Record<string, string> = {};
        for (const m of head.matchAll(/Header:\s*([\w-]+):\s*(.*)/g))
          headers[m[1]!.toLowerCase()] = m[2]!.trim();
        out.push({
          file: p,
          rel: relative(root, p),
          description: /Description:\s*(.*)/.exec(head)?.[1]?.trim() ?? '',
          expect,
          headers,
          skipUnless: /SkipUnless:\s*(.*)/.exec(head)?.[1]?.trim(),
        });
      }
    }
  };
  walk(root);
  return out;
}

const KEYMAP: Record<string, string | string[]> = {
  channel: 'feed',
  items: 'entries',
  guid: 'id',
  date: 'updated',
  date_parsed: 'updated_parsed',
  description: ['summary', 'subtitle'],
  description_detail: ['summary_detail', 'subtitle_detail'],
  url: ['href'],
  modified: 'updated',
  modified_parsed: 'updated_parsed',
  issued: 'published',
  issued_parsed: 'published_parsed',
  copyright: 'rights',
  copyright_detail: 'rights_detail',
  tagline: 'subtitle',
  tagline_detail: 'subtitle_detail',
};

function isDict(v: unknown): v is FeedDict {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function getItem(obj: PyValue, key: PyValue): PyValue {
  if (Array.isArray(obj)) {
    const i = Number(key);
    const v = obj[i < 0 ? obj.length + i : i];
    if (v === undefined) throw new PyKeyError(`index ${i}`);
    return v;
  }
  if (!isDict(obj)) throw new PyKeyError(`subscript of ${typeof obj}`);
  const k = String(key);
  if (k === 'category') {
    const tags = obj.tags as FeedDict[] | undefined;
    if (tags?.[0]) return tags[0].term;
  }
  if (k === 'enclosures' && obj.enclosures === undefined && obj.links) {
    return (obj.links as FeedDict[]).filter((l) => l.rel === 'enclosure');
  }
  if ((k === 'updated' || k === 'updated_parsed') && obj[k] === undefined) {
    const alt = k === 'updated' ? 'published' : 'published_parsed';
    if (obj[alt] !== undefined) return obj[alt];
  }
  if (obj[k] !== undefined) return obj[k];
  const real = KEYMAP[k];
  if (real !== undefined) {
    for (const r of Array.isArray(real) ? real : [real]) {
      if (obj[r] !== undefined) return obj[r];
      if (
        (r === 'updated' || r === 'updated_parsed') &&
        obj[r.replace('updated', 'published')] !== undefined
      )
        return obj[r.replace('updated', 'published')];
    }
  }
  throw new PyKeyError(k);
}

export function runCase(c: FpCase): { pass: boolean; error?: string; result: ParsedFeed } {
  const bytes = new Uint8Array(readFileSync(c.file));
  const decoded = decodeBytes(bytes, c.headers['content-type']);
  const baseUrl = `http://127.0.0.1:8097/tests/${c.rel.replace(/\\/g, '/')}`;
  const opts: { baseUrl: string; language?: string; contentLocation?: string } = { baseUrl };
  if (c.headers['content-language']) opts.language = c.headers['content-language'];
  if (c.headers['content-location']) opts.contentLocation = c.headers['content-location'];
  const result = parseFeed(decoded.text, opts);
  result.encoding = decoded.encoding;
  const top: Record<string, unknown> = {
    bozo: result.bozo ? 1 : 0,
    feed: result.feed,
    entries: result.entries,
    version: result.version,
    encoding: result.encoding,
    namespaces: result.namespaces,
    headers: c.headers,
    href: baseUrl,
    status: 200,
  };
  if (c.headers.etag) top.etag = c.headers.etag;
  if (c.headers['last-modified'] !== undefined) top.modified = c.headers['last-modified'];
  const env: PyEnv = {
    name(n) {
      if (n in top) return top[n];
      throw new Error(`unknown name ${n}`);
    },
    getItem,
    has(obj, key) {
      try {
        getItem(obj, key);
        return true;
      } catch (e) {
        if (e instanceof PyKeyError) return false;
        throw e;
      }
    },
  };
  try {
    return { pass: truthy(evalPy(c.expect, env)), result };
  } catch (e) {
    return { pass: false, error: (e as Error).message, result };
  }
}
