/**
 * The benchmark harness's shared parts: the result shape every `bench/<name>.ts` returns, a
 * timer, percentiles, and the machine description written beside the figures.
 * Benchmarks are not tests: nothing here asserts a time.
 */
import { cpus, totalmem } from 'node:os';

export interface Figure {
  /** What was measured, e.g. "batched upsert". */
  name: string;
  /** Our value. */
  value: number;
  unit: string;
  /** What it is compared with, measured in the same run (a peer tool or a limit). */
  base: string;
  baseValue: number;
  /** value / baseValue (or the inverse for "lower is better"), precomputed for the table. */
  ratio: number;
  /** Optional goal text, e.g. "≥ 0.5" or "p95 ≤ 1 s". */
  goal?: string;
  /** Whether the goal was met, when there is one. */
  met?: boolean;
}

export interface BenchContext {
  /** A PostgreSQL URL (a throwaway cluster the harness started, or MAMORI_TEST_PG). */
  postgresUrl(): Promise<string>;
  log(msg: string): void;
  /** Scale factor from --quick (0.1) or 1. */
  scale: number;
}

export interface BenchResult {
  figures: Figure[];
  /** Free text: method, input sizes, caveats. */
  notes?: string[];
}

export type BenchFn = (ctx: BenchContext) => Promise<BenchResult>;

export function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown cpu';
  return `${cpus().length} × ${cpu.trim()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}`;
}

/** The p-th percentile (0–100) of a list of numbers. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

/** Milliseconds taken by fn. */
export async function timeMs(fn: () => unknown | Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}
