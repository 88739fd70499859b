/**
 * Small text helpers shared by every area: edit distance for "did you mean", and escaping of
 * hostile strings for terminals. Not a formatting library.
 */

/** Levenshtein distance. @example editDistance('kitten', 'sitting') === 3 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The candidate closest to `input`, if it is close enough to be a plausible typo.
 * @example closest('vlun', ['vuln', 'custody']) === 'vuln'
 */
export function closest(input: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = c.startsWith(input) && input.length >= 2 ? 0.5 : editDistance(input, c);
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  const limit = Math.max(2, Math.floor(input.length / 2));
  return bestDistance <= limit ? best : undefined;
}

/**
 * Escape a string from the network for printing on a terminal: control characters (ANSI
 * escapes included) become \xNN, so a banner cannot move the cursor or recolour the screen.
 * @example escapeForTerminal('a\u001b[31mb') === 'a\\x1b[31mb'
 */
export function escapeForTerminal(s: string): string {
  return s.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => {
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

/** Render rows as an aligned text table for people. */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly unknown[])[],
): string {
  const cells = rows.map((r) =>
    r.map((c) => escapeForTerminal(c === null || c === undefined ? '' : String(c))),
  );
  const widths = headers.map((h, i) =>
    Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)),
  );
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
