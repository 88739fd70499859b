/**
 * The declared scope in the store: add, list, remove, and the gate every scan and audit passes
 * through before it sends anything. Not the gate's logic: that is core/scope.ts.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { MamoriError } from '../shared/errors.js';
import type { Store } from '../storage/index.js';
import type { Cidr } from './core/cidr.js';
import {
  cidrForbiddenReason,
  formatAddr,
  formatCidr,
  parseAddr,
  parseCidr,
  parseLooseIPv4,
} from './core/cidr.js';
import { assertInScope, directedBroadcasts, type ScopeEntry } from './core/scope.js';

/** Name → addresses (node:dns lookup with all: true by default). */
export type HostLookup = (host: string) => Promise<string[]>;

const systemLookup: HostLookup = async (host) =>
  (await dnsLookup(host, { all: true, verbatim: true })).map((r) => r.address);

const HOSTNAME =
  /^(?=.{1,253}\.?$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

/**
 * Turn every target into addresses or CIDRs the scope can judge: inet_aton forms (2130706433,
 * 0x7f000001, 0177.0.0.1, 127.1) become their dotted address and host names are resolved (all
 * their addresses), so the scope refuses them (E_SCOPE) instead of the parser (E_INPUT).
 * @example await resolveTargets(['127.1']) // ['127.0.0.1']
 */
export async function resolveTargets(
  targets: readonly string[],
  lookup: HostLookup = systemLookup,
): Promise<string[]> {
  const out: string[] = [];
  for (const raw of targets) {
    const t = raw.trim();
    try {
      parseCidr(t);
      out.push(t);
      continue;
    } catch (err) {
      if (t.includes('/') || t.includes(':')) throw err;
      const loose = parseLooseIPv4(t);
      if (loose !== undefined) {
        out.push(formatAddr({ family: 4, value: loose }));
        continue;
      }
      // a name whose last label is all digits is a mistyped address, not a host name
      if (!HOSTNAME.test(t) || /(?:^|\.)\d+\.?$/.test(t)) throw err;
    }
    let addresses: string[];
    try {
      addresses = await lookup(t);
    } catch (cause) {
      throw new MamoriError('E_INPUT', `cannot resolve ${t}`, { cause });
    }
    if (addresses.length === 0) throw new MamoriError('E_INPUT', `${t} has no address`);
    for (const a of addresses) out.push(formatAddr(parseAddr(a)));
  }
  return out;
}

export interface ScopeRow extends ScopeEntry {
  id: number;
  createdAt: string;
}

/**
 * @example await addScope(store, { cidr: '127.0.0.0/8', owner: 'lab', allowCredentials: true })
 */
export async function addScope(
  store: Store,
  entry: ScopeEntry,
  now: () => Date = () => new Date(),
): Promise<ScopeRow> {
  const cidr = parseCidr(entry.cidr);
  const forbidden = cidrForbiddenReason(cidr);
  if (forbidden) {
    throw new MamoriError('E_SCOPE', `refused: ${entry.cidr} is ${forbidden} space`, {
      hint: 'multicast and broadcast space can never be in scope',
    });
  }
  const owner = entry.owner.trim();
  if (!owner) {
    throw new MamoriError('E_USAGE', '--owner is required: who owns or authorised this range', {
      hint: 'mamori exposure scope add 192.0.2.0/24 --owner "ops team"',
    });
  }
  const text = formatCidr(cidr);
  const createdAt = now().toISOString();
  return store.db.transaction().execute(async (trx) => {
    const existing = await trx
      .selectFrom('exposure_scope')
      .selectAll()
      .where('cidr', '=', text)
      .executeTakeFirst();
    if (existing) {
      await trx
        .updateTable('exposure_scope')
        .set({ owner, allow_credentials: entry.allowCredentials ? 1 : 0 })
        .where('id', '=', existing.id)
        .execute();
      return {
        id: Number(existing.id),
        cidr: text,
        owner,
        allowCredentials: entry.allowCredentials,
        createdAt: existing.created_at,
      };
    }
    const row = await trx
      .insertInto('exposure_scope')
      .values({
        cidr: text,
        owner,
        allow_credentials: entry.allowCredentials ? 1 : 0,
        created_at: createdAt,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return {
      id: Number(row.id),
      cidr: text,
      owner,
      allowCredentials: entry.allowCredentials,
      createdAt,
    };
  });
}

export async function listScope(store: Store): Promise<ScopeRow[]> {
  const rows = await store.db.selectFrom('exposure_scope').selectAll().orderBy('id').execute();
  return rows.map((r) => ({
    id: Number(r.id),
    cidr: r.cidr,
    owner: r.owner,
    allowCredentials: Number(r.allow_credentials) === 1,
    createdAt: r.created_at,
  }));
}

/** Remove a declared range (by its CIDR). */
export async function removeScope(store: Store, cidrText: string): Promise<boolean> {
  const text = formatCidr(parseCidr(cidrText));
  const r = await store.db.deleteFrom('exposure_scope').where('cidr', '=', text).executeTakeFirst();
  if (Number(r.numDeletedRows) === 0) {
    throw new MamoriError('E_NOT_FOUND', `${text} is not in the scope`, {
      hint: 'mamori exposure scope list',
    });
  }
  return true;
}

/** Load the scope and refuse any target outside it (E_SCOPE), before any packet. */
export async function gateTargets(
  store: Store,
  targets: readonly string[],
  options: { credentials?: boolean; lookup?: HostLookup } = {},
): Promise<{ targets: Cidr[]; scope: Cidr[]; broadcasts: Set<bigint> }> {
  const entries = await listScope(store);
  if (entries.length === 0) {
    throw new MamoriError('E_SCOPE', 'refused: no scope is declared', {
      hint: 'mamori exposure scope add <cidr> --owner <you>  (only ranges you own or may test)',
    });
  }
  const resolved = await resolveTargets(targets, options.lookup);
  const parsed = assertInScope(entries, resolved, options);
  const scope = entries
    .filter((e) => !options.credentials || e.allowCredentials)
    .map((e) => parseCidr(e.cidr));
  return { targets: parsed, scope, broadcasts: directedBroadcasts(entries) };
}
