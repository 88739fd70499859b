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

/**
 * Wait `ms` (0: one turn of the event loop) or until the signal aborts. The abort listener is
 * removed when the wait ends either way: one left behind per poll grew the heap by about
 * 240 MB a day at the default interval.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    let immediate: ReturnType<typeof setImmediate> | undefined;
    const done = () => {
      signal?.removeEventListener('abort', done);
      if (timer !== undefined) clearTimeout(timer);
      if (immediate !== undefined) clearImmediate(immediate);
      resolve();
    };
    signal?.addEventListener('abort', done, { once: true });
    if (ms > 0) timer = setTimeout(done, ms);
    else immediate = setImmediate(done);
  });
}
