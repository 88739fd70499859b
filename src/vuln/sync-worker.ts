/**
 * The parse thread of `vuln sync`: reads the input (`inputEntries`), parses each entry with its
 * source's parser and prepares each record for the store (`prepareRecord`: content hash and
 * row values), then hands chunks to the writing thread. Flow control is by credit: at most
 * `CREDITS` chunks are in flight, so memory stays bounded however fast parsing runs ahead of
 * the database. Protocol in `sync.ts` (`WorkerChunk`, `WorkerEnd`).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { MamoriError } from '../shared/errors.js';
import type { Source } from './core/types.js';
import {
  CHUNK_ITEMS,
  CREDITS,
  inputEntries,
  parserFor,
  type WireItem,
  type WorkerMessage,
} from './input.js';
import { prepareRecord } from './prepare.js';

interface Job {
  source: Source;
  from: string;
  since?: string;
}

async function main(port: NonNullable<typeof parentPort>, job: Job): Promise<void> {
  let credits = CREDITS;
  let wake: (() => void) | undefined;
  port.on('message', (m: { t: 'more' }) => {
    if (m.t !== 'more') return;
    credits++;
    wake?.();
  });
  const send = async (msg: WorkerMessage) => {
    while (credits === 0) await new Promise<void>((r) => (wake = r));
    wake = undefined;
    credits--;
    port.postMessage(msg);
  };
  const parse = await parserFor(job.source);
  let items: WireItem[] = [];
  let files = 0;
  for await (const entry of inputEntries(job.from)) {
    files++;
    for (const p of parse(entry)) {
      if (!p.ok) items.push(p);
      else {
        const mod = p.record.modified ?? p.record.published;
        if (job.since && mod && mod < job.since) continue;
        items.push({ ok: true, rec: prepareRecord(p.record) });
      }
      if (items.length >= CHUNK_ITEMS) {
        await send({ t: 'chunk', files, items });
        items = [];
        files = 0;
      }
    }
  }
  await send({ t: 'chunk', files, items });
  port.postMessage({ t: 'end' } satisfies WorkerMessage);
}

if (parentPort) {
  const port = parentPort;
  main(port, workerData as Job).catch((err: unknown) => {
    const e = err as Error;
    port.postMessage({
      t: 'fail',
      ...(err instanceof MamoriError
        ? { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) }
        : { message: e?.message ?? String(err), ...(e?.stack ? { stack: e.stack } : {}) }),
    } satisfies WorkerMessage);
  });
}
