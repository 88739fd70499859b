/**
 * NVD configurations as NVD defines them: OR and AND nodes, `negate`, the JSON 1.1 `children`
 * nesting, and the "running on / with" platform conditions they give a vulnerable CPE match;
 * then those conditions evaluated against an inventory (met, ruled out, unknown), and end to end
 * through syncFrom + checkComponents on both storage backends, including a store synced before
 * the platform column existed. Fixtures follow real CVE records' configuration shapes, cut to a
 * few matches; each names its CVE.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Component } from '../../src/vuln/core/inventory.js';
import {
  evaluatePlatform,
  osCpeOf,
  platformFacts,
  sameRelease,
} from '../../src/vuln/core/match.js';
import { configurationMatches, fromNvdCve } from '../../src/vuln/core/nvd.js';
import type { PlatformCondition } from '../../src/vuln/core/types.js';
import {
  checkComponents,
  lastCheckFindings,
  matchCpe,
  recordCheckRun,
  syncFrom,
} from '../../src/vuln/index.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';

const cpe = (
  part: string,
  vendor: string,
  product: string,
  version = '*',
  rest = '*:*:*:*:*:*:*',
) => `cpe:2.3:${part}:${vendor}:${product}:${version}:${rest}`;
const vuln = (criteria: string, bounds: Record<string, string> = {}) => ({
  vulnerable: true,
  criteria,
  ...bounds,
});
const runsOn = (criteria: string) => ({ vulnerable: false, criteria });
const or = (...cpeMatch: object[]) => ({ operator: 'OR', negate: false, cpeMatch });

const WINDOWS = cpe('o', 'microsoft', 'windows', '-');
const LINUX = cpe('o', 'linux', 'linux_kernel');

/** CVE-2021-44228 (log4j): a plain OR node, and Siemens firmware AND its hardware. */
const LOG4SHELL_CONFIGS = [
  {
    nodes: [
      or(
        vuln(cpe('a', 'apache', 'log4j'), {
          versionStartIncluding: '2.13.0',
          versionEndExcluding: '2.15.0',
        }),
        vuln(cpe('a', 'apache', 'log4j', '2.0', 'beta9:*:*:*:*:*:*')),
      ),
    ],
  },
  {
    operator: 'AND',
    nodes: [
      or(vuln(cpe('o', 'siemens', 'sppa-t3000_ses3000_firmware'))),
      or(runsOn(cpe('h', 'siemens', 'sppa-t3000_ses3000', '-'))),
    ],
  },
];

/**
 * CVE-2022-26488 (Python's Windows installer): python ranges AND running on
 * `o:microsoft:windows:-`; a second configuration lists NetApp products on their own.
 */
const PYTHON_ON_WINDOWS_CONFIGS = [
  {
    operator: 'AND',
    nodes: [
      or(
        vuln(cpe('a', 'python', 'python'), { versionEndIncluding: '3.7.12' }),
        vuln(cpe('a', 'python', 'python'), {
          versionStartIncluding: '3.9.0',
          versionEndIncluding: '3.9.10',
        }),
        vuln(cpe('a', 'python', 'python', '3.11.0', 'alpha1:*:*:*:*:*:*')),
      ),
      or(runsOn(WINDOWS)),
    ],
  },
  {
    nodes: [
      or(
        vuln(cpe('a', 'netapp', 'active_iq_unified_manager', '-', '*:*:*:*:windows:*:*')),
        vuln(cpe('a', 'netapp', 'ontap_select_deploy_administration_utility', '-')),
      ),
    ],
  },
];

/**
 * CVE-2018-1458 (IBM DB2): the same vulnerable matches in two configurations, one running on
 * `o:linux:linux_kernel:*`, one on `o:microsoft:windows:-` (as quoted in
 * https://github.com/ossf/cve-bin-tool/issues/3136).
 */
const DB2_CONFIGS = [LINUX, WINDOWS].map((platform) => ({
  operator: 'AND',
  nodes: [
    or(vuln(cpe('a', 'ibm', 'db2', '10.5')), vuln(cpe('a', 'ibm', 'db2', '11.1'))),
    or(runsOn(platform)),
  ],
}));

/**
 * CVE-2020-16022 (Chrome) in the JSON 1.1 feed form: one AND node with `children`, chrome
 * before 87.0.4280.66 running with mac_os or android (the first two platforms of the record,
 * as quoted in https://github.com/facebookincubator/nvdtools/issues/178).
 */
const CHROME_CHILDREN_CONFIGS = [
  {
    nodes: [
      {
        operator: 'AND',
        children: [
          {
            operator: 'OR',
            cpe_match: [
              {
                cpe23Uri: cpe('a', 'google', 'chrome'),
                versionEndExcluding: '87.0.4280.66',
                vulnerable: true,
              },
            ],
          },
          {
            operator: 'OR',
            cpe_match: [
              { cpe23Uri: cpe('o', 'apple', 'mac_os', '-'), vulnerable: false },
              { cpe23Uri: cpe('o', 'google', 'android', '-'), vulnerable: false },
            ],
          },
        ],
      },
    ],
  },
];

/**
 * `negate` as the API 2.0 schema defines it (a node's result inverted). No published record
 * negates a node today, so this follows the schema, not a CVE: an agent vulnerable except on
 * Windows.
 */
const NOT_ON_WINDOWS_CONFIGS = [
  {
    operator: 'AND',
    nodes: [
      or(vuln(cpe('a', 'example', 'agent'), { versionEndExcluding: '2.0' })),
      { operator: 'OR', negate: true, cpeMatch: [runsOn(WINDOWS)] },
    ],
  },
];

describe('NVD configurations → CPE matches with platform conditions', () => {
  it('plain OR nodes: every vulnerable match, no condition (CVE-2021-44228)', () => {
    const m = configurationMatches(LOG4SHELL_CONFIGS);
    expect(m.map((x) => x.cpe)).toEqual([
      cpe('a', 'apache', 'log4j'),
      cpe('a', 'apache', 'log4j', '2.0', 'beta9:*:*:*:*:*:*'),
      cpe('o', 'siemens', 'sppa-t3000_ses3000_firmware'),
    ]);
    expect(m[0]).toEqual({
      cpe: cpe('a', 'apache', 'log4j'),
      vulnerable: true,
      confidence: 'high',
      versionStartIncluding: '2.13.0',
      versionEndExcluding: '2.15.0',
    });
    expect(m[1]!.platform).toBeUndefined();
    // The non-vulnerable hardware is not a match of its own, only the firmware's condition.
    expect(m[2]!.platform).toEqual([[{ cpe: cpe('h', 'siemens', 'sppa-t3000_ses3000', '-') }]]);
  });

  it('AND with a running-on node: the platform becomes the condition (CVE-2022-26488)', () => {
    const m = configurationMatches(PYTHON_ON_WINDOWS_CONFIGS);
    const python = m.filter((x) => x.cpe.includes(':python:python:'));
    expect(python).toHaveLength(3);
    for (const p of python) expect(p.platform).toEqual([[{ cpe: WINDOWS }]]);
    expect(python[0]!.versionEndIncluding).toBe('3.7.12');
    const netapp = m.filter((x) => x.cpe.includes(':netapp:'));
    expect(netapp.map((x) => x.platform)).toEqual([undefined, undefined]);
  });

  it('one match in two configurations keeps both platforms as alternatives (CVE-2018-1458)', () => {
    const m = configurationMatches(DB2_CONFIGS);
    expect(m.map((x) => x.cpe)).toEqual([
      cpe('a', 'ibm', 'db2', '10.5'),
      cpe('a', 'ibm', 'db2', '11.1'),
    ]);
    for (const x of m) expect(x.platform).toEqual([[{ cpe: LINUX }], [{ cpe: WINDOWS }]]);
  });

  it('JSON 1.1 children and field names (CVE-2020-16022)', () => {
    const m = configurationMatches(CHROME_CHILDREN_CONFIGS);
    expect(m).toEqual([
      {
        cpe: cpe('a', 'google', 'chrome'),
        vulnerable: true,
        confidence: 'high',
        versionEndExcluding: '87.0.4280.66',
        platform: [
          [{ cpe: cpe('o', 'apple', 'mac_os', '-') }],
          [{ cpe: cpe('o', 'google', 'android', '-') }],
        ],
      },
    ]);
  });

  it('negate: a negated platform node is a negated literal; negated vulnerable matches never count', () => {
    expect(configurationMatches(NOT_ON_WINDOWS_CONFIGS)[0]!.platform).toEqual([
      [{ cpe: WINDOWS, negate: true }],
    ]);
    // "Not (agent)" cannot make the agent vulnerable.
    expect(
      configurationMatches([
        { nodes: [{ operator: 'OR', negate: true, cpeMatch: [vuln(cpe('a', 'x', 'y'))] }] },
      ]),
    ).toEqual([]);
    // A negated whole configuration with AND inside: NOT (a AND b) = not a OR not b.
    expect(
      configurationMatches([
        {
          operator: 'AND',
          negate: true,
          nodes: [or(vuln(cpe('a', 'x', 'y'))), or(runsOn(WINDOWS))],
        },
      ]),
    ).toEqual([]);
  });

  it('an AND node inside one configuration: the other literals must all hold', () => {
    const m = configurationMatches([
      {
        nodes: [
          {
            operator: 'AND',
            cpeMatch: [vuln(cpe('a', 'x', 'plugin')), runsOn(cpe('a', 'wordpress', 'wordpress'))],
          },
        ],
      },
    ]);
    expect(m[0]!.platform).toEqual([[{ cpe: cpe('a', 'wordpress', 'wordpress') }]]);
  });

  it('three AND-ed nodes of many platforms: widened to any one platform, not multiplied out', () => {
    const many = (p: string, n: number) =>
      or(...Array.from({ length: n }, (_, i) => runsOn(cpe('h', 'v', `${p}${i}`))));
    const m = configurationMatches([
      {
        operator: 'AND',
        nodes: [
          or(vuln(cpe('a', 'v', 'app')), vuln(cpe('a', 'v', 'app2'))),
          many('x', 30),
          many('y', 30),
        ],
      },
    ]);
    // The other app of the vulnerable node is not a platform of this one.
    expect(m[0]!.platform).toHaveLength(60);
    expect(m[0]!.platform!.flat().some((p) => p.cpe.includes(':app2:'))).toBe(false);
    expect(m[0]!.platform!.every((clause) => clause.length === 1)).toBe(true);
    // Two nodes of 30 × 3 still multiply out exactly.
    const exact = configurationMatches([
      { operator: 'AND', nodes: [or(vuln(cpe('a', 'v', 'app'))), many('x', 30), many('y', 3)] },
    ]);
    expect(exact[0]!.platform).toHaveLength(90);
    expect(exact[0]!.platform![0]).toHaveLength(2);
  });

  it('fromNvdCve stores conditions and leaves unconditional records as they were', () => {
    const rec = fromNvdCve({
      cve: { id: 'CVE-2022-26488', configurations: PYTHON_ON_WINDOWS_CONFIGS },
    });
    expect(rec.cpes).toHaveLength(5);
    expect(JSON.stringify(rec.cpes[3])).toBe(
      JSON.stringify({
        cpe: cpe('a', 'netapp', 'active_iq_unified_manager', '-', '*:*:*:*:windows:*:*'),
        vulnerable: true,
        confidence: 'high',
      }),
    );
  });
});

describe('platform conditions against an inventory', () => {
  const onWindows: PlatformCondition = [[{ cpe: WINDOWS }]];
  const facts = (...cpes: string[]) =>
    platformFacts([
      { name: 'self', version: '1', ecosystem: 'CPE', cpe: cpe('a', 'python', 'python', '3.9.1') },
      ...cpes.map((c) => ({ name: c, version: '*', ecosystem: 'CPE', cpe: c })),
    ]);

  it('met when the inventory names the platform (NA version on the platform = any release)', () => {
    expect(evaluatePlatform(onWindows, facts(cpe('o', 'microsoft', 'windows', '10')), 0)).toEqual({
      verdict: 'met',
      open: [],
    });
  });
  it('unmet when the inventory names other platforms of that part', () => {
    expect(evaluatePlatform(onWindows, facts(cpe('o', 'linux', 'linux_kernel', '6.1')), 0)).toEqual(
      { verdict: 'unmet', open: [] },
    );
  });
  it('unknown when the inventory names no platform of that part (only applications, or itself)', () => {
    expect(evaluatePlatform(onWindows, facts(cpe('a', 'x', 'y', '1')), 0)).toEqual({
      verdict: 'unknown',
      open: [WINDOWS],
    });
    // The matched component itself does not count as naming the inventory's applications.
    expect(
      evaluatePlatform([[{ cpe: cpe('a', 'wordpress', 'wordpress') }]], facts(), 0).verdict,
    ).toBe('unknown');
  });
  it('negated literals flip; unknown stays unknown and is listed with "not"', () => {
    const notWindows: PlatformCondition = [[{ cpe: WINDOWS, negate: true }]];
    expect(
      evaluatePlatform(notWindows, facts(cpe('o', 'microsoft', 'windows', '11')), 0).verdict,
    ).toBe('unmet');
    expect(evaluatePlatform(notWindows, facts(LINUX.replace(':*:', ':6.1:')), 0).verdict).toBe(
      'met',
    );
    expect(evaluatePlatform(notWindows, facts(), 0)).toEqual({
      verdict: 'unknown',
      open: [`not ${WINDOWS}`],
    });
  });
  it('version bounds on a platform, and a known OS with an unknown release', () => {
    const kernel: PlatformCondition = [
      [{ cpe: LINUX, versionStartIncluding: '5.10', versionEndExcluding: '5.15' }],
    ];
    expect(
      evaluatePlatform(kernel, facts(cpe('o', 'linux', 'linux_kernel', '5.12')), 0).verdict,
    ).toBe('met');
    expect(
      evaluatePlatform(kernel, facts(cpe('o', 'linux', 'linux_kernel', '6.1')), 0).verdict,
    ).toBe('unmet');
    expect(evaluatePlatform(kernel, facts(cpe('o', 'linux', 'linux_kernel', '*')), 0)).toEqual({
      verdict: 'unknown',
      open: [`${LINUX} (>= 5.10, < 5.15)`],
    });
  });
  it('the OS of dpkg/apk ecosystems, as NVD names it', () => {
    expect(osCpeOf('Debian:12')).toBe('cpe:2.3:o:debian:debian_linux:12.0:*:*:*:*:*:*:*');
    expect(osCpeOf('Ubuntu')).toBe('cpe:2.3:o:canonical:ubuntu_linux:*:*:*:*:*:*:*:*');
    expect(osCpeOf('Alpine:v3.18')).toBe('cpe:2.3:o:alpinelinux:alpine_linux:3.18:*:*:*:*:*:*:*');
    expect(osCpeOf('PyPI')).toBeUndefined();
    const debian12 = platformFacts([
      { name: 'openssl', version: '3.0.11-1~deb12u2', ecosystem: 'Debian:12' },
    ]);
    const on = (v: string): PlatformCondition => [[{ cpe: cpe('o', 'debian', 'debian_linux', v) }]];
    expect(evaluatePlatform(on('12.0'), debian12).verdict).toBe('met');
    expect(evaluatePlatform(on('11.0'), debian12).verdict).toBe('unmet');
  });
  it('a release named with or without trailing zeros is one platform release (12 = 12.0)', () => {
    // An SBOM names Debian 12 as `debian_linux:12`; NVD's platform is `debian_linux:12.0`.
    const on = (v: string): PlatformCondition => [[{ cpe: cpe('o', 'debian', 'debian_linux', v) }]];
    const sbom = (v: string) => facts(cpe('o', 'debian', 'debian_linux', v));
    expect(evaluatePlatform(on('12.0'), sbom('12'), 0).verdict).toBe('met');
    expect(evaluatePlatform(on('12'), sbom('12.0.0'), 0).verdict).toBe('met');
    expect(evaluatePlatform(on('12.0'), sbom('12.1'), 0).verdict).toBe('unmet');
    expect(evaluatePlatform(on('12.0'), sbom('120'), 0).verdict).toBe('unmet');
    expect(evaluatePlatform(on('1.0'), sbom('10'), 0).verdict).toBe('unmet');
    // not numeric: compared as NISTIR 7696 does, exactly
    expect(evaluatePlatform(on('12.0'), sbom('12.0-rc1'), 0).verdict).toBe('unmet');
    expect(sameRelease('20.04', '20.4')).toBe(false);
    expect(sameRelease('7', '07.0')).toBe(true);
  });
  it('AND clauses: one false literal rules the clause out; any met clause is enough', () => {
    const cond: PlatformCondition = [
      [{ cpe: WINDOWS }, { cpe: cpe('h', 'x', 'board', '-') }],
      [{ cpe: LINUX }],
    ];
    expect(evaluatePlatform(cond, facts(cpe('o', 'microsoft', 'windows', '10')), 0)).toEqual({
      verdict: 'unknown',
      open: [`${WINDOWS} and ${cpe('h', 'x', 'board', '-')}`],
    });
    expect(evaluatePlatform(cond, facts(cpe('o', 'linux', 'linux_kernel', '6.1')), 0).verdict).toBe(
      'met',
    );
  });
});

/**
 * CVE-2022-0543 (redis as Debian packaged it): redis AND running on Ubuntu 20.04 LTS / 21.10
 * or Debian 9.0 / 10.0 / 11.0, the platforms as quoted in anchore/grype-db's NVD transformer
 * (unique_pkg.go); the redis criteria carries no version there, NVD's NA.
 */
const REDIS_ON_DEBIAN_CONFIGS = [
  {
    operator: 'AND',
    nodes: [
      or(vuln(cpe('a', 'redis', 'redis', '-'))),
      or(
        runsOn(cpe('o', 'canonical', 'ubuntu_linux', '20.04', '*:*:*:lts:*:*:*')),
        runsOn(cpe('o', 'canonical', 'ubuntu_linux', '21.10', '*:*:*:-:*:*:*')),
        runsOn(cpe('o', 'debian', 'debian_linux', '9.0')),
        runsOn(cpe('o', 'debian', 'debian_linux', '10.0')),
        runsOn(cpe('o', 'debian', 'debian_linux', '11.0')),
      ),
    ],
  },
];

const record = (id: string, configurations: unknown[]) => ({
  cve: {
    id,
    published: '2022-03-10T17:47:45.383',
    lastModified: '2022-09-03T03:34:19.933',
    vulnStatus: 'Analyzed',
    descriptions: [{ lang: 'en', value: `${id} (configuration fixture)` }],
    metrics: {
      cvssMetricV31: [
        {
          type: 'Primary',
          cvssData: {
            version: '3.1',
            vectorString: 'CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:H/I:H/A:H',
          },
        },
      ],
    },
    configurations,
  },
});

const PAGE = {
  resultsPerPage: 6,
  startIndex: 0,
  totalResults: 6,
  format: 'NVD_CVE',
  version: '2.0',
  timestamp: '2024-01-01T00:00:00.000',
  vulnerabilities: [
    record('CVE-2021-44228', LOG4SHELL_CONFIGS),
    record('CVE-2022-26488', PYTHON_ON_WINDOWS_CONFIGS),
    record('CVE-2018-1458', DB2_CONFIGS),
    record('CVE-2020-16022', CHROME_CHILDREN_CONFIGS),
    record('CVE-2022-0543', REDIS_ON_DEBIAN_CONFIGS),
    // Synthetic id: no published record negates a node (see NOT_ON_WINDOWS_CONFIGS).
    record('CVE-2099-0001', NOT_ON_WINDOWS_CONFIGS),
  ],
};

const comp = (c: string): Component => ({ name: c, version: '*', ecosystem: 'CPE', cpe: c });
const PYTHON = comp(cpe('a', 'python', 'python', '3.9.1'));
const ON_WINDOWS_10 = comp(cpe('o', 'microsoft', 'windows', '10'));
const ON_LINUX = comp(cpe('o', 'linux', 'linux_kernel', '6.1'));

for (const backend of testBackends()) {
  describe(`NVD configurations end to end (${backend})`, () => {
    let t: TestStore;
    let dir: string;
    let file: string;
    beforeEach(async () => {
      t = await freshStore(backend);
      dir = mkdtempSync(join(tmpdir(), 'mamori-nvdcfg-'));
      file = join(dir, 'page.json');
      writeFileSync(file, JSON.stringify(PAGE));
      const s = await syncFrom(t.store, { source: 'nvd', from: file });
      expect(s).toMatchObject({ records: 6, added: 6, errors: [] });
    });
    afterEach(async () => {
      await t.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    /** `id confidence [conditions]` of each finding for one component (by CPE). */
    const check = async (...components: Component[]) => {
      const { findings } = await checkComponents(t.store, components);
      return findings
        .filter((f) => f.package.name === components[0]!.name)
        .map((f) =>
          [f.vulnerability.id, f.confidence, ...(f.conditions ?? [])].join(' ').trimEnd(),
        );
    };

    it('an OR configuration matches on its own, high, with no conditions', async () => {
      expect(await check(comp(cpe('a', 'apache', 'log4j', '2.14.1')))).toEqual([
        'CVE-2021-44228 high',
      ]);
    });

    it('AND with the platform present in the same inventory: high', async () => {
      expect(await check(PYTHON, ON_WINDOWS_10)).toEqual(['CVE-2022-26488 high']);
      // The Siemens firmware with its hardware listed beside it.
      expect(
        await check(
          comp(cpe('o', 'siemens', 'sppa-t3000_ses3000_firmware', '1.0')),
          comp(cpe('h', 'siemens', 'sppa-t3000_ses3000', '-')),
        ),
      ).toEqual(['CVE-2021-44228 high']);
      // One of two running-on alternatives is enough (DB2 on Linux).
      expect(await check(comp(cpe('a', 'ibm', 'db2', '11.1')), ON_LINUX)).toEqual([
        'CVE-2018-1458 high',
      ]);
      // JSON 1.1 children: chrome with android.
      expect(
        await check(
          comp(cpe('a', 'google', 'chrome', '86.0.4240.75')),
          comp(cpe('o', 'google', 'android', '11')),
        ),
      ).toEqual(['CVE-2020-16022 high']);
    });

    it('platform absent from an inventory that names other platforms: no finding', async () => {
      expect(await check(PYTHON, ON_LINUX)).toEqual([]);
      expect(
        await check(comp(cpe('a', 'google', 'chrome', '86.0.4240.75')), ON_WINDOWS_10),
      ).toEqual([]);
      // Out of the version range, the platform does not matter.
      expect(await check(comp(cpe('a', 'python', 'python', '3.10.5')), ON_WINDOWS_10)).toEqual([]);
    });

    it('an inventory without platform information: the finding, medium, with its conditions', async () => {
      expect(await check(PYTHON)).toEqual([
        'CVE-2022-26488 medium cpe:2.3:o:microsoft:windows:-:*:*:*:*:*:*:*',
      ]);
      // Other applications say nothing about the operating system.
      expect(await check(PYTHON, comp(cpe('a', 'apache', 'log4j', '2.17.1')))).toEqual([
        'CVE-2022-26488 medium cpe:2.3:o:microsoft:windows:-:*:*:*:*:*:*:*',
      ]);
      expect(await check(comp(cpe('a', 'ibm', 'db2', '10.5')))).toEqual([
        `CVE-2018-1458 medium ${LINUX} ${WINDOWS}`,
      ]);
      const { findings } = await checkComponents(t.store, [PYTHON]);
      expect(findings[0]).toMatchObject({
        package: { name: PYTHON.name, version: '*', ecosystem: 'CPE', purl: null },
        vulnerability: { id: 'CVE-2022-26488', aliases: [], severity: 'high' },
        fixed: [],
        confidence: 'medium',
        source: 'nvd',
        conditions: [WINDOWS],
      });
      // High findings carry no conditions field at all (the JSON shape is unchanged for them).
      const high = await checkComponents(t.store, [PYTHON, ON_WINDOWS_10]);
      expect(high.findings[0]).not.toHaveProperty('conditions');
    });

    it('negate: vulnerable except on Windows', async () => {
      const agent = comp(cpe('a', 'example', 'agent', '1.4'));
      expect(await check(agent, ON_WINDOWS_10)).toEqual([]);
      expect(await check(agent, ON_LINUX)).toEqual(['CVE-2099-0001 high']);
      expect(await check(agent)).toEqual([`CVE-2099-0001 medium not ${WINDOWS}`]);
    });

    it('the OS from a dpkg status inventory (Debian:N) is a platform', async () => {
      const redis = comp(cpe('a', 'redis', 'redis', '-'));
      const pkg = (release: string): Component => ({
        name: 'openssl',
        version: '1.1.0l-1~deb9u1',
        ecosystem: `Debian:${release}`,
      });
      expect(await check(redis, pkg('9'))).toEqual(['CVE-2022-0543 high']);
      expect(await check(redis, pkg('12'))).toEqual([]);
      // Ubuntu without its release: known OS, unknown version → cannot tell.
      expect(
        await check(redis, { name: 'openssl', version: '1.1.1f-1ubuntu2', ecosystem: 'Ubuntu' }),
      ).toEqual([
        `CVE-2022-0543 medium ${cpe('o', 'canonical', 'ubuntu_linux', '20.04', '*:*:*:lts:*:*:*')} ${cpe('o', 'canonical', 'ubuntu_linux', '21.10', '*:*:*:-:*:*:*')}`,
      ]);
    });

    it('matchCpe takes the host platforms; recorded runs keep medium and the conditions', async () => {
      const py = PYTHON.cpe!;
      expect(await matchCpe(t.store, py)).toMatchObject([
        { id: 'CVE-2022-26488', confidence: 'medium', conditions: [WINDOWS] },
      ]);
      expect(await matchCpe(t.store, py, { platforms: [ON_WINDOWS_10.cpe!] })).toEqual([
        {
          id: 'CVE-2022-26488',
          aliases: [],
          severity: 'high',
          confidence: 'high',
          source: 'nvd',
        },
      ]);
      expect(await matchCpe(t.store, py, { platforms: [ON_LINUX.cpe!] })).toEqual([]);
      const result = await checkComponents(t.store, [PYTHON]);
      await recordCheckRun(t.store, { origin: 'cli', inventories: ['x'], components: 1, result });
      expect(await lastCheckFindings(t.store, ['CVE-2022-26488'])).toMatchObject([
        { id: 'CVE-2022-26488', confidence: 'medium', conditions: [WINDOWS] },
      ]);
      // met on the same inventory: high, and no conditions recorded
      const met = await checkComponents(t.store, [PYTHON, ON_WINDOWS_10]);
      await recordCheckRun(t.store, {
        origin: 'cli',
        inventories: ['y'],
        components: 2,
        result: met,
      });
      const [hit] = await lastCheckFindings(t.store, ['CVE-2022-26488']);
      expect(hit).toMatchObject({ confidence: 'high' });
      expect(hit).not.toHaveProperty('conditions');
    });

    it('a store synced before the platform column: old behaviour, and a re-sync fills it', async () => {
      // What rows written before migration 20261126_01 look like: no condition, and the
      // content hash of the older parse (which had no `platform` in it).
      for (const row of await t.store.db
        .selectFrom('vuln_product')
        .select(['id', 'matches'])
        .execute()) {
        const matches = (JSON.parse(row.matches) as { platform?: unknown }[]).map(
          ({ platform: _, ...m }) => m,
        );
        await t.store.db
          .updateTable('vuln_product')
          .set({ matches: JSON.stringify(matches) })
          .where('id', '=', row.id)
          .execute();
      }
      await t.store.db
        .updateTable('vuln_record')
        .set({ content_hash: 'before-20261126' })
        .execute();
      expect(await check(PYTHON, ON_LINUX)).toEqual(['CVE-2022-26488 high']);
      const again = await syncFrom(t.store, { source: 'nvd', from: file });
      expect(again).toMatchObject({ records: 6, updated: 6, errors: [] });
      expect(await check(PYTHON, ON_LINUX)).toEqual([]);
      expect(await check(PYTHON)).toEqual([`CVE-2022-26488 medium ${WINDOWS}`]);
      const rows = await t.store.db
        .selectFrom('vuln_product')
        .select('matches')
        .where('product', '=', 'log4j')
        .execute();
      expect(rows).toHaveLength(1);
      const matches = JSON.parse(rows[0]!.matches) as { platform?: unknown }[];
      expect(matches).toHaveLength(2);
      expect(matches.map((m) => m.platform)).toEqual([undefined, undefined]);
    });
  });
}
