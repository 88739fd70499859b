/**
 * Time as a dependency: areas take a `Clock` so that cores stay pure and tests can move time.
 * Not a date library.
 */

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** ISO-8601 UTC text, the store's one time format. @example isoUtc(0) === '1970-01-01T00:00:00.000Z' */
export function isoUtc(ms: number): string {
  return new Date(ms).toISOString();
}

/** A clock that only moves when told to. */
export function manualClock(
  start = 0,
): Clock & { advance(ms: number): void; set(ms: number): void } {
  let t = start;
  return {
    now: () => t,
    advance(ms) {
      t += ms;
    },
    set(ms) {
      t = ms;
    },
  };
}
