/**
 * Schedule periods: `--every 6h` parsed to seconds, and the time slot a moment falls in. A slot
 * is the same number on every machine for the same period, so workers agree on which run is
 * due without talking to each other; the store decides who runs it.
 */
import { MamoriError } from '../../shared/errors.js';

const UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** Shortest period accepted: below it a schedule would mostly measure the queue. */
export const MIN_EVERY_SECONDS = 1;

/**
 * Parse a period such as `90s`, `15m`, `6h`, `1d` (an integer and a unit).
 * @example parseEvery('6h') === 21600
 */
export function parseEvery(text: string): number {
  const m = /^(\d{1,6})([smhd])$/.exec(text.trim());
  if (!m) {
    throw new MamoriError('E_USAGE', `--every: not a period: "${text}"`, {
      hint: 'an integer and a unit: 30s, 15m, 6h, 1d',
    });
  }
  const seconds = Number(m[1]) * UNIT[m[2]!]!;
  if (seconds < MIN_EVERY_SECONDS || seconds > 366 * 86_400)
    throw new MamoriError('E_USAGE', `--every: ${text} is out of range (1s … 366d)`);
  return seconds;
}

/** Format seconds back as the largest whole unit. @example formatEvery(21600) === '6h' */
export function formatEvery(seconds: number): string {
  for (const u of ['d', 'h', 'm'] as const)
    if (seconds % UNIT[u]! === 0) return `${seconds / UNIT[u]!}${u}`;
  return `${seconds}s`;
}

/** The slot a moment (ms since the epoch) falls in. @example slotOf(7_200_000, 3600) === 2 */
export function slotOf(nowMs: number, everySeconds: number): number {
  return Math.floor(nowMs / 1000 / everySeconds);
}
