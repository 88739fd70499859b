/**
 * Ingest shells: block files from disk, and blocks from a Bitcoin Core-compatible JSON-RPC node
 * (`getblockhash`, `getblock <hash> 0`). Each parses everything first with the pure core, then
 * stores it in one transaction, so a bad file leaves nothing behind.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { hex } from '@scure/base';
import { MamoriError } from '../shared/errors.js';
import type { Progress } from '../shared/progress.js';
import type { Store } from '../storage/index.js';
import { type ChainName, type ParsedBlock, parseBlock, parseBlockFile } from './core/block.js';
import { type IngestSummary, ingestBlocks } from './store.js';

/**
 * Parse block files (all of them, before writing anything) and store their blocks.
 * @example await ingestFiles(store, ['~/.bitcoin/regtest/blocks/blk00000.dat'])
 */
export async function ingestFiles(
  store: Store,
  files: string[],
  options: { progress?: Progress; chain?: ChainName } = {},
): Promise<IngestSummary & { files: number }> {
  const blocks: ParsedBlock[] = [];
  let chain: ChainName | undefined = options.chain;
  for (const f of files) {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(f);
    } catch (cause) {
      throw new MamoriError('E_INPUT', `cannot read ${f}`, { cause, hint: 'check the path' });
    }
    let parsed: ReturnType<typeof parseBlockFile>;
    try {
      parsed = parseBlockFile(bytes, chain);
    } catch (err) {
      if (err instanceof MamoriError) {
        throw new MamoriError(err.code, `${basename(f)}: ${err.message}`, {
          cause: err,
          ...(err.hint ? { hint: err.hint } : {}),
          ...(err.details ? { details: err.details } : {}),
        });
      }
      throw err;
    }
    chain = parsed.chain;
    blocks.push(...parsed.blocks);
  }
  const summary = await ingestBlocks(store, blocks, {
    source: files.map((f) => basename(f)).join(','),
    ...(chain ? { chain } : {}),
    ...(options.progress ? { progress: options.progress } : {}),
  });
  return { ...summary, files: files.length };
}

/** The part of fetch this module uses (tests pass the real one against a local server). */
export type FetchFn = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string; signal?: AbortSignal },
) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

async function rpc(
  fetchFn: FetchFn,
  url: URL,
  method: string,
  params: unknown[],
  signal?: AbortSignal,
): Promise<unknown> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (url.username) {
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
  }
  const clean = new URL(url);
  clean.username = '';
  clean.password = '';
  let res: Awaited<ReturnType<FetchFn>>;
  try {
    res = await fetchFn(clean.toString(), {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '1.0', id: 'mamori', method, params }),
      ...(signal ? { signal } : {}),
    });
  } catch (cause) {
    throw new MamoriError('E_NETWORK', `node ${clean.host} unreachable`, {
      cause,
      hint: 'check --node',
    });
  }
  let body: { result?: unknown; error?: { message?: string } | null };
  try {
    body = (await res.json()) as typeof body;
  } catch (cause) {
    throw new MamoriError('E_NETWORK', `node ${clean.host}: HTTP ${res.status}, not JSON-RPC`, {
      cause,
    });
  }
  if (body.error)
    throw new MamoriError(
      'E_NETWORK',
      `node ${clean.host}: ${method}: ${body.error.message ?? 'error'}`,
    );
  if (!res.ok) throw new MamoriError('E_NETWORK', `node ${clean.host}: HTTP ${res.status}`);
  return body.result;
}

/**
 * Fetch blocks [from, to] from a Bitcoin Core-compatible node and store them. The chain (for
 * address encoding) comes from `getblockchaininfo`.
 * @example await ingestFromNode(store, 'http://user:pass@127.0.0.1:18443', { from: 0 })
 */
export async function ingestFromNode(
  store: Store,
  nodeUrl: string,
  options: {
    from?: number;
    to?: number;
    progress?: Progress;
    fetchFn?: FetchFn;
    signal?: AbortSignal;
  } = {},
): Promise<IngestSummary> {
  let url: URL;
  try {
    url = new URL(nodeUrl);
  } catch {
    throw new MamoriError('E_USAGE', `--node: not a URL: ${nodeUrl}`, {
      hint: 'e.g. http://user:pass@127.0.0.1:18443',
    });
  }
  const fetchFn = options.fetchFn ?? (fetch as unknown as FetchFn);
  const info = (await rpc(fetchFn, url, 'getblockchaininfo', [], options.signal)) as {
    chain: string;
    blocks: number;
  };
  const chain: ChainName =
    info.chain === 'main'
      ? 'mainnet'
      : info.chain === 'test'
        ? 'testnet'
        : info.chain === 'signet'
          ? 'signet'
          : 'regtest';
  const from = options.from ?? 0;
  const to = Math.min(options.to ?? info.blocks, info.blocks);
  options.progress?.setTotal(to - from + 1);
  const blocks: ParsedBlock[] = [];
  for (let h = from; h <= to; h++) {
    const hash = (await rpc(fetchFn, url, 'getblockhash', [h], options.signal)) as string;
    const rawHex = (await rpc(fetchFn, url, 'getblock', [hash, 0], options.signal)) as string;
    const bytes = hex.decode(rawHex);
    const block = parseBlock(bytes, chain);
    if (block.hash !== hash)
      throw new MamoriError('E_INPUT', `node returned block ${block.hash} for ${hash}`);
    blocks.push(block);
    options.progress?.tick(1, `height ${h}`);
  }
  const display = new URL(url);
  display.username = '';
  display.password = '';
  return ingestBlocks(store, blocks, { source: display.host, chain });
}
