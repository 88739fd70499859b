/** Token F1 of our extraction against Readability's expected output for its 130 test pages. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { extractArticle, htmlToText } from '../../src/bulletin/extract.js';

export function tokens(text: string): string[] {
  // Words for spaced scripts, single characters for CJK (no spaces to split on).
  return (
    text
      .toLowerCase()
      .match(/[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]|[\p{L}\p{N}]+/gu) ?? []
  );
}

export function tokenF1(got: string[], want: string[]): number {
  if (!got.length && !want.length) return 1;
  const counts = new Map<string, number>();
  for (const t of want) counts.set(t, (counts.get(t) ?? 0) + 1);
  let overlap = 0;
  for (const t of got) {
    const c = counts.get(t) ?? 0;
    if (c > 0) {
      overlap++;
      counts.set(t, c - 1);
    }
  }
  if (!overlap) return 0;
  const p = overlap / got.length;
  const r = overlap / want.length;
  return (2 * p * r) / (p + r);
}

export function scorePages(root: string): { name: string; f1: number; method: string }[] {
  const out: { name: string; f1: number; method: string }[] = [];
  for (const name of readdirSync(root).sort()) {
    const dir = join(root, name);
    let src: string;
    try {
      src = readFileSync(join(dir, 'source.html'), 'utf8');
    } catch {
      continue;
    }
    const expected = readFileSync(join(dir, 'expected.html'), 'utf8');
    const got = extractArticle(src, 'http://fakehost/test/page.html');
    out.push({
      name,
      f1: tokenF1(tokens(got.text), tokens(htmlToText(expected))),
      method: got.method,
    });
  }
  return out;
}
