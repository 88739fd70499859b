/**
 * Extraction against Mozilla Readability's 130 test pages: the token F1 of our plain text
 * against the text of each `expected.html` must be ≥ 0.95 on at least 125 pages.
 */
import { describe, expect, it } from 'vitest';
import { extractArticle } from '../../src/bulletin/extract.js';
import { vector } from '../helpers/vectors.js';
import { scorePages, tokenF1, tokens } from './readability-harness.js';

describe('article extraction', () => {
  it('token F1 ≥ 0.95 on ≥ 125 of the 130 Readability test pages', () => {
    const scores = scorePages(vector('bulletin/readability-test-pages'));
    expect(scores.length).toBe(130);
    const good = scores.filter((s) => s.f1 >= 0.95);
    console.log(
      `readability pages: ${good.length}/130 with F1 ≥ 0.95; below:\n  ${scores
        .filter((s) => s.f1 < 0.95)
        .map((s) => `${s.name} ${s.f1.toFixed(3)}`)
        .join('\n  ')}`,
    );
    expect(good.length).toBeGreaterThanOrEqual(125);
  }, 180_000);

  it('token F1 is 1 for identical text and low for unrelated text', () => {
    expect(tokenF1(tokens('脆弱性の対策 a b'), tokens('脆弱性の対策 a b'))).toBe(1);
    expect(tokenF1(tokens('alpha beta'), tokens('gamma delta'))).toBe(0);
  });

  it('a per-site rule picks the body of a Japanese page, sanitized, with its canonical URL', () => {
    const html = `<!DOCTYPE html><html lang="ja"><head><title>記事</title>
      <link rel="canonical" href="/news/2024/03/01.html"></head><body>
      <div class="nav">メニュー ログイン 会員登録</div>
      <div id="cmsBody"><div class="inner"><p>情報処理推進機構（IPA）は、ルーターの脆弱性を悪用した攻撃が増えているとして注意を呼びかけた。</p>
      <p onclick="x()">被害は国内で約1200件に上るという。<script>alert(1)</script></p></div></div></body></html>`;
    const a = extractArticle(html, 'https://www.itmedia.co.jp/news/articles/1.html');
    expect(a.method).toBe('site-rule');
    expect(a.text).toContain('約1200件');
    expect(a.text).not.toContain('メニュー');
    expect(a.html).not.toContain('onclick');
    expect(a.html).not.toContain('script');
    expect(a.canonicalUrl).toBe('https://www.itmedia.co.jp/news/2024/03/01.html');
    expect(a.lang).toBe('ja');
  });
});
