/**
 * The time bound on @rx: V8's linear-time regex engine takes over a pattern that backtracks more
 * than `BACKTRACKS_BEFORE_FALLBACK` times in one match (V8 flags, set once per process before
 * any rule is compiled). Patterns that engine cannot run (lookarounds, long counted repeats) are
 * told apart by `linearCapable`; core/operators.ts gives them a shorter input bound and refuses
 * them at load time when they nest unbounded quantifiers. Not a regex engine.
 */
import v8 from 'node:v8';

/** Backtracks one match may take before V8 restarts it in its linear-time engine. */
export const BACKTRACKS_BEFORE_FALLBACK = 10_000;

let enabled = false;

/** Sets the V8 flags (idempotent). Call before compiling rules. */
export function enableRegexBound(): void {
  if (enabled) return;
  v8.setFlagsFromString('--enable-experimental-regexp-engine');
  v8.setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
  v8.setFlagsFromString(`--regexp-backtracks-before-fallback=${BACKTRACKS_BEFORE_FALLBACK}`);
  enabled = true;
}

/**
 * Whether V8's linear-time engine can run this regex (what the fallback needs).
 * @example linearCapable('^(a+)+$', 's') // true
 */
export function linearCapable(source: string, flags: string): boolean {
  enableRegexBound();
  try {
    new RegExp(source, `${flags.replace('l', '')}l`);
    return true;
  } catch {
    return false;
  }
}
