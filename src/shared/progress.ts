/**
 * Progress for long work: a redrawn bar on a TTY, nothing at all when piped or with --json.
 * Not a logger: it writes only to the stream it is given (stderr), and only when enabled.
 */

export interface Progress {
  /** Add `n` done units (default 1); `note` replaces the trailing text. */
  tick(n?: number, note?: string): void;
  /** Change the total when it becomes known. */
  setTotal(total: number | undefined): void;
  /** Clear the line. */
  done(summary?: string): void;
}

export interface ProgressOptions {
  label: string;
  total?: number | undefined;
  /** Stream to draw on; defaults to process.stderr. */
  stream?: { isTTY?: boolean; columns?: number; write(s: string): unknown };
  /** Force off (e.g. --json). When undefined: on iff the stream is a TTY. */
  enabled?: boolean;
  /** Minimum ms between redraws. */
  intervalMs?: number;
  now?: () => number;
}

export const noProgress: Progress = { tick() {}, setTotal() {}, done() {} };

/**
 * @example
 * const p = createProgress({ label: 'sync osv', total: files.length, enabled: !json });
 * for (const f of files) { await load(f); p.tick(); }
 * p.done('2,613 records');
 */
export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const enabled = (options.enabled ?? true) && Boolean(stream.isTTY);
  if (!enabled) return noProgress;
  const now = options.now ?? Date.now;
  const interval = options.intervalMs ?? 100;
  const started = now();
  let total = options.total;
  let count = 0;
  let note = '';
  let last = 0;
  const draw = (force = false) => {
    const t = now();
    if (!force && t - last < interval) return;
    last = t;
    const width = Math.max(20, (stream.columns ?? 80) - 1);
    const rate = count / Math.max(0.001, (t - started) / 1000);
    let line: string;
    if (total && total > 0) {
      const frac = Math.min(1, count / total);
      const barWidth = 20;
      const filled = Math.round(frac * barWidth);
      line = `${options.label} [${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ${count}/${total} ${(frac * 100).toFixed(0)}% ${rate.toFixed(0)}/s ${note}`;
    } else {
      line = `${options.label} ${count} ${rate.toFixed(0)}/s ${note}`;
    }
    stream.write(`\r${line.slice(0, width).padEnd(width)}`);
  };
  return {
    tick(n = 1, newNote) {
      count += n;
      if (newNote !== undefined) note = newNote;
      draw();
    },
    setTotal(t) {
      total = t;
      draw(true);
    },
    done(summary) {
      const width = Math.max(20, (stream.columns ?? 80) - 1);
      stream.write(`\r${' '.repeat(width)}\r`);
      if (summary) stream.write(`${options.label}: ${summary}\n`);
    },
  };
}
