/**
 * Preloaded into a benchmarked command (`node --import ./bench/rss-report.mjs dist/cli/bin.js …`)
 * to report its own peak RSS when it exits, on stderr as one `MAMORI_BENCH_RSS <json>` line, so
 * a figure is the memory of the command users run and nothing else.
 */
import { writeSync } from 'node:fs';

const t0 = performance.now();
process.on('exit', () => {
  const report = { maxRssKb: process.resourceUsage().maxRSS, ms: performance.now() - t0 };
  writeSync(2, `MAMORI_BENCH_RSS ${JSON.stringify(report)}\n`);
});
