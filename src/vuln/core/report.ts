/**
 * Renderings of check findings for machines other than ours: SARIF 2.1.0 (code scanning) and
 * a CycloneDX 1.5 VEX document. Pure functions of the findings.
 */

export interface ReportFinding {
  package: { name: string; version: string; ecosystem: string; purl: string | null };
  vulnerability: {
    id: string;
    aliases: string[];
    severity: string | null;
    cvss: { score: number | null; vector: string | null };
  };
  fixed: string[];
  confidence: string;
  source: string;
  /** Open NVD platform conditions of a medium-confidence finding. */
  conditions?: string[];
}

const SARIF_LEVEL: Record<string, string> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
};

/** What a report says of coverage: per ecosystem, covered or not and by which sources. */
export interface ReportCoverage {
  ecosystem: string;
  components: number;
  covered: boolean;
  sources: { source: string; ecosystems: string[]; synced: string | null }[];
  reason?: string;
}

/** @example toSarif(findings, '0.1.0', 'requirements.txt').version === '2.1.0' */
export function toSarif(
  findings: ReportFinding[],
  toolVersion: string,
  artifact: string,
  coverage?: ReportCoverage[],
): Record<string, unknown> {
  const rules = new Map<string, Record<string, unknown>>();
  for (const f of findings) {
    if (rules.has(f.vulnerability.id)) continue;
    rules.set(f.vulnerability.id, {
      id: f.vulnerability.id,
      shortDescription: {
        text: `${f.vulnerability.id} (${[f.vulnerability.id, ...f.vulnerability.aliases].join(', ')})`,
      },
      properties: {
        'security-severity':
          f.vulnerability.cvss.score === null ? undefined : String(f.vulnerability.cvss.score),
        aliases: f.vulnerability.aliases,
      },
    });
  }
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'mamori',
            version: toolVersion,
            informationUri: 'https://github.com/mamori',
            rules: [...rules.values()],
          },
        },
        // A run with no results is no all-clear for ecosystems it did not cover.
        ...(coverage ? { properties: { coverage } } : {}),
        results: findings.map((f) => ({
          ruleId: f.vulnerability.id,
          level: SARIF_LEVEL[f.vulnerability.severity ?? ''] ?? 'warning',
          message: {
            text: `${f.package.name} ${f.package.version} is affected by ${f.vulnerability.id}; ${f.fixed.length ? `update to ${f.fixed[0]}` : 'no fix yet'}`,
          },
          locations: [{ physicalLocation: { artifactLocation: { uri: artifact } } }],
          properties: {
            purl: f.package.purl,
            fixed: f.fixed,
            confidence: f.confidence,
            source: f.source,
            ...(f.conditions ? { conditions: f.conditions } : {}),
          },
        })),
      },
    ],
  };
}

/** A CycloneDX 1.5 VEX: one vulnerability per id, affecting the components by purl. */
export function toCycloneDxVex(
  findings: ReportFinding[],
  serial: string,
  timestamp: string,
  coverage?: ReportCoverage[],
): Record<string, unknown> {
  const byId = new Map<string, ReportFinding[]>();
  for (const f of findings)
    byId.set(f.vulnerability.id, [...(byId.get(f.vulnerability.id) ?? []), f]);
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    serialNumber: serial,
    version: 1,
    metadata: {
      timestamp,
      tools: { components: [{ type: 'application', name: 'mamori' }] },
      ...(coverage
        ? {
            properties: coverage.map((c) => ({
              name: `mamori:coverage:${c.ecosystem}`,
              value: c.covered
                ? `covered by ${c.sources.map((s) => `${s.source} (synced ${s.synced ?? 'unknown'})`).join(', ')}`
                : `NOT COVERED: ${c.reason ?? 'no advisories synced'} (${c.components} components)`,
            })),
          }
        : {}),
    },
    vulnerabilities: [...byId].map(([id, fs]) => {
      const f = fs[0]!;
      return {
        id,
        references: f.vulnerability.aliases.map((a) => ({
          id: a,
          source: { name: a.split('-')[0] },
        })),
        ratings: f.vulnerability.severity
          ? [
              {
                severity: f.vulnerability.severity,
                ...(f.vulnerability.cvss.score !== null
                  ? { score: f.vulnerability.cvss.score }
                  : {}),
                ...(f.vulnerability.cvss.vector ? { vector: f.vulnerability.cvss.vector } : {}),
              },
            ]
          : [],
        recommendation: f.fixed.length ? `Update to ${f.fixed.join(' or ')}` : 'No fix yet',
        analysis: {
          state: 'in_triage',
          detail: `matched by ${f.source} (${f.confidence} confidence)${f.conditions ? `; only when running on/with ${f.conditions.join(' | ')}` : ''}`,
        },
        affects: fs.map((x) => ({
          ref: x.package.purl ?? `${x.package.ecosystem}/${x.package.name}@${x.package.version}`,
        })),
      };
    }),
  };
}
