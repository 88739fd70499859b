/**
 * The recorder's writer thread on an embedded SQLite file: every record() resolves only when its
 * row is visible to another connection and its log line is written, concurrent events share
 * transactions, and the rows keep the order the events were recorded in.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { HoneypotEvent } from '../../src/honeypot/core/events.js';
import { Recorder } from '../../src/honeypot/index.js';
import { openDb, type Store } from '../../src/storage/index.js';

const event = (i: number): HoneypotEvent => ({
  time: new Date(Date.UTC(2026, 11, 4, 0, 0, 0, i)).toISOString(),
  eventid: 'http.request',
  session: `s${i}`,
  protocol: 'http',
  srcIp: '127.0.0.9',
  srcPort: 40000 + (i % 1000),
  dstPort: 80,
  summary: { method: 'GET', path: `/p${i}` },
});

describe('recorder writer thread (SQLite file)', () => {
  let dir: string;
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  for (const writerThread of [true, false]) {
    it(`acknowledges an event only once another connection sees it (writerThread ${writerThread})`, async () => {
      dir = mkdtempSync(join(tmpdir(), 'mamori-writer-'));
      const path = join(dir, 'mamori.db');
      store = await openDb(path);
      const logPath = join(dir, 'events.jsonl');
      const rec = await Recorder.open({ store, logPath, writerThread });
      expect(rec.onWriterThread).toBe(writerThread);
      const reader = new Database(path, { readonly: true });
      const count = reader.prepare('select count(*) as n from honeypot_event');
      const seenAtAck: number[] = [];
      const n = 2000;
      await Promise.all(
        Array.from({ length: n }, (_, i) =>
          rec.record(event(i)).then(() => {
            // the row of event i, and every event recorded before it, is committed by now
            seenAtAck.push((count.get() as { n: number }).n);
            expect(seenAtAck.at(-1)).toBeGreaterThanOrEqual(i + 1);
          }),
        ),
      );
      expect(rec.onWriterThread).toBe(writerThread);
      await rec.close();
      expect(seenAtAck).toHaveLength(n);
      const rows = reader
        .prepare('select session, summary from honeypot_event order by id')
        .all() as { session: string; summary: string }[];
      reader.close();
      expect(rows.map((r) => r.session)).toEqual(Array.from({ length: n }, (_, i) => `s${i}`));
      expect(JSON.parse(rows[7]!.summary)).toEqual({ method: 'GET', path: '/p7' });
      const lines = readFileSync(logPath, 'utf8').trimEnd().split('\n');
      expect(lines).toHaveLength(n);
      expect(JSON.parse(lines[n - 1]!)).toMatchObject({ session: `s${n - 1}` });
      // group commit: far fewer transactions than events
      expect(rec.stats.batches).toBeLessThan(n / 4);
      expect(rec.stats.committed).toBe(n);
    });
  }
});
