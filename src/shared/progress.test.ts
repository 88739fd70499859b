import { describe, expect, it } from 'vitest';
import { createProgress } from './progress.js';

describe('createProgress', () => {
  it('draws on a TTY and clears the line at the end', () => {
    let out = '';
    let t = 0;
    const p = createProgress({
      label: 'sync',
      total: 4,
      stream: { isTTY: true, columns: 60, write: (s) => (out += s) },
      intervalMs: 0,
      now: () => (t += 250),
    });
    p.tick(2);
    expect(out).toContain('2/4 50%');
    p.done('4 records');
    expect(out.endsWith('sync: 4 records\n')).toBe(true);
  });
  it('stays silent when piped or disabled (--json)', () => {
    let out = '';
    const piped = createProgress({
      label: 'x',
      total: 1,
      stream: { isTTY: false, write: (s) => (out += s) },
    });
    piped.tick();
    piped.done('done');
    const off = createProgress({
      label: 'x',
      enabled: false,
      stream: { isTTY: true, write: (s) => (out += s) },
    });
    off.tick();
    off.done('done');
    expect(out).toBe('');
  });
});
