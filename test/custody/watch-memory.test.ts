/**
 * The watcher's memory stays flat: 100,000 polls against a real bcoin regtest node, its JSON-RPC
 * handler called in process (`node.fetch`, the same answers as over HTTP without a socket per
 * call), through the real Core RPC adapter, with a real store. The poll loop must leave at most
 * one abort listener on the signal at any time (one was left per poll before: about 240 MB a
 * day at 200 ms), and the heap after a forced GC must not grow with the number of polls.
 */
import { getEventListeners } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlertSink } from '../../src/alerts/index.js';
import type { RegtestNode } from '../../src/custody/index.js';
import * as custody from '../../src/custody/index.js';
import { freshStore, type TestStore } from '../helpers/db.js';

const XPUBS = [
  "[73c5da0a/48'/1'/0'/2']tpubDFH9dgzveyD8zTbPUFuLrGmCydNvxehyNdUXKJAQN8x4aZ4j6UZqGfnqFrD4NqyaTVGKbvEW54tsvPTK2UoSbCC1PJY8iCNiwTL3RWZEheQ",
];

// `--expose-gc` for this worker only, so the heap is measured after a full collection.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  // two passes: the first may only queue finalizers
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

describe('custody watcher memory (sqlite, in-process bcoin)', () => {
  let node: RegtestNode;
  let t: TestStore;
  beforeAll(async () => {
    node = await custody.startRegtestNode({ port: 0 });
    t = await freshStore('sqlite');
  });
  afterAll(async () => {
    await node?.close();
    await t?.cleanup();
  });

  it('100,000 polls: at most one abort listener, heap flat', { timeout: 600_000 }, async () => {
    const ctx = { store: t.store, actor: 'test' };
    await custody.createWallet(ctx, {
      name: 'cold1',
      tier: 'cold',
      threshold: 1,
      xpubs: XPUBS,
      network: 'regtest',
    });
    const a = await custody.newAddress(ctx, 'cold1', 'deposit');
    await node.fund(a.address, 50_000_000);
    await node.mine(1);
    // Each RPC call holds an AbortSignal.timeout until it fires; at ~1,000 polls a second a 30 s
    // timeout keeps ~100,000 of them alive at once, which is the adapter's time window, not a
    // leak. A 1 s timeout keeps that window small enough to see the watcher's own growth.
    const chain = custody.coreRpc(node.url, { fetch: node.fetch, timeoutMs: 1_000 });
    const sink = createAlertSink({ store: t.store });
    const abort = new AbortController();
    let polls = 0;
    let maxListeners = 0;
    const sample = () => {
      maxListeners = Math.max(maxListeners, getEventListeners(abort.signal, 'abort').length);
    };
    // The adapter is wrapped only to count polls, sample the signal and, every 20,000 polls,
    // measure the heap mid-run; every call still goes to the node.
    const heap: number[] = [];
    const counted: custody.ChainAdapter = {
      ...chain,
      tipHeight: async () => {
        polls++;
        if (polls % 1000 === 0) sample();
        if (polls > 5_000 && (polls - 5_000) % 20_000 === 0) {
          // let the adapter's 1 s AbortSignal.timeout timers fire, then collect
          await new Promise((r) => setTimeout(r, 1_100));
          heap.push(heapAfterGc());
        }
        return chain.tipHeight();
      },
    };
    const errors: unknown[] = [];
    const run = (n: number) =>
      custody.watch(ctx, counted, {
        sink,
        signal: abort.signal,
        intervalMs: 0,
        maxPolls: n,
        onEvent: (e) => {
          if (e.type === 'error') errors.push(e.details);
        },
      });
    await run(5_000); // warm: caches, JIT, the store's prepared statements
    await run(100_000);
    sample();
    expect(errors).toEqual([]);
    expect(polls).toBe(105_000);
    expect(maxListeners).toBeLessThanOrEqual(1);
    expect(getEventListeners(abort.signal, 'abort')).toHaveLength(0);
    // Heap after GC at 20k, 40k, … 100k polls of one run. A listener per poll kept ~80,000
    // closures alive between the first and the last sample (tens of MB), so a leak raises the
    // last two samples alike; one sample caught mid-collection on a busy machine (9 MB once in
    // CI) does not. Allow 6 MB of noise.
    expect(heap).toHaveLength(5);
    expect(Math.min(heap[3]!, heap[4]!) - heap[0]!).toBeLessThan(6 * 1024 * 1024);
    const status = await custody.watcherStatus(ctx);
    expect(status).toMatchObject({ state: 'stopped', polls: 100_000 });
  });
});
