/**
 * What reaches a bullet: article prose only (no `<time>` stamps, bylines or datelines, checked
 * on Readability's 130 real pages and on pages shaped like the ones the issue names), whole
 * sentences only (never cut mid-word: 「…方針を示」), and the story's key figure kept.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { summarize, terse } from '../../src/bulletin/core/summarize.js';
import { type Lang, splitSentences } from '../../src/bulletin/core/text.js';
import { extractArticle } from '../../src/bulletin/extract.js';
import { vector } from '../helpers/vectors.js';
import { type CorpusStory, loadCorpus } from './corpus-server.js';

const STAMP_FIRST =
  /^\s*(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}|\d{4}[-/年]\d{1,2}[-/月]\d{1,2}日?\s*\d{1,2}:\d{2})/;

/** S minus what terse may drop anywhere: a leading connective and asides without figures. */
function looseForm(s: string, lang: Lang): string {
  return lang === 'ja'
    ? s
        .replace(
          /^(また|なお|さらに|一方|ただし|そのうえで|これにより|同社によると|発表によると)、/,
          '',
        )
        .replace(/（[^（）]*）/g, (m) => (/\d/.test(m) ? m : ''))
    : s
        .replace(
          /^(However|Meanwhile|Additionally|Moreover|Also|In addition|According to [^,]+|Separately),\s*/i,
          '',
        )
        .replace(/\s*\((?![^)]*\d)[^)]*\)/g, '');
}

/** The endings terse may drop: whole words and the full stop, nothing else. */
const JA_DROPPABLE =
  /^(。|と(いう|いいます)。|だという。|のだという。|ことが(明らかになった|分かった|わかった|判明した)。|しました。|しています。|している。|した。|します。|する。)$/;

describe('bullets', () => {
  let stories: CorpusStory[];
  beforeAll(() => {
    const look = parse(
      readFileSync(
        join(dirname(fileURLToPath(import.meta.url)), 'corpus', 'lookalike.yaml'),
        'utf8',
      ),
    ) as { stories: CorpusStory[] };
    stories = [...loadCorpus().stories, ...look.stories];
  });

  it('a bullet is a whole sentence: terse never cuts a word (corpus sentences, ja and en)', () => {
    let n = 0;
    for (const s of stories)
      for (const a of s.articles)
        for (const sentence of splitSentences(a.body)) {
          const lang: Lang = /[ぁ-ん]/.test(sentence) ? 'ja' : 'en';
          const t = terse(sentence, lang);
          const loose = looseForm(sentence, lang);
          if (lang === 'ja') {
            expect(loose.startsWith(t), `${sentence} → ${t}`).toBe(true);
            const rest = loose.slice(t.length);
            expect(
              rest === '' || JA_DROPPABLE.test(rest),
              `${sentence} → ${t} (dropped ${rest})`,
            ).toBe(true);
            // What is left ends a word: never a verb stem such as 示 in 「方針を示」.
            if (/^(した|する|しました|します|している|しています)/.test(rest))
              expect(t, sentence).toMatch(/\p{Script=Han}{2}$/u);
          } else {
            const core = loose
              .replace(/\.$/, '')
              .replace(
                /,\s*(the company|the firm|officials|researchers|the agency)\s+(said|says|added|noted)$/i,
                '',
              );
            expect(t.toLowerCase(), sentence).toBe(core.toLowerCase());
          }
          n++;
        }
    expect(n).toBeGreaterThan(150);
    expect(
      terse('同社は顧客資産を全額保証する方針で、約500億円の資金を調達する計画を示した。', 'ja'),
    ).toBe('同社は顧客資産を全額保証する方針で、約500億円の資金を調達する計画を示した');
    expect(terse('同社は修正版を公開した。', 'ja')).toBe('同社は修正版を公開');
  });

  it('keeps the story’s key figure even when its sentence ranks low', () => {
    const docs = [
      {
        lang: 'en' as Lang,
        time: 1,
        text: [
          'A flaw in the cloud service of Miruka home cameras let users view video from other customers.',
          'The company said it fixed the flaw in its cloud service on Thursday after customers complained.',
          'Miruka said the bug came from a caching change in its cloud service and was not an attack.',
          'Customers were told that no passwords were exposed by the cloud service flaw.',
          'In total 148 sources were viewed by the wrong accounts.',
        ].join(' '),
      },
      {
        lang: 'en' as Lang,
        time: 2,
        text: [
          'Miruka apologized to customers for the cloud service flaw in its home cameras.',
          'Privacy groups asked the company to explain how the caching change reached customers.',
          'The firm counted 148 sources viewed before the fix.',
        ].join(' '),
      },
    ];
    const bullets = summarize(docs, 'en');
    expect(bullets).toHaveLength(3);
    expect(bullets.join(' ')).toMatch(/148 sources/);
  });

  it('no stamp, byline or dateline in the text of pages shaped like the reported ones', () => {
    const page = `<!DOCTYPE html><html lang="ja"><head><title>t</title></head><body><main><article>
<h1>取引所から暗号資産が流出</h1>
<div class="article-meta"><span class="byline">文：山田太郎</span><time datetime="2026-12-02T15:35:39+09:00">2026-12-02T15:35:39+09:00</time></div>
<p><time datetime="2026-12-02T15:35:39+09:00">2026-12-02T15:35:39+09:00</time>仮想通貨取引所のKumo Exchangeは2日、ホットウォレットから1250BTCが不正に送金されたと発表した。同社は出金を停止した。</p>
<p>同社は顧客資産を全額補償する方針を示した。原因は署名端末のマルウェア感染だったという。攻撃者は正規の送金依頼を改ざんした。</p>
<p>金融庁は同社に報告を求めている。業界団体も会員各社に注意を呼びかけた。</p>
</article></main></body></html>`;
    const a = extractArticle(page, 'https://news.example/a/1');
    expect(a.text).not.toMatch(/2026-12-02T|15:35|山田太郎/);
    const paras = (t: string) => t.split(/\n\s*\n/);
    expect(paras(a.text)[0]).toBe('取引所から暗号資産が流出');
    expect(paras(a.text)[1]!.startsWith('仮想通貨取引所のKumo Exchangeは2日')).toBe(true);
    const en = `<!DOCTYPE html><html lang="en"><head><title>t</title></head><body><article>
<h1>Exchange loses bitcoin</h1><p class="byline">By Jane Doe and John Roe</p>
<p>TOKYO, Dec 2 (Reuters) - Kumo Exchange said on Wednesday that 1,250 BTC had been sent from its hot wallet without authorization, and it suspended withdrawals while it investigates.</p>
<p>The exchange said on <time datetime="2026-12-02">December 2</time> that customers would be covered in full, and that a signing machine had been infected with malware before the theft.</p>
<p>Investigators suspect a North Korean group that has targeted exchanges in Japan and elsewhere before.</p>
</article></body></html>`;
    const e = extractArticle(en, 'https://news.example/a/2');
    expect(e.text).not.toMatch(/Jane Doe|TOKYO|Reuters/);
    expect(paras(e.text)[1]!.startsWith('Kumo Exchange said on Wednesday')).toBe(true);
    // A date inside a sentence is prose and stays.
    expect(e.text).toContain('said on December 2 that customers');
  });

  it('Readability’s 130 real pages: no paragraph opens with a timestamp, no byline alone at the top', () => {
    const root = vector('bulletin/readability-test-pages');
    const stamped: string[] = [];
    const bylines: string[] = [];
    let pages = 0;
    for (const name of readdirSync(root).sort()) {
      let src: string;
      try {
        src = readFileSync(join(root, name, 'source.html'), 'utf8');
      } catch {
        continue;
      }
      pages++;
      const meta = JSON.parse(readFileSync(join(root, name, 'expected-metadata.json'), 'utf8')) as {
        byline?: string | null;
      };
      const text = extractArticle(src, 'http://fakehost/test/page.html').text;
      const paras = text.split(/\n\s*\n/).map((p) => p.trim());
      if (paras.some((p) => STAMP_FIRST.test(p))) stamped.push(name);
      const by = meta.byline?.trim();
      // At the top, where it would open the lead; an author's bio at the end is content.
      if (by && by.length > 3 && paras.slice(0, 3).some((p) => p === by || p === `By ${by}`))
        bylines.push(name);
    }
    console.log(
      `readability pages: stamped ${stamped.join(', ') || '-'}; byline alone ${bylines.join(', ') || '-'}`,
    );
    expect(pages).toBe(130);
    expect(stamped).toEqual([]);
    expect(bylines).toEqual([]);
  }, 240_000);
});
