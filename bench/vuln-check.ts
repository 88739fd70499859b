/**
 * vuln-check: `checkComponents` for a 1,000-component SBOM against a store of replicated real
 * pypa advisories, on SQLite and PostgreSQL: p50/p95 latency (coverage and the severity fill-in
 * included), and the ratio to the bare indexed lookups (the same (ecosystem, name) queries
 * alone) measured in the same run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { parse as parseYaml } from 'yaml';
import { openDb, type Store } from '../src/storage/index.js';
import { normalizeOsv } from '../src/vuln/core/osv.js';
import type { VulnRecord } from '../src/vuln/core/types.js';
import { type Component, checkComponents } from '../src/vuln/index.js';
import { inputEntries } from '../src/vuln/input.js';
import { upsertBatch } from '../src/vuln/store.js';
import { type BenchFn, type Figure, percentile } from './lib.js';

const PYPA = join(import.meta.dirname, '..', '..', 'shared', 'vectors', 'vuln', 'osv', 'pypa');

/** Issue 16: a check with coverage and the severity fill-in stays within 250 ms at p95. */
const LIMIT_MS = 250;

export const run: BenchFn = async (ctx) => {
  const advisories = Math.round(250_000 * ctx.scale);
  const rounds = 20;
  const seeds: VulnRecord[] = [];
  for await (const e of inputEntries(PYPA))
    seeds.push(normalizeOsv(parseYaml(new TextDecoder().decode(e.bytes))));
  const replica = (i: number): VulnRecord => {
    const s = seeds[i % seeds.length]!;
    const r = Math.floor(i / seeds.length);
    return {
      ...s,
      id: `PYSEC-C${r}-${s.id}`,
      aliases: s.aliases.map((a) => `${a}-r${r}`),
      affected: s.affected.map((a) => ({ ...a, name: `${a.name}-r${r}` })),
    };
  };
  // 1,000 components: 800 replicated package names at an old version (mostly affected), 200 unknown.
  const names = [...new Set(seeds.flatMap((s) => s.affected.map((a) => a.name)))];
  const replicas = Math.ceil(advisories / seeds.length);
  const components: Component[] = Array.from({ length: 1000 }, (_, i) =>
    i < 800
      ? {
          name: `${names[(i * 7) % names.length]}-r${i % replicas}`,
          version: '0.0.1',
          ecosystem: 'PyPI',
        }
      : { name: `not-in-the-store-${i}`, version: '1.0.0', ecosystem: 'PyPI' },
  );
  const keys = [...new Set(components.map((c) => c.name.toLowerCase().replace(/[-_.]+/g, '-')))];
  const figures: Figure[] = [];
  const notes: string[] = [];
  // The machine is shared: its load beside the figures says how much they can be trusted.
  const loadAtStart = loadavg()[0]!;
  const dir = mkdtempSync(join(tmpdir(), 'mamori-bench-check-'));
  const pgBase = await ctx.postgresUrl();
  const pgName = `mamori_bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: pgBase });
  await admin.connect();
  await admin.query(`drop database if exists ${pgName}`);
  await admin.query(`create database ${pgName}`);
  const pgUrl = new URL(pgBase);
  pgUrl.pathname = `/${pgName}`;
  try {
    for (const [backend, spec] of [
      ['SQLite', join(dir, 'check.db')],
      ['PostgreSQL', pgUrl.toString()],
    ] as const) {
      const store: Store = await openDb(spec);
      try {
        const t0 = performance.now();
        for (let i = 0; i < advisories; i += 2000) {
          await upsertBatch(
            store,
            Array.from({ length: Math.min(2000, advisories - i) }, (_, j) => replica(i + j)),
          );
        }
        ctx.log(
          `${backend}: loaded ${advisories} advisories in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
        );
        const bare: number[] = [];
        const full: number[] = [];
        let findings = 0;
        let unknown = 0;
        let coverage = '';
        for (let r = 0; r < rounds + 2; r++) {
          const b0 = performance.now();
          for (let i = 0; i < keys.length; i += 500) {
            await store.db
              .selectFrom('vuln_affected')
              .select(['advisory_id', 'ranges', 'versions'])
              .where('eco_key', '=', 'pypi')
              .where('name_key', 'in', keys.slice(i, i + 500))
              .execute();
          }
          const b = performance.now() - b0;
          const f0 = performance.now();
          const res = await checkComponents(store, components);
          const f = performance.now() - f0;
          if (r >= 2) {
            bare.push(b);
            full.push(f);
          }
          findings = res.findings.length;
          unknown = res.findings.filter((x) => x.vulnerability.severity === null).length;
          coverage = res.coverage
            .map(
              (c) =>
                `${c.ecosystem} ${c.covered ? `covered by ${c.sources.map((x) => x.source).join('+')}` : 'NOT covered'}`,
            )
            .join(', ');
        }
        const p50 = percentile(full, 50);
        const p95 = percentile(full, 95);
        const b50 = percentile(bare, 50);
        figures.push({
          name: `check 1,000 components, ${backend}, p50`,
          value: p50,
          unit: 'ms',
          base: 'bare indexed lookups p50',
          baseValue: b50,
          ratio: p50 / b50,
        });
        // Issue 16's goal is on SQLite; PostgreSQL is shown against the same limit.
        figures.push({
          name: `check 1,000 components, ${backend}, p95`,
          value: p95,
          unit: 'ms',
          base: 'limit',
          baseValue: LIMIT_MS,
          ratio: p95 / LIMIT_MS,
          ...(backend === 'SQLite' ? { goal: 'p95 ≤ 250 ms', met: p95 <= LIMIT_MS } : {}),
        });
        notes.push(
          `${backend}: ${findings} findings per run (${unknown} of unknown severity), coverage ${coverage}, ${rounds} timed runs after 2 warm-up runs`,
        );
      } finally {
        await store.close();
      }
    }
    notes.push(
      `load average (1 min) ${loadAtStart.toFixed(1)} at the start and ${loadavg()[0]!.toFixed(1)} at the end, on ${availableParallelism()} cores: other sessions share this machine, so absolute times are noisy; the ratio to the bare lookups of the same run is the steadier figure`,
    );
    notes.push(
      `store: ${advisories.toLocaleString('en')} advisories replicated from the 2,661 real pypa records (package names suffixed per replica); SBOM: 800 components named like replicated packages at version 0.0.1, 200 unknown`,
    );
  } finally {
    await admin.query(`drop database if exists ${pgName} with (force)`);
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  }
  return { figures, notes };
};
