/**
 * Row types of the vuln area's tables (all prefixed `vuln_`), for Kysely. Types only.
 * The tables themselves are created by `src/storage/migrations/vuln.ts`.
 *
 * One vulnerability is one `vuln_advisory` with many names (`vuln_alias`); each source's own
 * text of it is one `vuln_record` (natural key `source`, `external_id`), which owns its
 * affected packages (`vuln_affected`) and CPE matches by product (`vuln_product`).
 */
import type { Generated } from 'kysely';

export interface VulnAdvisoryTable {
  id: Generated<number>;
  /** The name shown first: a CVE when one is known, else the first id seen. */
  primary_id: string;
  created: string;
  updated: string;
}

export interface VulnAliasTable {
  alias: string;
  advisory_id: number;
}

export interface VulnRecordTable {
  id: Generated<number>;
  advisory_id: number;
  /** osv | nvd | jvn */
  source: string;
  external_id: string;
  title: string | null;
  title_ja: string | null;
  description: string | null;
  description_ja: string | null;
  published: string | null;
  modified: string | null;
  /** Registration time (JVN: DateFirstPublished / dcterms:issued), ISO UTC. */
  registered: string | null;
  withdrawn: string | null;
  /** low | medium | high | critical | null */
  severity: string | null;
  /** Highest CVSS base score × 10, as an integer (9.8 → 98). */
  cvss_score10: number | null;
  cvss_v2: string | null;
  cvss_v3: string | null;
  cvss_v4: string | null;
  /** JSON array of "CWE-79" strings. */
  cwes: string;
  /** JSON array of { type, url }. */
  refs: string;
  /** JSON array of every id and alias in the record. */
  aliases: string;
  content_hash: string;
}

export interface VulnAffectedTable {
  id: Generated<number>;
  record_id: number;
  advisory_id: number;
  /** As the source spells it: "PyPI", "Debian:12". */
  ecosystem: string;
  /** Lower-case family for lookups: "pypi", "debian". */
  eco_key: string;
  /** Normalised package name for lookups (PEP 503 for PyPI, lower-case elsewhere). */
  name_key: string;
  name: string;
  purl: string | null;
  /** JSON array of OSV ranges { type, repo?, events[] } (GIT kept). */
  ranges: string;
  /** JSON array of explicit affected versions. */
  versions: string;
}

/**
 * One product a record's CPE matches name, with all of that product's match criteria: NVD
 * lists a product's version ranges as separate matches, and `check` looks matches up by
 * (vendor, product), so they are stored together.
 */
export interface VulnProductTable {
  id: Generated<number>;
  record_id: number;
  advisory_id: number;
  vendor: string;
  product: string;
  /** 1 = vulnerable configuration, 0 = running-on/platform. */
  vulnerable: number;
  /** high (NVD configurations) | low (JVN vendor/product). */
  confidence: string;
  /**
   * JSON array of ProductMatch (`{ cpe, versionStartIncluding?, …, platform? }`) in the
   * source's order. `platform` is the PlatformCondition (`[[{ cpe, version bounds, negate? }]]`,
   * disjunctive normal form): the other CPEs the NVD configuration needs beside this one.
   */
  matches: string;
}

export interface VulnSyncStateTable {
  source: string;
  key: string;
  value: string;
}

/** One `vuln check` run (history is kept; the newest run is "the last check"). */
export interface VulnCheckRunTable {
  id: Generated<number>;
  /** ISO-8601 UTC. */
  time: string;
  /** cli | api */
  origin: string;
  /** JSON array of the inventory names checked (file paths, "/var/lib/dpkg/status", "inventory"). */
  inventories: string;
  components: number;
  findings: number;
  unsupported: number;
  /**
   * JSON array of the run's coverage per ecosystem (`EcosystemCoverage`); null for runs
   * recorded before migration `20261204_01_vuln_check_coverage`.
   */
  coverage: string | null;
}

/** One finding of a run: a package of the inventory affected by a vulnerability. */
export interface VulnCheckFindingTable {
  id: Generated<number>;
  run_id: number;
  /** The vulnerability's primary id at check time. */
  vuln_id: string;
  /** JSON array of the other names (CVE, GHSA, PYSEC, JVNDB …). */
  aliases: string;
  package_name: string;
  package_version: string;
  ecosystem: string;
  purl: string | null;
  severity: string | null;
  /** JSON array of versions to update to; empty = no fix yet. */
  fixed: string;
  /** high | medium | low */
  confidence: string;
  source: string;
  /**
   * JSON array of the open platform conditions of a medium NVD finding; null = none (and for
   * runs recorded before migration `20261126_02_vuln_check_conditions`).
   */
  conditions: string | null;
}

export interface VulnTables {
  vuln_advisory: VulnAdvisoryTable;
  vuln_alias: VulnAliasTable;
  vuln_record: VulnRecordTable;
  vuln_affected: VulnAffectedTable;
  vuln_product: VulnProductTable;
  vuln_sync_state: VulnSyncStateTable;
  vuln_check_run: VulnCheckRunTable;
  vuln_check_finding: VulnCheckFindingTable;
}
