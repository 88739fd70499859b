/**
 * The hash-chained audit log: each entry's hash covers its sequence number, time, actor,
 * action, data and the previous entry's hash, so an edited, deleted or reordered entry breaks
 * the chain. Pure (sha256 from @noble). Not tamper-proof against someone who rewrites the whole
 * chain: anchor the head hash elsewhere (it is printed by `audit verify`).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from './descriptor.js';

export const GENESIS = '0'.repeat(64);

export interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  /** Canonical JSON text. */
  data: string;
  prev_hash: string;
  hash: string;
}

/** @example entryHash({ seq: 1, at, actor, action, data: '{}', prev_hash: GENESIS }) */
export function entryHash(e: Omit<AuditEntry, 'hash'>): string {
  const text = JSON.stringify([e.seq, e.at, e.actor, e.action, e.data, e.prev_hash]);
  return bytesToHex(sha256(new TextEncoder().encode(text)));
}

export interface AuditProblem {
  seq: number;
  problem: 'edited' | 'deleted-or-reordered' | 'bad-sequence';
  detail: string;
}

/** Verify entries in stored order. @example verifyChain(rows).ok */
export function verifyChain(entries: AuditEntry[]): {
  ok: boolean;
  count: number;
  head: string;
  problems: AuditProblem[];
} {
  const problems: AuditProblem[] = [];
  let prev = GENESIS;
  let expectSeq = 1;
  for (const e of entries) {
    if (e.seq !== expectSeq) {
      problems.push({
        seq: e.seq,
        problem: 'bad-sequence',
        detail: `expected entry ${expectSeq}, found ${e.seq}`,
      });
    }
    if (e.prev_hash !== prev) {
      problems.push({
        seq: e.seq,
        problem: 'deleted-or-reordered',
        detail: 'does not follow the entry before it',
      });
    }
    if (entryHash(e) !== e.hash) {
      problems.push({ seq: e.seq, problem: 'edited', detail: 'content does not match its hash' });
    }
    prev = e.hash;
    expectSeq = e.seq + 1;
  }
  return { ok: problems.length === 0, count: entries.length, head: prev, problems };
}

/** Keys sorted, so the same data always hashes the same. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, val) =>
    val && typeof val === 'object' && !Array.isArray(val)
      ? Object.fromEntries(Object.entries(val).sort(([a], [b]) => (a < b ? -1 : 1)))
      : typeof val === 'bigint'
        ? val.toString()
        : val,
  );
}
