/**
 * The audit log: verification (the hash chain, each identity's signature on its entries, and
 * no truncation after a signed checkpoint or an outside head), signed checkpoints and export.
 * Not the append: see `context.ts`.
 */
import { MamoriError } from '../shared/errors.js';
import { AUDIT_DOMAIN, type CustodyContext, now } from './context.js';
import { type AuditEntry, type AuditProblem, verifyChain } from './core/audit.js';
import {
  type Signature,
  schnorrIdentityOf,
  type TrustRoot,
  verifySignature,
} from './core/trust.js';
import { getState, setState } from './freeze.js';

export const CHECKPOINT_DOMAIN = 'mamori/audit.checkpoint';

/** A signed head: whoever holds it can later prove the log was not cut back below it. */
export interface AuditCheckpoint {
  seq: number;
  hash: string;
  signature: Signature;
}

export type AuditVerifyProblem =
  | AuditProblem
  | { seq: number; problem: 'bad-signature' | 'truncated' | 'unknown-identity'; detail: string };

async function entries(c: CustodyContext): Promise<(AuditEntry & { sig: string | null })[]> {
  const rows = await c.store.db.selectFrom('custody_audit').selectAll().orderBy('seq').execute();
  return rows.map((r) => ({ ...r, seq: Number(r.seq), sig: r.sig ?? null }));
}

/**
 * Verify the chain, every signed entry's signature (an identity actor must have signed), the
 * store's signed checkpoints and an outside `head` (`seq:hash` or a hash).
 * @example const v = await verifyAudit(ctx, { head: '41:ab12…' }); v.ok
 */
export async function verifyAudit(
  c: CustodyContext,
  opts: { head?: string; checkpoints?: AuditCheckpoint[] } = {},
) {
  const es = await entries(c);
  const cps = [
    ...((await getState<AuditCheckpoint[]>(c.store.db, 'audit_checkpoints')) ?? []),
    ...(opts.checkpoints ?? []),
  ];
  return verifyAuditEntries(es, cps, opts.head);
}

/**
 * The same verification on entries and checkpoints from anywhere (an export, offline). With a
 * `genesis` (a checked trust root), every identity that signed an entry or a checkpoint must be
 * one the genesis lists: an entry signed by an unknown key is `unknown-identity`, and a
 * checkpoint by one does not count.
 * @example verifyAuditEntries(doc.entries, doc.checkpoints, '41:ab12…', root)
 */
export function verifyAuditEntries(
  es: (AuditEntry & { sig: string | null })[],
  checkpoints: AuditCheckpoint[],
  head?: string,
  genesis?: TrustRoot,
) {
  const v = verifyChain(es);
  const problems: AuditVerifyProblem[] = [...v.problems];
  const known = (id: string) => !genesis || genesis.identities.has(id);
  let unsigned = 0;
  for (const e of es) {
    const idn = schnorrIdentityOf(e.actor);
    if (!idn) {
      unsigned++; // a process actor (watcher, sweep) or a store without identities
      continue;
    }
    let sig: Signature | undefined;
    try {
      sig = e.sig ? (JSON.parse(e.sig) as Signature) : undefined;
    } catch {
      sig = undefined;
    }
    if (!sig || !verifySignature(sig, idn, AUDIT_DOMAIN, { hash: e.hash })) {
      problems.push({ seq: e.seq, problem: 'bad-signature', detail: `not signed by ${e.actor}` });
    } else if (!known(e.actor)) {
      problems.push({
        seq: e.seq,
        problem: 'unknown-identity',
        detail: `signed by ${e.actor}, who is not in the genesis`,
      });
    }
  }
  const heads: { seq?: number; hash: string; from: string }[] = (
    Array.isArray(checkpoints) ? checkpoints : []
  )
    .filter((cp) => {
      const idn = schnorrIdentityOf(cp?.signature?.by ?? '');
      return (
        idn &&
        known(idn.id) &&
        verifySignature(cp.signature, idn, CHECKPOINT_DOMAIN, { seq: cp.seq, hash: cp.hash })
      );
    })
    .map((cp) => ({ seq: cp.seq, hash: cp.hash, from: `checkpoint by ${cp.signature.by}` }));
  if (head) {
    const m = /^(?:(\d+):)?([0-9a-f]{64})$/.exec(head.trim());
    if (!m) throw new MamoriError('E_INPUT', '--head takes <hash> or <seq>:<hash>');
    heads.push({ ...(m[1] ? { seq: Number(m[1]) } : {}), hash: m[2]!, from: '--head' });
  }
  for (const h of heads) {
    const at = es.find((e) => e.hash === h.hash && (h.seq === undefined || e.seq === h.seq));
    if (!at) {
      problems.push({
        seq: h.seq ?? es.length,
        problem: 'truncated',
        detail: `the log no longer holds ${h.hash.slice(0, 12)}… (${h.from}): entries were cut or rewritten`,
      });
    }
  }
  return { ...v, ok: problems.length === 0, problems, checkpoints: heads.length, unsigned };
}

export const AUDIT_EXPORT_FORMAT = 'mamori-custody-audit/1';

/**
 * Verify an `audit export` document offline: no store. Malformed → E_INPUT.
 * @example verifyAuditExport(JSON.parse(text), { head: '41:ab…', genesis: root })
 */
export function verifyAuditExport(doc: unknown, opts: { head?: string; genesis?: TrustRoot } = {}) {
  const d = doc as { format?: string; entries?: unknown; checkpoints?: unknown };
  const entryOk = (e: unknown): e is AuditEntry & { sig: string | null } => {
    const x = e as Record<string, unknown>;
    return (
      !!x &&
      typeof x.seq === 'number' &&
      typeof x.hash === 'string' &&
      typeof x.prev_hash === 'string' &&
      typeof x.actor === 'string' &&
      typeof x.action === 'string' &&
      typeof x.at === 'string' &&
      typeof x.data === 'string'
    );
  };
  if (
    !d ||
    d.format !== AUDIT_EXPORT_FORMAT ||
    !Array.isArray(d.entries) ||
    !d.entries.every(entryOk) ||
    (d.checkpoints !== undefined && !Array.isArray(d.checkpoints))
  ) {
    throw new MamoriError(
      'E_INPUT',
      `not a ${AUDIT_EXPORT_FORMAT} export (truncated or altered?)`,
      {
        details: { reason: 'evidence-malformed' },
      },
    );
  }
  return verifyAuditEntries(
    d.entries.map((e) => ({ ...e, sig: e.sig ?? null })),
    (d.checkpoints as AuditCheckpoint[] | undefined) ?? [],
    opts.head,
    opts.genesis,
  );
}

/**
 * Sign the current head with the acting identity; the checkpoint is kept in the store and
 * returned, to be kept elsewhere too (it is what proves a later truncation).
 * @example const cp = await auditCheckpoint({ ...ctx, signer })
 */
export async function auditCheckpoint(c: CustodyContext): Promise<AuditCheckpoint> {
  if (!c.signer) throw new MamoriError('E_AUTH', 'a checkpoint is signed: pass --as <identity>');
  const es = await entries(c);
  const v = verifyChain(es);
  if (!v.ok) throw new MamoriError('E_FINDINGS', 'the audit log is broken: no checkpoint signed');
  const last = es[es.length - 1];
  if (!last) throw new MamoriError('E_INPUT', 'the audit log is empty');
  const at = new Date(now(c)).toISOString();
  const cp: AuditCheckpoint = {
    seq: last.seq,
    hash: last.hash,
    signature: c.signer.sign(CHECKPOINT_DOMAIN, at, { seq: last.seq, hash: last.hash }),
  };
  const cur = (await getState<AuditCheckpoint[]>(c.store.db, 'audit_checkpoints')) ?? [];
  await setState(c.store.db, 'audit_checkpoints', [...cur, cp]);
  return cp;
}

/** The whole log and its checkpoints, for an outside witness. */
export async function exportAudit(c: CustodyContext) {
  return {
    format: AUDIT_EXPORT_FORMAT,
    entries: await entries(c),
    checkpoints: (await getState<AuditCheckpoint[]>(c.store.db, 'audit_checkpoints')) ?? [],
  };
}
