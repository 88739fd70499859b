/**
 * The audit log: verification, signed checkpoints and export. Not the append: see
 * `context.ts`.
 */
import type { CustodyContext } from './context.js';
import { type AuditEntry, verifyChain } from './core/audit.js';

export async function verifyAudit(c: CustodyContext) {
  const rows = await c.store.db.selectFrom('custody_audit').selectAll().orderBy('seq').execute();
  const entries: AuditEntry[] = rows.map((r) => ({ ...r, seq: Number(r.seq) }));
  return verifyChain(entries);
}
