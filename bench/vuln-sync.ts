/**
 * vuln-sync: records/s of `vuln sync` for OSV (the real pypa YAML database), NVD (API 2.0
 * pages) and JVN (VULDEF XML) input, each as a ratio to the bare parse rate of the same bytes in
 * the same run; and the peak RSS of a sync of a large zip of replicated real OSV records, in a
 * child process, at two input sizes (memory must not grow with input).
 */
import { execFileSync } from 'node:child_process';
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
  const s = await syncFrom(store, { source, from, batchSize: 1000 });
  const perSec = s.records / ((performance.now() - t0) / 1000);
  await store.close();
  return { n: s.records, errors: s.errors.length, perSec };
}

export const run: BenchFn = async (ctx) => {
  const dir = mkdtempSync(join(tmpdir(), 'mamori-bench-sync-'));
  const figures: Figure[] = [];
  const notes: string[] = [];
  try {
    // Inputs: pypa as is; NVD pages and JVN VULDEF made by replicating real records.
    const pypa = join(VECTORS, 'osv', 'pypa');
    const nvdDir = join(dir, 'nvd');
    mkdirSync(nvdDir);
    const nvdCount = Math.round(20_000 * ctx.scale);
    const cve = (i: number) => ({
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
    });
    for (let p = 0; p * 2000 < nvdCount; p++) {
      const vulns = Array.from({ length: Math.min(2000, nvdCount - p * 2000) }, (_, j) =>
        cve(p * 2000 + j),
      );
      writeFileSync(
        join(nvdDir, `page-${p}.json`),
        JSON.stringify({
          resultsPerPage: vulns.length,
          startIndex: p * 2000,
          totalResults: nvdCount,
          vulnerabilities: vulns,
        }),
      );
    }
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
      { label: 'NVD (API 2.0 JSON)', source: 'nvd' as const, from: nvdDir, parse: parseNvdEntry },
      { label: 'JVN (VULDEF XML)', source: 'jvn' as const, from: jvnDir, parse: parseJvnEntry },
    ];
    for (const input of inputs) {
      await parseRate(input.from, input.parse); // warm the file cache and the JIT for both runs
      const bare = await parseRate(input.from, input.parse);
      const synced = await syncRate(input.from, input.source, dir);
      ctx.log(
        `${input.label}: ${synced.n} records, parse ${bare.perSec.toFixed(0)}/s, sync ${synced.perSec.toFixed(0)}/s`,
      );
      const ratio = synced.perSec / bare.perSec;
      figures.push({
        name: `sync ${input.label}, SQLite`,
        value: synced.perSec,
        unit: 'records/s',
        base: 'bare parse of the same bytes',
        baseValue: bare.perSec,
        ratio,
        goal: '≥ 0.5',
        met: ratio >= 0.5,
      });
      if (synced.errors) notes.push(`${input.label}: ${synced.errors} malformed records`);
    }

    // Peak RSS: a zip of replicated real pypa records (as JSON), synced in a child process.
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
    const child = (zip: string, heapMb?: number) => {
      const flags = heapMb ? [`--max-old-space-size=${heapMb}`] : [];
      const out = execFileSync(
        process.execPath,
        [
          ...flags,
          '--import',
          'tsx',
          join(import.meta.dirname, 'vuln-rss-child.ts'),
          join(dir, `rss-${Date.now()}.db`),
          'osv',
          zip,
        ],
        { encoding: 'utf8', maxBuffer: 1 << 20 },
      );
      return JSON.parse(out.trim().split('\n').pop()!) as {
        records: number;
        ms: number;
        maxRssKb: number;
      };
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
      `inputs: pypa (2,661 YAML files), ${nvdCount} NVD CVEs in 2,000-record pages, ${jvnCount} JVN Vulinfo in 1,000-entry VULDEF files (replicated from the MyJVN examples)`,
      `RSS input: ${inMb(large.bytes)} MB of uncompressed OSV JSON (${large.records} replicated pypa records, ${(statSync(large.path).size / 1e6).toFixed(0)} MB deflated zip, streamed to a temp dir and deleted afterwards), synced in a child process in ${(rl.ms / 60000).toFixed(1)} min (${(rl.records / (rl.ms / 1000)).toFixed(0)} records/s); the ${inMb(small.bytes)} MB run peaked at ${mb(rs.maxRssKb).toFixed(0)} MB`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { figures, notes };
};
