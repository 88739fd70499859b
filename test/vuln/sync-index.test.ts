/**
 * Deferred lookup indexes: a sync into empty tables builds `vuln_affected_pkg` and
 * `vuln_product_lookup` once at its end (also when interrupted), a sync into a filled store keeps
 * them throughout, and `check` rebuilds one a killed sync left unbuilt. Plus the content hash
 * the store compares on re-sync: it follows exactly the stored values.
 */
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MamoriError } from '../../src/shared/errors.js';
import type { Progress } from '../../src/shared/progress.js';
import type { Store } from '../../src/storage/index.js';
import { checkComponents, syncFrom, type VulnRecord } from '../../src/vuln/index.js';
import { prepareRecord } from '../../src/vuln/prepare.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';
import { vector } from '../helpers/vectors.js';

const pypa = vector('vuln/osv/pypa');
const LOOKUPS = ['vuln_affected_pkg', 'vuln_product_lookup'];

async function lookupIndexes(store: Store): Promise<string[]> {
  const q =
    store.backend === 'postgres'
      ? sql<{ name: string }>`select indexname as name from pg_indexes`
      : sql<{ name: string }>`select name from sqlite_master where type = 'index'`;
  const { rows } = await q.execute(store.db);
  return rows
    .map((r) => r.name)
    .filter((n) => LOOKUPS.includes(n))
    .sort();
}

/** A progress that records the lookup indexes present after each committed batch. */
function watching(store: Store, onTick?: (n: number) => void) {
  const seen: string[][] = [];
  const pending: Promise<void>[] = [];
  let n = 0;
  const progress: Progress = {
    tick: () => {
      pending.push(lookupIndexes(store).then((x) => void seen.push(x)));
      onTick?.(++n);
    },
    setTotal: () => {},
    done: () => {},
  };
  const settled = async () => {
    await Promise.all(pending);
    return seen;
  };
  return { progress, seen: settled };
}

/** Sync pypa in 500-record batches; its summary and the indexes seen after each batch. */
async function syncWatched(store: Store) {
  const w = watching(store);
  const s = await syncFrom(store, {
    source: 'osv',
    from: pypa,
    batchSize: 500,
    progress: w.progress,
  });
  return [s, await w.seen()] as const;
}

for (const backend of testBackends()) {
  describe(`sync lookup indexes (${backend})`, () => {
    let t: TestStore;
    beforeEach(async () => {
      t = await freshStore(backend);
    });
    afterEach(async () => {
      await t.cleanup();
    });

    it('a first sync builds them at its end; a sync into a filled store keeps them', async () => {
      expect(await lookupIndexes(t.store)).toEqual(LOOKUPS);
      const [s, during] = await syncWatched(t.store);
      expect(s.errors).toEqual([]);
      expect(during.length).toBeGreaterThan(2);
      // deferred while the empty tables filled (a tick's read may land after the last batch)
      expect(during[0]).toEqual([]);
      expect(await lookupIndexes(t.store)).toEqual(LOOKUPS);

      const [s2, again] = await syncWatched(t.store);
      expect(s2.unchanged).toBe(s.added);
      // vuln_affected is filled: its index stays; vuln_product is still empty: deferred again
      expect(again[0]).toEqual(['vuln_affected_pkg']);
      for (const x of again) expect(x).toContain('vuln_affected_pkg');
      expect(await lookupIndexes(t.store)).toEqual(LOOKUPS);

      const { findings } = await checkComponents(t.store, [
        { name: 'Flask', version: '2.3.1', ecosystem: 'PyPI' },
      ]);
      expect(findings.map((f) => f.vulnerability.id)).toContain('CVE-2023-30861');
    });

    it('an interrupted first sync still leaves them built over what it committed', async () => {
      const ac = new AbortController();
      const w = watching(t.store, (n) => {
        if (n === 2) ac.abort();
      });
      const err = await syncFrom(t.store, {
        source: 'osv',
        from: pypa,
        batchSize: 100,
        signal: ac.signal,
        progress: w.progress,
      }).catch((e: unknown) => e);
      await w.seen();
      expect((err as MamoriError).code).toBe('E_INTERRUPTED');
      expect(await lookupIndexes(t.store)).toEqual(LOOKUPS);
    });

    it('check rebuilds an index a killed sync left unbuilt', async () => {
      await syncFrom(t.store, { source: 'osv', from: pypa });
      // what a sync killed between its first batch and its end leaves behind
      await t.store.db.schema.dropIndex('vuln_affected_pkg').execute();
      expect(await lookupIndexes(t.store)).toEqual(['vuln_product_lookup']);
      const { findings } = await checkComponents(t.store, [
        { name: 'requests', version: '2.19.1', ecosystem: 'PyPI' },
      ]);
      expect(findings.map((f) => f.vulnerability.id)).toEqual(
        expect.arrayContaining(['CVE-2018-18074', 'CVE-2023-32681']),
      );
      expect(await lookupIndexes(t.store)).toEqual(LOOKUPS);
    });
  });
}

describe('content hash', () => {
  const base: VulnRecord = {
    source: 'nvd',
    id: 'CVE-2021-44228',
    aliases: [],
    title: 'Log4Shell',
    description: 'Apache Log4j2 JNDI features do not protect against attacker controlled LDAP',
    published: '2021-12-10T10:15:09Z',
    modified: '2025-02-04T15:15:13Z',
    severity: 'critical',
    cvssScore10: 100,
    cvssV3: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H',
    cwes: ['CWE-917'],
    references: [{ type: 'WEB', url: 'https://logging.apache.org/log4j/2.x/security.html' }],
    affected: [],
    cpes: [
      {
        cpe: 'cpe:2.3:a:apache:log4j:*:*:*:*:*:*:*:*',
        versionStartIncluding: '2.13.0',
        versionEndExcluding: '2.15.0',
        vulnerable: true,
        confidence: 'high',
      },
    ],
  } as VulnRecord;
  const hash = (r: VulnRecord) => prepareRecord(r).hash;

  it('is the same for the same stored values and changes with any of them', () => {
    expect(hash(structuredClone(base))).toBe(hash(base));
    const variants: VulnRecord[] = [
      { ...base, description: `${base.description}.` },
      { ...base, references: [...base.references, { type: 'FIX', url: 'https://x.test/' }] },
      { ...base, cpes: [{ ...base.cpes[0]!, versionEndExcluding: '2.15.1' }] },
      {
        ...base,
        cpes: [...base.cpes, { ...base.cpes[0]!, cpe: 'cpe:2.3:a:apache:log4j:2.0:*:*:*:*:*:*:*' }],
      },
      { ...base, aliases: ['GHSA-jfh8-c2jp-5v3q'] },
      { ...base, withdrawn: '2025-01-01T00:00:00Z' },
      { ...base, cvssScore10: 99 },
      // a value moving to the next column is a change, not the same joined text
      { ...base, title: `${base.title}${base.description}`, description: '' },
    ];
    const hashes = variants.map(hash);
    for (const h of hashes) expect(h).not.toBe(hash(base));
    expect(new Set(hashes).size).toBe(hashes.length);
  });
});
