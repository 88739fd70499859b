/**
 * `npm run bench -- <name> [--quick]`: runs bench/<name>.ts, prints its figures as a table, and
 * records them with the date and machine in docs/bench.md (the section between
 * `<!-- bench:<name> -->` markers is replaced, other sections are kept).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchContext, type BenchFn, type BenchResult, machine } from './lib.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const name = args.find((a) => !a.startsWith('-'));
const quick = args.includes('--quick');
const noRecord = args.includes('--no-record') || quick;

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 1) return n.toFixed(2);
  return n.toPrecision(3);
}

async function main() {
  if (!name || !existsSync(join(root, 'bench', `${name}.ts`))) {
    console.error(
      `usage: npm run bench -- <name> [--quick]   (bench/<name>.ts; got ${name ?? 'nothing'})`,
    );
    process.exit(2);
  }
  let startedPg = false;
  let pgUrl: string | undefined = process.env.MAMORI_TEST_PG;
  const ctx: BenchContext = {
    scale: quick ? 0.1 : 1,
    log: (m) => console.error(`[${name}] ${m}`),
    async postgresUrl() {
      if (!pgUrl) {
        pgUrl = execFileSync(join(root, 'scripts/pg-throwaway.sh'), ['start'], {
          env: { ...process.env, PG_THROWAWAY_DIR: join(root, '.tmp/pg-bench') },
          encoding: 'utf8',
        }).trim();
        startedPg = true;
      }
      return pgUrl;
    },
  };
  const mod = (await import(`./${name}.ts`)) as { run: BenchFn };
  let result: BenchResult;
  try {
    result = await mod.run(ctx);
  } finally {
    if (startedPg) {
      execFileSync(join(root, 'scripts/pg-throwaway.sh'), ['stop'], {
        env: { ...process.env, PG_THROWAWAY_DIR: join(root, '.tmp/pg-bench') },
      });
    }
  }
  const header = ['figure', 'value', 'unit', 'base (same run)', 'base value', 'ratio', 'goal'];
  const rows = result.figures.map((f) => [
    f.name,
    fmt(f.value),
    f.unit,
    f.base,
    fmt(f.baseValue),
    `${fmt(f.ratio)}×`,
    f.goal ? `${f.goal}${f.met === undefined ? '' : f.met ? ' ✓' : ' ✗'}` : '',
  ]);
  const md = [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
  console.log(md);
  for (const n of result.notes ?? []) console.log(`- ${n}`);
  if (noRecord) return;
  const section = [
    `<!-- bench:${name} -->`,
    `## ${name}`,
    '',
    `Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machine()}. \`npm run bench -- ${name}\``,
    '',
    md,
    '',
    ...(result.notes ?? []).map((n) => `- ${n}`),
    `<!-- /bench:${name} -->`,
  ].join('\n');
  const file = join(root, 'docs/bench.md');
  let doc = existsSync(file)
    ? readFileSync(file, 'utf8')
    : '# Benchmarks\n\nEach section is written by `npm run bench -- <name>`; ratios compare with a peer or a limit measured in the same run.\n';
  const re = new RegExp(`<!-- bench:${name} -->[\\s\\S]*?<!-- /bench:${name} -->`);
  doc = re.test(doc) ? doc.replace(re, section) : `${doc.trimEnd()}\n\n${section}\n`;
  writeFileSync(`${file}.tmp`, doc);
  renameSync(`${file}.tmp`, file);
  console.error(`[${name}] recorded in docs/bench.md`);
}

main().catch((err) => {
  console.error(err);
  process.exit(70);
});
