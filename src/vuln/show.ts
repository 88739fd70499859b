/**
 * `vuln show` and `lookup(store, id)`: one vulnerability by any of its names, with every
 * source's text (Japanese and English), CVSS, CWE, affected packages and fixed versions.
 */
import type { Store } from '../storage/index.js';
import { severityRank } from './core/cvss.js';
import type { AffectedRange, PlatformCondition, ProductMatch, Reference } from './core/types.js';

export interface VulnDetail {
  id: string;
  aliases: string[];
  severity: string | null;
  records: {
    source: string;
    id: string;
    title: string | null;
    titleJa: string | null;
    description: string | null;
    descriptionJa: string | null;
    published: string | null;
    modified: string | null;
    registered: string | null;
    withdrawn: string | null;
    severity: string | null;
    cvss: { score: number | null; v2: string | null; v3: string | null; v4: string | null };
    cwes: string[];
    references: Reference[];
  }[];
  affected: {
    ecosystem: string;
    name: string;
    purl: string | null;
    ranges: AffectedRange[];
    versions: string[];
    fixed: string[];
  }[];
  cpes: {
    cpe: string;
    versionStartIncluding: string | null;
    versionStartExcluding: string | null;
    versionEndIncluding: string | null;
    versionEndExcluding: string | null;
    confidence: string;
    /** NVD "running on / with" condition (any clause, all of its matches); null = none. */
    platform: PlatformCondition | null;
  }[];
}

/** @example (await lookup(store, 'GHSA-rgrf-6mf5-m882'))?.id === 'CVE-2024-22194' */
export async function lookup(store: Store, name: string): Promise<VulnDetail | undefined> {
  const q = name.trim();
  let hit = await store.db
    .selectFrom('vuln_alias')
    .select('advisory_id')
    .where('alias', '=', q)
    .executeTakeFirst();
  if (!hit)
    hit = await store.db
      .selectFrom('vuln_alias')
      .select('advisory_id')
      .where('alias', '=', q.toUpperCase())
      .executeTakeFirst();
  if (!hit) return undefined;
  const id = Number(hit.advisory_id);
  const adv = await store.db
    .selectFrom('vuln_advisory')
    .select('primary_id')
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  const aliases = (
    await store.db.selectFrom('vuln_alias').select('alias').where('advisory_id', '=', id).execute()
  )
    .map((a) => a.alias)
    .filter((a) => a !== adv.primary_id)
    .sort();
  const recs = await store.db
    .selectFrom('vuln_record')
    .selectAll()
    .where('advisory_id', '=', id)
    .orderBy('source')
    .orderBy('external_id')
    .execute();
  // An advisory's affected and product rows are its records' (a merge moves them together):
  // found through the record_id indexes, as advisory_id has none on these tables.
  const recordIds = recs.map((r) => Number(r.id));
  const affected = recordIds.length
    ? await store.db
        .selectFrom('vuln_affected')
        .selectAll()
        .where('record_id', 'in', recordIds)
        .where('advisory_id', '=', id)
        .orderBy('id')
        .execute()
    : [];
  const products = recordIds.length
    ? await store.db
        .selectFrom('vuln_product')
        .select(['confidence', 'matches'])
        .where('record_id', 'in', recordIds)
        .where('advisory_id', '=', id)
        .where('vulnerable', '=', 1)
        .orderBy('id')
        .execute()
    : [];
  let severity: string | null = null;
  for (const r of recs)
    if (severityRank(r.severity) > severityRank(severity)) severity = r.severity;
  return {
    id: adv.primary_id,
    aliases,
    severity,
    records: recs.map((r) => ({
      source: r.source,
      id: r.external_id,
      title: r.title,
      titleJa: r.title_ja,
      description: r.description,
      descriptionJa: r.description_ja,
      published: r.published,
      modified: r.modified,
      registered: r.registered,
      withdrawn: r.withdrawn,
      severity: r.severity,
      cvss: {
        score: r.cvss_score10 === null ? null : r.cvss_score10 / 10,
        v2: r.cvss_v2,
        v3: r.cvss_v3,
        v4: r.cvss_v4,
      },
      cwes: JSON.parse(r.cwes) as string[],
      references: JSON.parse(r.refs) as Reference[],
    })),
    affected: affected.map((a) => {
      const ranges = JSON.parse(a.ranges) as AffectedRange[];
      return {
        ecosystem: a.ecosystem,
        name: a.name,
        purl: a.purl,
        ranges,
        versions: JSON.parse(a.versions) as string[],
        fixed: [
          ...new Set(
            ranges
              .filter((r) => r.type !== 'GIT')
              .flatMap((r) => r.events.flatMap((e) => (e.fixed ? [e.fixed] : []))),
          ),
        ],
      };
    }),
    cpes: products.flatMap((p) =>
      (JSON.parse(p.matches) as ProductMatch[]).map((m) => ({
        cpe: m.cpe,
        versionStartIncluding: m.versionStartIncluding ?? null,
        versionStartExcluding: m.versionStartExcluding ?? null,
        versionEndIncluding: m.versionEndIncluding ?? null,
        versionEndExcluding: m.versionEndExcluding ?? null,
        confidence: p.confidence,
        platform: m.platform ?? null,
      })),
    ),
  };
}
