/**
 * Preloaded into a benchmarked command (`node --import ./bench/rss-report.mjs dist/cli/bin.js …`)
 * to report its own peak RSS when it exits, on stderr as one `MAMORI_BENCH_RSS <json>` line, so
 * a figure is the memory of the command users run and nothing else.
 *
 * On Linux the peak is the process image's own high-water mark (`VmHWM` in /proc/self/status),
 * not `getrusage`'s maxRSS: the kernel carries maxRSS over from the forked copy of the parent
 * into the child across exec, so a command spawned by a 265 MB benchmark process reported at
 * least 265 MB whatever it used (a trivial child of a 450 MB parent reported 404 MB; its VmHWM
 * was 39 MB).
 */
import { readFileSync, writeSync } from 'node:fs';

const t0 = performance.now();

function peakKb() {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (hwm) return { maxRssKb: Number(hwm[1]), measure: 'VmHWM' };
  } catch {
    // not Linux
  }
  return { maxRssKb: process.resourceUsage().maxRSS, measure: 'getrusage maxRSS' };
}

process.on('exit', () => {
  const report = { ...peakKb(), ms: performance.now() - t0 };
  writeSync(2, `MAMORI_BENCH_RSS ${JSON.stringify(report)}\n`);
});
