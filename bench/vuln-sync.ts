/**
 * vuln-sync: records/s of `vuln sync` for OSV (the real pypa YAML database), NVD (API 2.0
 * pages) and JVN (VULDEF XML) input, each as a ratio to the bare parse rate of the same bytes in
 * the same run; and the peak RSS of a sync of a large zip of replicated real OSV records, in a
 * run of the built `mamori vuln sync`, at two input sizes (memory must not grow with input).
 */
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Zip, ZipDeflate } from 'fflate';
import { parse as parseYaml } from 'yaml';
import type { BenchFn, Figure } from './lib.js';

// The built code users run (`npm run bench` builds first): the sync's parse thread is a
// compiled worker there, as in `mamori vuln sync`, and both sides of each ratio run it.
const dist = (p: string) => import(pathToFileURL(join(import.meta.dirname, '..', 'dist', p)).href);
const { openDb } = (await dist('storage/index.js')) as typeof import('../src/storage/index.js');
const { syncFrom } = (await dist('vuln/index.js')) as typeof import('../src/vuln/index.js');
const { inputEntries, parserFor } = (await dist(
  'vuln/input.js',
)) as typeof import('../src/vuln/input.js');
const parseOsvEntry = await parserFor('osv');
const parseNvdEntry = await parserFor('nvd');
const parseJvnEntry = await parserFor('jvn');

const VECTORS = join(import.meta.dirname, '..', '..', 'shared', 'vectors', 'vuln');

async function parseRate(
  from: string,
  parse: (e: { name: string; bytes: Uint8Array }) => Iterable<{ ok: boolean }>,
) {
  const t0 = performance.now();
  let n = 0;
  for await (const e of inputEntries(from)) for (const p of parse(e)) if (p.ok) n++;
  return { n, perSec: n / ((performance.now() - t0) / 1000) };
}

async function syncRate(from: string, source: 'osv' | 'nvd' | 'jvn', dir: string) {
  const store = await openDb(join(dir, `${source}-${Date.now()}.db`));
  const t0 = performance.now();
  const s = await syncFrom(store, { source, from });
  const perSec = s.records / ((performance.now() - t0) / 1000);
  await store.close();
  return { n: s.records, errors: s.errors.length, perSec };
}

/** Rounds of (bare parse, sync) back to back: this shared machine's speed drifts by a third. */
const ROUNDS = 5;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * One NVD CVE API 2.0 record with the fields the API returns for an analysed CVE: source
 * identifier, tags, English and Spanish descriptions, CVSS v3.1 from NVD (Primary) and from the
 * CNA (Secondary) and v2 with every cvssData field, two weaknesses, a configuration of three
 * CPE matches with match-criteria ids and version bounds, and eight tagged references. The
 * texts are those of CVE-2021-44228; ids, vendors and products vary per record.
 */
export function nvdRecord(i: number) {
  const v31 = (source: string, type: string) => ({
    source,
    type,
    cvssData: {
      version: '3.1',
      vectorString: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H',
      baseScore: 10.0,
      baseSeverity: 'CRITICAL',
      attackVector: 'NETWORK',
      attackComplexity: 'LOW',
      privilegesRequired: 'NONE',
      userInteraction: 'NONE',
      scope: 'CHANGED',
      confidentialityImpact: 'HIGH',
      integrityImpact: 'HIGH',
      availabilityImpact: 'HIGH',
    },
    exploitabilityScore: 3.9,
    impactScore: 6.0,
  });
  const uuid = (k: number) =>
    `${(0x10000000 + i * 7 + k).toString(16)}-1c3b-4d2e-9f0a-${(0x100000000000 + i * 13 + k).toString(16)}`;
  // every record its own GHSA id: a shared one would merge all of them into one advisory
  const ghsa = (n: number) => {
    const a = '23456789cfghjmpqrvwx';
    const s = Array.from(
      { length: 12 },
      (_, k) => a[Math.floor(n / a.length ** (k % 6)) % a.length],
    );
    return `GHSA-${s.slice(0, 4).join('')}-${s.slice(4, 8).join('')}-${s.slice(8).join('')}`;
  };
  const vendor = `vendor${i % 997}`;
  const product = `product${i}`;
  return {
    cve: {
      id: `CVE-2099-${String(100000 + i)}`,
      sourceIdentifier: 'security@apache.org',
      published: '2021-12-10T10:15:09.143',
      lastModified: '2025-02-04T15:15:13.773',
      vulnStatus: 'Analyzed',
      cveTags: [],
      descriptions: [
        {
          lang: 'en',
          value: `Apache Log4j2 2.0-beta9 through 2.15.0 (excluding security releases 2.12.2, 2.12.3, and 2.3.1) JNDI features used in configuration, log messages, and parameters do not protect against attacker controlled LDAP and other JNDI related endpoints. An attacker who can control log messages or log message parameters can execute arbitrary code loaded from LDAP servers when message lookup substitution is enabled (${i}).`,
        },
        {
          lang: 'es',
          value: `Las características JNDI de Apache Log4j2 2.0-beta9 hasta 2.15.0 (excluyendo las versiones de seguridad 2.12.2, 2.12.3 y 2.3.1) utilizadas en la configuración, los mensajes de registro y los parámetros no protegen contra LDAP controlado por un atacante y otros endpoints relacionados con JNDI (${i}).`,
        },
      ],
      metrics: {
        cvssMetricV31: [v31('nvd@nist.gov', 'Primary'), v31('security@apache.org', 'Secondary')],
        cvssMetricV2: [
          {
            source: 'nvd@nist.gov',
            type: 'Primary',
            cvssData: {
              version: '2.0',
              vectorString: 'AV:N/AC:M/Au:N/C:C/I:C/A:C',
              baseScore: 9.3,
              accessVector: 'NETWORK',
              accessComplexity: 'MEDIUM',
              authentication: 'NONE',
              confidentialityImpact: 'COMPLETE',
              integrityImpact: 'COMPLETE',
              availabilityImpact: 'COMPLETE',
            },
            baseSeverity: 'HIGH',
            exploitabilityScore: 8.6,
            impactScore: 10.0,
            acInsufInfo: false,
            obtainAllPrivilege: false,
            obtainUserPrivilege: false,
            obtainOtherPrivilege: false,
            userInteractionRequired: false,
          },
        ],
      },
      weaknesses: [
        {
          source: 'security@apache.org',
          type: 'Secondary',
          description: [{ lang: 'en', value: 'CWE-917' }],
        },
        {
          source: 'nvd@nist.gov',
          type: 'Primary',
          description: [{ lang: 'en', value: 'CWE-502' }],
        },
      ],
      configurations: [
        {
          nodes: [
            {
              operator: 'OR',
              negate: false,
              cpeMatch: [
                ['2.0.1', '2.3.1'],
                ['2.4.0', '2.12.2'],
                ['2.13.0', '2.15.0'],
              ].map(([from, to], k) => ({
                vulnerable: true,
                criteria: `cpe:2.3:a:${vendor}:${product}:*:*:*:*:*:*:*:*`,
                versionStartIncluding: from,
                versionEndExcluding: to,
                matchCriteriaId: uuid(k).toUpperCase(),
              })),
            },
          ],
        },
      ],
      references: [
        [
          'https://logging.apache.org/log4j/2.x/security.html',
          ['Release Notes', 'Vendor Advisory'],
        ],
        [
          'http://www.openwall.com/lists/oss-security/2021/12/10/1',
          ['Mailing List', 'Third Party Advisory'],
        ],
        [`https://github.com/advisories/${ghsa(i)}`, ['Third Party Advisory']],
        [
          'https://www.kb.cert.org/vuls/id/930724',
          ['Third Party Advisory', 'US Government Resource'],
        ],
        [
          'https://cert-portal.siemens.com/productcert/pdf/ssa-661247.pdf',
          ['Third Party Advisory'],
        ],
        ['https://security.netapp.com/advisory/ntap-20211210-0007/', ['Third Party Advisory']],
        [
          'https://tools.cisco.com/security/center/content/CiscoSecurityAdvisory/cisco-sa-apache-log4j-qRuKNEbd',
          ['Third Party Advisory'],
        ],
        [`https://example.org/advisory/${i}`, ['Patch']],
      ].map(([url, tags]) => ({ url, source: 'security@apache.org', tags })),
    },
  };
}

/** The smallest record the parser takes: one description, one metric, one CPE match. */
export function nvdMinimal(i: number) {
  return {
    cve: {
      id: `CVE-2099-${String(100000 + i)}`,
      published: '2021-12-10T10:15:09.143',
      lastModified: '2023-11-07T03:39:36.747',
      vulnStatus: 'Analyzed',
      descriptions: [
        {
          lang: 'en',
          value: `Apache Log4j2 JNDI features do not protect against attacker controlled LDAP (${i})`,
        },
      ],
      metrics: {
        cvssMetricV31: [
          {
            type: 'Primary',
            cvssData: { vectorString: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H' },
          },
        ],
      },
      weaknesses: [{ description: [{ lang: 'en', value: 'CWE-917' }] }],
      configurations: [
        {
          nodes: [
            {
              operator: 'OR',
              cpeMatch: [
                {
                  vulnerable: true,
                  criteria: `cpe:2.3:a:vendor${i % 500}:product${i}:*:*:*:*:*:*:*:*`,
                  versionStartIncluding: '2.0.1',
                  versionEndExcluding: '2.15.0',
                },
              ],
            },
          ],
        },
      ],
      references: [{ url: `https://example.org/advisory/${i}`, tags: ['Patch'] }],
    },
  };
}

export const run: BenchFn = async (ctx) => {
  const dir = mkdtempSync(join(tmpdir(), 'mamori-bench-sync-'));
  const figures: Figure[] = [];
  const notes: string[] = [];
  try {
    // Inputs: pypa as is; NVD pages and JVN VULDEF made by replicating real records.
    const pypa = join(VECTORS, 'osv', 'pypa');
    const nvdCount = Math.round(50_000 * ctx.scale);
    const writeNvdPages = (sub: string, make: (i: number) => unknown) => {
      const out = join(dir, sub);
      mkdirSync(out);
      let bytes = 0;
      for (let p = 0; p * 2000 < nvdCount; p++) {
        const vulns = Array.from({ length: Math.min(2000, nvdCount - p * 2000) }, (_, j) =>
          make(p * 2000 + j),
        );
        const text = JSON.stringify({
          resultsPerPage: vulns.length,
          startIndex: p * 2000,
          totalResults: nvdCount,
          format: 'NVD_CVE',
          version: '2.0',
          timestamp: '2026-11-26T00:00:00.000',
          vulnerabilities: vulns,
        });
        bytes += text.length;
        writeFileSync(join(out, `page-${p}.json`), text);
      }
      return { dir: out, perRecord: bytes / nvdCount };
    };
    const nvdFull = writeNvdPages('nvd', nvdRecord);
    const nvdMin = writeNvdPages('nvd-min', nvdMinimal);
    const jvnDir = join(dir, 'jvn');
    mkdirSync(jvnDir);
    const detail = readFileSync(
      join(VECTORS, 'jvn', 'myjvn-examples', 'hnd', 'dataFeed_jvndb_detail_hnd.xml'),
      'utf8',
    );
    const vulinfos = detail.match(/<Vulinfo>[\s\S]*?<\/Vulinfo>/g) ?? [];
    const head = detail.slice(0, detail.indexOf('<Vulinfo>'));
    const jvnCount = Math.round(10_000 * ctx.scale);
    for (let f = 0; f * 1000 < jvnCount; f++) {
      const body = Array.from({ length: Math.min(1000, jvnCount - f * 1000) }, (_, j) => {
        const i = f * 1000 + j;
        return vulinfos[i % vulinfos.length]!.replace(
          /<VulinfoID>JVNDB-\d{4}-\d+<\/VulinfoID>/,
          `<VulinfoID>JVNDB-2099-${String(100000 + i)}</VulinfoID>`,
        ).replace(/CVE-(\d{4})-(\d+)/g, `CVE-2098-${100000 + i}`);
      }).join('\n');
      writeFileSync(join(jvnDir, `detail-${f}.xml`), `${head}${body}\n</VULDEF-Document>\n`);
    }
    const inputs = [
      { label: 'OSV (pypa YAML)', source: 'osv' as const, from: pypa, parse: parseOsvEntry },
      {
        label: 'NVD (API 2.0 JSON)',
        source: 'nvd' as const,
        from: nvdFull.dir,
        parse: parseNvdEntry,
      },
      {
        label: 'NVD, minimal records',
        source: 'nvd' as const,
        from: nvdMin.dir,
        parse: parseNvdEntry,
        noGoal: true,
      },
      { label: 'JVN (VULDEF XML)', source: 'jvn' as const, from: jvnDir, parse: parseJvnEntry },
    ];
    for (const input of inputs) {
      await parseRate(input.from, input.parse); // warm the file cache and the JIT for both runs
      // Each round's ratio compares a parse and a sync run back to back, into a fresh store;
      // the figure is the median round.
      const rounds: { bare: number; sync: number; n: number; errors: number }[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const bare = await parseRate(input.from, input.parse);
        const synced = await syncRate(input.from, input.source, dir);
        rounds.push({ bare: bare.perSec, sync: synced.perSec, n: synced.n, errors: synced.errors });
        ctx.log(
          `${input.label} round ${r + 1}: ${synced.n} records, parse ${bare.perSec.toFixed(0)}/s, sync ${synced.perSec.toFixed(0)}/s (${(synced.perSec / bare.perSec).toFixed(3)})`,
        );
      }
      const ratio = median(rounds.map((x) => x.sync / x.bare));
      const mid = rounds.find((x) => x.sync / x.bare === ratio)!;
      const bare = { perSec: mid.bare };
      const synced = { perSec: mid.sync, errors: mid.errors };
      figures.push({
        name: `sync ${input.label}, SQLite`,
        value: synced.perSec,
        unit: 'records/s',
        base: 'bare parse of the same bytes',
        baseValue: bare.perSec,
        ratio,
        ...('noGoal' in input ? {} : { goal: '≥ 0.5', met: ratio >= 0.5 }),
      });
      if (synced.errors) notes.push(`${input.label}: ${synced.errors} malformed records`);
    }

    // Peak RSS: a zip of replicated real pypa records (as JSON), synced by the CLI.
    const seeds: unknown[] = [];
    for await (const e of inputEntries(pypa))
      seeds.push(parseYaml(new TextDecoder().decode(e.bytes)));
    // Written entry by entry through fflate's streaming Zip straight to disk, so building a
    // 1 GB input does not need 1 GB of memory here either.
    const makeZip = (targetBytes: number, tag: string) => {
      const path = join(dir, `osv-${tag}.zip`);
      const fd = openSync(path, 'w');
      let failure: Error | undefined;
      const zip = new Zip((err, chunk) => {
        if (err) failure = err;
        else writeSync(fd, chunk);
      });
      let size = 0;
      let i = 0;
      const enc = new TextEncoder();
      while (size < targetBytes) {
        const rec = {
          ...(seeds[i % seeds.length] as Record<string, unknown>),
          id: `PYSEC-${tag}-${i}`,
          aliases: [`CVE-2097-${i}`],
        };
        const bytes = enc.encode(JSON.stringify(rec));
        const entry = new ZipDeflate(`PyPI/PYSEC-${tag}-${i}.json`, { level: 1 });
        zip.add(entry);
        entry.push(bytes, true);
        size += bytes.length;
        i++;
      }
      zip.end();
      closeSync(fd);
      if (failure) throw failure;
      return { path, records: i, bytes: size };
    };
    // The size: ≥ 1 GB of uncompressed record JSON (MAMORI_BENCH_RSS_BYTES overrides).
    const largeBytes = Math.round(Number(process.env.MAMORI_BENCH_RSS_BYTES ?? 1.08e9) * ctx.scale);
    const small = makeZip(Math.round(largeBytes / 10), 's');
    const large = makeZip(largeBytes, 'l');
    // `mamori vuln sync` itself, built, with only a preload that reports its peak RSS on exit.
    const root = join(import.meta.dirname, '..');
    const child = (zip: string) => {
      const r = spawnSync(
        process.execPath,
        [
          '--import',
          pathToFileURL(join(import.meta.dirname, 'rss-report.mjs')).href,
          join(root, 'dist', 'cli', 'bin.js'),
          'vuln',
          'sync',
          '--source',
          'osv',
          '--from',
          zip,
          '--db',
          join(dir, `rss-${Date.now()}.db`),
          '--json',
        ],
        { encoding: 'utf8', maxBuffer: 1 << 24 },
      );
      const line = /^MAMORI_BENCH_RSS (.*)$/m.exec(r.stderr);
      if (r.status !== 0 || !line) throw new Error(`vuln sync failed (${r.status}): ${r.stderr}`);
      const rep = JSON.parse(line[1]!) as { maxRssKb: number; ms: number; measure: string };
      const summary = JSON.parse(r.stdout) as { records: number };
      return { records: summary.records, ms: rep.ms, maxRssKb: rep.maxRssKb, measure: rep.measure };
    };
    const rs = child(small.path);
    rmSync(small.path);
    const rl = child(large.path);
    const mb = (kb: number) => kb / 1024;
    const inMb = (b: number) => (b / 1e6).toFixed(0);
    figures.push({
      name: `peak RSS, ${inMb(large.bytes)} MB OSV zip (${rl.records} records)`,
      value: mb(rl.maxRssKb),
      unit: 'MB',
      base: 'limit',
      baseValue: 300,
      ratio: mb(rl.maxRssKb) / 300,
      goal: '≤ 300 MB',
      met: mb(rl.maxRssKb) <= 300,
    });
    figures.push({
      name: `peak RSS growth, ${inMb(small.bytes)} → ${inMb(large.bytes)} MB input`,
      value: mb(rl.maxRssKb),
      unit: 'MB',
      base: `peak RSS at ${inMb(small.bytes)} MB`,
      baseValue: mb(rs.maxRssKb),
      ratio: rl.maxRssKb / rs.maxRssKb,
      goal: '≈ 1 (streaming)',
    });
    notes.push(
      `each rate figure is the median of ${ROUNDS} rounds of a bare parse and a sync of the same input into a fresh SQLite store, back to back (the ratio of each round's pair, since this shared 2-core VM's speed drifts by up to a third between minutes); default batch of 1,000 records per transaction`,
      `inputs: pypa (2,661 YAML files), ${nvdCount} NVD CVEs in 2,000-record pages (${(nvdFull.perRecord / 1000).toFixed(1)} kB per record with the fields the API returns for an analysed CVE; the minimal form, ${(nvdMin.perRecord / 1000).toFixed(1)} kB, is shown without a goal since it is mostly storage cost), ${jvnCount} JVN Vulinfo in 1,000-entry VULDEF files (replicated from the MyJVN examples)`,
      `RSS input: ${inMb(large.bytes)} MB of uncompressed OSV JSON (${large.records} replicated pypa records, ${(statSync(large.path).size / 1e6).toFixed(0)} MB deflated zip, streamed to a temp dir and deleted afterwards), synced by mamori vuln sync (the built CLI, --json; its peak RSS is ${rl.measure}, the process's own high-water mark, see bench/rss-report.mjs) in ${(rl.ms / 60000).toFixed(1)} min (${(rl.records / (rl.ms / 1000)).toFixed(0)} records/s); the ${inMb(small.bytes)} MB run peaked at ${mb(rs.maxRssKb).toFixed(0)} MB`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { figures, notes };
};
