/**
 * The console's Workers page and /api/v1/workers over HTTP (createApp in process with a real
 * token), against a real PostgreSQL with a real `mamori worker` process: it shows alive with its
 * queues, a job queued on a queue nobody serves shows as depth, a job done counts, and the worker
 * shows as gone once it is stopped. In Japanese too. On SQLite the page says workers need
 * PostgreSQL instead of showing an empty, healthy-looking table.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { openQueue } from '../../src/jobs/index.js';
import { BIN } from '../helpers/cli.js';
import { freshStore, type TestStore } from '../helpers/db.js';
import { PROJECT_ROOT } from '../helpers/vectors.js';
import { testApp } from '../helpers/web.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until(what: string, ms: number, ok: () => Promise<boolean>) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

interface Status {
  note: string | null;
  workers: { id: string; alive: boolean; queues: string[]; jobsDone: number; jobsFailed: number }[];
  queues: { queue: string; queued: number; total: number }[];
}

describe('the Workers page on SQLite', () => {
  it('says workers need PostgreSQL', async () => {
    const t = await freshStore('sqlite');
    cleanups.push(() => t.cleanup());
    const { request } = await testApp(t.store, 'test', 'viewer');
    const api = (await (await request('/api/v1/workers')).json()) as Status;
    expect(api.note).toMatch(/PostgreSQL/);
    const page = await request('/workers');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('workers need a PostgreSQL store');
    const ja = await (await request('/workers?lang=ja')).text();
    expect(ja).toContain('ワーカーには PostgreSQL のストアが必要です');
  });
});

describe.skipIf(!process.env.MAMORI_TEST_PG)('the Workers page on PostgreSQL', () => {
  let t: TestStore;
  it('shows a live worker, its jobs and the queue depth, then the worker gone', {
    timeout: 120_000,
  }, async () => {
    t = await freshStore('postgres');
    cleanups.push(() => t.cleanup());
    const { request } = await testApp(t.store, 'test', 'viewer');
    // A fetch job waits: the worker below serves only the audit queue.
    const queue = await openQueue(t.spec);
    cleanups.push(() => queue.stop());
    await queue.enqueue({ kind: 'bulletin-fetch', args: [] });
    const child: ChildProcess = spawn(
      process.execPath,
      [BIN, 'worker', '--queues', 'audit', '--quiet', '--db', t.spec],
      { cwd: PROJECT_ROOT, stdio: 'ignore' },
    );
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    });
    const status = async () => (await (await request('/api/v1/workers')).json()) as Status;
    await until('the worker to show alive', 60_000, async () =>
      (await status()).workers.some((w) => w.alive),
    );
    const s = await status();
    expect(s.note).toBeNull();
    expect(s.workers).toHaveLength(1);
    expect(s.workers[0]).toMatchObject({ alive: true, queues: ['audit'], jobsFailed: 0 });
    expect(s.queues.find((q) => q.queue === 'fetch')).toMatchObject({ queued: 1, total: 1 });
    expect(s.queues.find((q) => q.queue === 'audit')).toMatchObject({ queued: 0 });
    const page = await (await request('/workers')).text();
    expect(page).toContain(`data-worker="${s.workers[0]!.id}" data-alive="yes"`);
    expect(page).toMatch(/<tr data-queue="fetch"><td>fetch<\/td><td>1<\/td>/);
    const ja = await (await request('/workers?lang=ja')).text();
    expect(ja).toContain('稼働');
    expect(ja).toContain('キューの深さ');
    child.kill('SIGTERM');
    await exited;
    const after = await status();
    expect(after.workers[0]).toMatchObject({ alive: false });
    expect(await (await request('/workers')).text()).toContain('data-alive="no"');
  });
});
