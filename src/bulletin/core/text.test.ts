import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bcubed, features, minhash, minhashSimilarity, StoryClusterer } from './cluster.js';
import { keyFactRecall, lead3, summarize, tagsOf, terse } from './summarize.js';
import {
  detectLang,
  eventDates,
  extractIds,
  keyFigures,
  numbers,
  shingles,
  splitSentences,
} from './text.js';

describe('splitSentences', () => {
  it('keeps 「」 quotes whole and splits after 。', () => {
    expect(splitSentences('彼は「来た。見た。勝った。」と言った。次の文。')).toEqual([
      '彼は「来た。見た。勝った。」と言った。',
      '次の文。',
    ]);
  });
  it('English: splits at sentence ends, not at abbreviations or decimals', () => {
    expect(splitSentences('Mr. Smith paid $4.4 million. The U.S. agency said so. Done')).toEqual([
      'Mr. Smith paid $4.4 million.',
      'The U.S. agency said so.',
      'Done',
    ]);
  });
  it('property: splitting loses no non-space character', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.constantFrom('あ', '。', '「', '」', 'a', '.', ' ', 'B', '！', '（', '）', '\n'),
          { maxLength: 60 },
        ),
        (chars) => {
          const s = chars.join('');
          expect(splitSentences(s).join('').replace(/\s/g, '')).toBe(s.replace(/\s/g, ''));
        },
      ),
    );
  });
});

describe('figures, numbers, dates, ids', () => {
  it('normalizes Japanese and English amounts to the same values', () => {
    expect(keyFigures('約482億円')[0]).toMatchObject({ value: 48_200_000_000, unit: 'yen' });
    expect(keyFigures('約1万3000台')[0]).toMatchObject({ value: 13_000, unit: 'count' });
    expect(keyFigures('$1.5 billion')[0]).toMatchObject({ value: 1_500_000_000, unit: 'usd' });
    expect(keyFigures('48.2 billion yen')[0]).toMatchObject({ value: 48_200_000_000, unit: 'yen' });
    expect([...numbers('5億6000万人')]).toEqual([...numbers('560 million customers')]);
    expect(numbers('in 2024 there were 5 cases').size).toBe(0);
  });
  it('reads dates in both languages', () => {
    expect(eventDates('2024年7月19日')).toEqual(eventDates('July 19, 2024'));
    expect(eventDates('19 July 2024').has('2024-07-19')).toBe(true);
  });
  it('extracts CVE, JVNDB, JVN# and GHSA ids', () => {
    expect(
      extractIds('cve-2021-44228, JVNDB-2021-005429, JVN#12345678 and GHSA-hrfv-mqp8-q5rw'),
    ).toEqual(['CVE-2021-44228', 'GHSA-hrfv-mqp8-q5rw', 'JVN#12345678', 'JVNDB-2021-005429']);
  });
  it('detects the language', () => {
    expect(detectLang('暗号資産の流出')).toBe('ja');
    expect(detectLang('A bitcoin exchange was hacked')).toBe('en');
  });
});

describe('clustering', () => {
  it('MinHash estimates Jaccard similarity', () => {
    const a = 'the quick brown fox jumps over the lazy dog near the river bank today';
    expect(minhashSimilarity(minhash(shingles(a)), minhash(shingles(a)))).toBe(1);
    expect(
      minhashSimilarity(
        minhash(shingles(a)),
        minhash(shingles('completely different words about cameras')),
      ),
    ).toBeLessThan(0.2);
  });
  it('B-cubed: perfect, all-in-one and singletons', () => {
    const gold = new Map([
      ['a', 1],
      ['b', 1],
      ['c', 2],
    ]);
    expect(
      bcubed(
        new Map([
          ['a', 'x'],
          ['b', 'x'],
          ['c', 'y'],
        ]),
        gold,
      ).f1,
    ).toBe(1);
    expect(
      bcubed(
        new Map([
          ['a', 'x'],
          ['b', 'x'],
          ['c', 'x'],
        ]),
        gold,
      ).recall,
    ).toBe(1);
    expect(
      bcubed(
        new Map([
          ['a', 'x'],
          ['b', 'y'],
          ['c', 'z'],
        ]),
        gold,
      ).precision,
    ).toBe(1);
  });
  it('joins a Japanese and an English report of one event, keeps another apart, honours the window', () => {
    const DAY = 86_400_000;
    const c = new StoryClusterer({ windowMs: 7 * DAY });
    const ja = features({
      key: 'ja',
      title: 'CrowdStrikeの更新不具合',
      text: '2024年7月19日、CrowdStrikeのFalconの更新不具合で約850万台のWindows端末が停止した。',
      lang: 'ja',
      time: 0,
      outlet: 'a',
    });
    const en = features({
      key: 'en',
      title: 'CrowdStrike update crashes Windows',
      text: 'On July 19, 2024 a faulty CrowdStrike Falcon update crashed 8.5 million Windows devices.',
      lang: 'en',
      time: DAY,
      outlet: 'b',
    });
    const other = features({
      key: 'o',
      title: 'Router firmware advice',
      text: 'Update the firmware of your home router and change the default password.',
      lang: 'en',
      time: DAY,
      outlet: 'c',
    });
    const late = { ...en, key: 'late', time: 30 * DAY };
    const s1 = c.add(ja).storyId;
    expect(c.add(en).storyId).toBe(s1);
    expect(c.add(other).storyId).not.toBe(s1);
    expect(c.add(late).storyId).not.toBe(s1);
  });
});

describe('summaries', () => {
  const docs = [
    {
      text: 'Colonial Pipeline shut down its pipeline on May 7, 2021 after a DarkSide ransomware attack. The company paid 75 BTC, about $4.4 million. Fuel shortages followed on the East Coast. Officials met on Monday.',
      lang: 'en' as const,
      time: 0,
    },
    {
      text: 'The Justice Department seized 63.7 BTC of the Colonial ransom. Investigators traced the 75 BTC payment on the blockchain.',
      lang: 'en' as const,
      time: 1,
    },
  ];
  it('three bullets, the key figures kept, at least as good as Lead-3', () => {
    const b = summarize(docs, 'en');
    expect(b).toHaveLength(3);
    const facts = ['75 BTC', '63.7 BTC'];
    expect(keyFactRecall(b, facts)).toBeGreaterThanOrEqual(keyFactRecall(lead3(docs, 'en'), facts));
    expect(keyFactRecall(b, facts)).toBe(1);
  });
  it('terse style trims connectives and endings but keeps figures', () => {
    expect(terse('なお、被害額は約3億円（推計）に上るという。', 'ja')).toBe(
      '被害額は約3億円に上る',
    );
    expect(terse('However, the firm lost $5 million, the company said.', 'en')).toBe(
      'The firm lost $5 million',
    );
  });
  it('tags', () => {
    expect(tagsOf('ランサムウェアによる個人情報の漏えい')).toEqual(
      expect.arrayContaining(['malware', 'breach']),
    );
    expect(tagsOf('Hikvision IP cameras vulnerability CVE-2021-36260')).toEqual(
      expect.arrayContaining(['IoT', 'vulnerability']),
    );
  });
});
