/**
 * An inventory check as the API takes it: the request body (a CycloneDX/SPDX SBOM, a lock file,
 * or `{ components: [...] }`) parsed, checked, recorded as "the last check", and the response
 * built. A large body is checked on a worker thread with its own store connection, so the
 * service's event loop (and `/healthz`) keeps answering while 150,000 components are matched.
 * Not the route: src/web/routes/vuln.ts calls this.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { MamoriError } from '../shared/errors.js';
import { type DbTarget, openDb, type Store } from '../storage/index.js';
import { checkComponents, type Finding } from './check.js';
import type { EcosystemCoverage } from './core/coverage.js';
import { type Component, InventoryError, parseInventory } from './core/inventory.js';
import { recordCheckRun } from './last-check.js';

export interface CheckRequest {
  /** The request body as text. */
  text: string;
  /** The inventory's name (`?name=`), for the parser and the recorded run. */
  name: string;
  /** Record the run as the newest "last check" (the CLI's --no-record sends false). */
  record: boolean;
}

export interface CheckResponse {
  findings: Finding[];
  unsupported: string[];
  covered: boolean;
  notCovered: number;
  coverage: EcosystemCoverage[];
}

/**
 * Bodies larger than this are checked on a worker thread; smaller ones in process, where a
 * thread's start-up (about as long as a 1,000-component check) would only add latency.
 */
export const OFF_THREAD_BYTES = 512 * 1024;

/** Parse, check and record in this thread. */
export async function checkInventoryText(store: Store, req: CheckRequest): Promise<CheckResponse> {
  let components: Component[];
  let unsupported: string[] = [];
  try {
    const maybe = req.text.trimStart().startsWith('{')
      ? (JSON.parse(req.text) as Record<string, unknown>)
      : undefined;
    if (maybe && Array.isArray(maybe.components) && maybe.bomFormat === undefined) {
      components = (maybe.components as Record<string, unknown>[]).filter(
        (x) =>
          typeof x.name === 'string' &&
          typeof x.version === 'string' &&
          typeof x.ecosystem === 'string',
      ) as unknown as Component[];
    } else {
      const { parse } = await import('smol-toml');
      const inv = parseInventory(req.name, req.text, parse);
      components = inv.components;
      unsupported = inv.unsupported;
    }
  } catch (err) {
    if (err instanceof InventoryError || err instanceof SyntaxError)
      throw new MamoriError('E_INPUT', `inventory: ${(err as Error).message}`);
    throw err;
  }
  const result = await checkComponents(store, components);
  if (req.record)
    await recordCheckRun(store, {
      origin: 'api',
      inventories: [req.name],
      components: components.length,
      result,
      unsupported: unsupported.length,
    });
  return {
    findings: result.findings,
    unsupported: [...unsupported, ...result.unsupported],
    covered: result.notCovered + unsupported.length === 0,
    notCovered: result.notCovered,
    coverage: result.coverage,
  };
}

/** What the worker posts back: the response as JSON text, or the error to rethrow. */
export type WorkerReply =
  | { ok: true; json: string }
  | {
      ok: false;
      error: { code: string; message: string; hint?: string; details?: Record<string, unknown> };
    };

/**
 * The check's response as JSON text: on a worker thread when the body is large and the store
 * can be opened a second time (a file or PostgreSQL, not `:memory:`), else in this thread.
 * @example const json = await checkInventory(store, { text, name: 'sbom.json', record: true });
 */
export async function checkInventory(store: Store, req: CheckRequest): Promise<string> {
  const target = store.target;
  if (req.text.length <= OFF_THREAD_BYTES || !target || target.location === ':memory:')
    return JSON.stringify(await checkInventoryText(store, req));
  const reply = await runWorker(target, req);
  if (reply.ok) return reply.json;
  const { code, message, hint, details } = reply.error;
  throw new MamoriError(code as MamoriError['code'], message, {
    ...(hint ? { hint } : {}),
    ...(details ? { details } : {}),
  });
}

/** tsx's ESM API module (its `import` export), as a file URL; only when running from source. */
function tsxEsmApi(): string {
  const pkg = createRequire(import.meta.url).resolve('tsx/package.json');
  const exp = (
    createRequire(import.meta.url)('tsx/package.json') as {
      exports: Record<string, { import: { default: string } }>;
    }
  ).exports['./esm/api'];
  return pathToFileURL(join(dirname(pkg), exp?.import.default ?? 'dist/esm/api/index.mjs')).href;
}

function runWorker(target: DbTarget, req: CheckRequest): Promise<WorkerReply> {
  // From the built code the worker is check-worker.js beside this file. Under tsx or vitest
  // (running the .ts sources) a worker does not inherit the .ts loader: a small eval'd script
  // registers tsx's loader in the thread, then imports check-worker.ts.
  const fromSource = import.meta.url.endsWith('.ts');
  const workerUrl = new URL(
    fromSource ? './check-worker.ts' : './check-worker.js',
    import.meta.url,
  );
  const worker = fromSource
    ? new Worker(
        `import(${JSON.stringify(tsxEsmApi())}).then((m) => m.register()).then(() => import(${JSON.stringify(workerUrl.href)}));`,
        { eval: true, workerData: { target, req } },
      )
    : new Worker(workerUrl, { workerData: { target, req } });
  return new Promise((resolve, reject) => {
    let settled = false;
    worker.once('message', (m: WorkerReply) => {
      settled = true;
      resolve(m);
    });
    worker.once('error', (err) => {
      settled = true;
      reject(
        new MamoriError('E_INTERNAL', `inventory check thread failed: ${err.message}`, {
          cause: err,
        }),
      );
    });
    worker.once('exit', (code) => {
      if (!settled)
        reject(new MamoriError('E_INTERNAL', `inventory check thread exited with code ${code}`));
    });
  });
}

/** The worker's side: open the store, check, record, reply, close. */
export async function workerCheck(target: DbTarget, req: CheckRequest): Promise<WorkerReply> {
  const store = await openDb(target, { migrate: false, poolSize: 2 });
  try {
    return { ok: true, json: JSON.stringify(await checkInventoryText(store, req)) };
  } catch (err) {
    if (err instanceof MamoriError)
      return {
        ok: false,
        error: {
          code: err.code,
          message: err.message,
          ...(err.hint ? { hint: err.hint } : {}),
          ...(err.details ? { details: err.details } : {}),
        },
      };
    throw err;
  } finally {
    await store.close();
  }
}
