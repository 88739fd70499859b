/**
 * Three extractive bullets for a story from all its articles, in the story's language: LexRank
 * (PageRank over TF-IDF cosine between sentences) times a position prior (leads matter in
 * news), a bonus for key figures, then MMR so the three bullets say different things, then
 * trimmed to the bulletin's terse style with the figures kept. Also the Lead-3 baseline the
 * benchmark compares against, and the tags a story gets.
 * Pure; the Japanese analyser is injected.
 */
import {
  contentWords,
  extractIds,
  type JaTokenizer,
  keyFigures,
  type Lang,
  numbers,
  splitSentences,
} from './text.js';

export interface SummaryDoc {
  text: string;
  lang: Lang;
  /** Earlier articles first; used for Lead-3. */
  time: number;
}

interface Cand {
  sentence: string;
  doc: number;
  pos: number;
  words: string[];
  vec: Map<string, number>;
  figures: number;
}

function cosine(a: Map<string, number>, b: Map<string, number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (const [k, v] of a) {
    na += v * v;
    const w = b.get(k);
    if (w) dot += v * w;
  }
  for (const v of b.values()) nb += v * v;
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}

/**
 * Summarize a story in three bullets.
 * @example summarize([{ text, lang: 'en', time: 0 }], 'en')  // → three strings
 */
export function summarize(docs: SummaryDoc[], lang: Lang, ja?: JaTokenizer, count = 3): string[] {
  const cands: Cand[] = [];
  const sorted = [...docs].filter((d) => d.lang === lang).sort((a, b) => a.time - b.time);
  const use = sorted.length ? sorted : [...docs].sort((a, b) => a.time - b.time);
  use.forEach((d, di) => {
    splitSentences(d.text)
      .slice(0, 40)
      .forEach((s, pos) => {
        const len = [...s].length;
        if (len < (lang === 'ja' ? 12 : 30) || len > (lang === 'ja' ? 220 : 450)) return;
        if (/^(関連記事|関連リンク|Related|Read more|Subscribe|Sign up|Copyright|©)/i.test(s))
          return;
        const words = contentWords(s, lang, ja);
        if (words.length < 3) return;
        cands.push({
          sentence: s,
          doc: di,
          pos,
          words,
          vec: new Map(),
          // Amounts and counts of any unit ("148 sources"), and identifiers.
          figures: Math.max(keyFigures(s).length, numbers(s).size) + extractIds(s).length,
        });
      });
  });
  if (!cands.length) return [];
  // TF-IDF over sentences.
  const df = new Map<string, number>();
  for (const c of cands) for (const w of new Set(c.words)) df.set(w, (df.get(w) ?? 0) + 1);
  const N = cands.length;
  for (const c of cands) {
    const tf = new Map<string, number>();
    for (const w of c.words) tf.set(w, (tf.get(w) ?? 0) + 1);
    for (const [w, f] of tf) c.vec.set(w, f * Math.log(1 + N / df.get(w)!));
  }
  // LexRank (continuous), damping 0.85, bounded iterations.
  const sim: number[][] = cands.map((a) => cands.map((b) => (a === b ? 0 : cosine(a.vec, b.vec))));
  let rank = new Array<number>(N).fill(1 / N);
  const rowSum = sim.map((r) => r.reduce((x, y) => x + y, 0));
  for (let it = 0; it < 50; it++) {
    const next = new Array<number>(N).fill((1 - 0.85) / N);
    for (let i = 0; i < N; i++) {
      if (!rowSum[i]) continue;
      for (let j = 0; j < N; j++)
        if (sim[i]![j]) next[j]! += (0.85 * rank[i]! * sim[i]![j]!) / rowSum[i]!;
    }
    let delta = 0;
    for (let i = 0; i < N; i++) delta += Math.abs(next[i]! - rank[i]!);
    rank = next;
    if (delta < 1e-6) break;
  }
  const maxRank = Math.max(...rank);
  const score = cands.map((c, i) => {
    const prior = 1 / (1 + 0.35 * c.pos);
    return (rank[i]! / maxRank) * 0.55 + prior * 0.35 + Math.min(c.figures, 3) * 0.08;
  });
  // MMR selection.
  const chosen: number[] = [];
  while (chosen.length < count && chosen.length < cands.length) {
    let best = -1;
    let bestVal = -Infinity;
    for (let i = 0; i < cands.length; i++) {
      if (chosen.includes(i)) continue;
      const red = chosen.length ? Math.max(...chosen.map((j) => sim[i]![j]!)) : 0;
      if (red > 0.65) continue;
      const v = 0.7 * score[i]! - 0.3 * red;
      if (v > bestVal) {
        bestVal = v;
        best = i;
      }
    }
    if (best < 0) break;
    chosen.push(best);
  }
  keepKeyFigure(cands, chosen, score, storyFigure(use));
  // Keep story order: earlier documents and earlier positions first.
  chosen.sort((a, b) => cands[a]!.doc - cands[b]!.doc || cands[a]!.pos - cands[b]!.pos);
  return chosen.map((i) => terse(cands[i]!.sentence, lang));
}

/**
 * The story's key figure: the number most of its reports give (normalized, so 148件 and "148
 * sources" are one); with a single report, the first amount or count it gives.
 */
function storyFigure(docs: SummaryDoc[]): string | undefined {
  const inDocs = new Map<string, number>();
  for (const d of docs) for (const n of numbers(d.text)) inDocs.set(n, (inDocs.get(n) ?? 0) + 1);
  let best: string | undefined;
  let bestCount = 1;
  for (const [n, c] of inDocs)
    if (c > bestCount || (c === bestCount && best !== undefined && Number(n) > Number(best))) {
      best = n;
      bestCount = c;
    }
  if (best) return best;
  const first = docs[0] && keyFigures(docs[0].text).find((f) => f.unit !== 'date');
  return first ? [...numbers(first.text)][0] : undefined;
}

/** If no chosen sentence carries the key figure, the best one that does replaces the weakest. */
function keepKeyFigure(cands: Cand[], chosen: number[], score: number[], figure?: string) {
  if (!figure || !chosen.length) return;
  const has = (i: number) => numbers(cands[i]!.sentence).has(figure);
  if (chosen.some(has)) return;
  let best = -1;
  for (let i = 0; i < cands.length; i++)
    if (!chosen.includes(i) && has(i) && (best < 0 || score[i]! > score[best]!)) best = i;
  if (best < 0) return;
  let weakest = 0;
  for (let k = 1; k < chosen.length; k++)
    if (score[chosen[k]!]! < score[chosen[weakest]!]!) weakest = k;
  chosen[weakest] = best;
}

/** Lead-3: the first three sentences of the earliest article (the benchmark's baseline). */
export function lead3(docs: SummaryDoc[], lang: Lang): string[] {
  const first =
    [...docs].filter((d) => d.lang === lang).sort((a, b) => a.time - b.time)[0] ?? docs[0];
  if (!first) return [];
  return splitSentences(first.text).slice(0, 3);
}

/** Japanese sentence endings that can go without leaving a verb cut in half. */
const JA_ENDINGS: [RegExp, string][] = [
  // …を示したという。 → …を示した
  [/(?:のだ|だ)?と(?:いう|いいます)。$/, ''],
  // …していたことが分かった。 → …していた
  [/ことが(?:明らかになった|分かった|わかった|判明した)。$/, ''],
  // 発表した / 公開している: a noun of two or more kanji carries the meaning on its own.
  [/(\p{Script=Han}{2,})(?:しました|しています|している|した|します|する)。$/u, '$1'],
  [/。$/, ''],
];

/**
 * Trim a sentence to the bulletin's terse style: no leading connective, asides without figures
 * dropped, polite or attributive endings dropped only where no word is cut (「方針を示した」 keeps
 * its verb; 「公開した」 becomes 「公開」). A bullet is always a whole sentence: nothing is cut at a
 * comma or a length.
 * @example terse('なお、被害額は約3億円（推計）に上るという。', 'ja') === '被害額は約3億円に上る'
 */
export function terse(sentence: string, lang: Lang): string {
  let s = sentence.trim();
  if (lang === 'ja') {
    s = s.replace(
      /^(また|なお|さらに|一方|ただし|そのうえで|これにより|同社によると|発表によると)、/,
      '',
    );
    s = s.replace(/（[^（）]*）/g, (m) => (/\d/.test(m) ? m : ''));
    for (const [re, to] of JA_ENDINGS) {
      const next = s.replace(re, to);
      if (next !== s) {
        s = next;
        break;
      }
    }
  } else {
    s = s.replace(
      /^(However|Meanwhile|Additionally|Moreover|Also|In addition|According to [^,]+|Separately),\s*/i,
      '',
    );
    s = s.replace(/\s*\((?![^)]*\d)[^)]*\)/g, '');
    s = s.replace(
      /,\s*(the company|the firm|officials|researchers|the agency)\s+(said|says|added|noted)\.?$/i,
      '.',
    );
    s = s.replace(/\.$/, '');
    s = s.charAt(0).toUpperCase() + s.slice(1);
  }
  return s.trim();
}

const TAG_RULES: { tag: string; re: RegExp }[] = [
  {
    tag: 'crypto',
    re: /暗号資産|仮想通貨|ビットコイン|イーサリアム|取引所|ウォレット|\b(crypto(currency)?|bitcoin|btc|ethereum|eth|wallet|exchange|defi|stablecoin|blockchain)\b/i,
  },
  {
    tag: 'IoT',
    re: /IoT|ルーター|ネットワークカメラ|防犯カメラ|監視カメラ|\b(iot|router|routers|camera|cameras|dvr|nvr|nas|firmware|smart (home|device)|mirai|botnet)\b/i,
  },
  {
    tag: 'vulnerability',
    re: /脆弱性|ゼロデイ|パッチ|CVE-|JVNDB-|\b(vulnerabilit(y|ies)|zero-day|0-day|patch(ed|es)?|exploit(ed|ation)?|flaw|cve-\d)/i,
  },
  {
    tag: 'malware',
    re: /マルウェア|ランサムウェア|ウイルス|トロイ|ボット|\b(malware|ransomware|trojan|infostealer|stealer|backdoor|worm|botnet|emotet|lockbit)\b/i,
  },
  {
    tag: 'breach',
    re: /漏えい|漏洩|流出|不正アクセス|個人情報|\b(breach(ed)?|leak(ed)?|exposed data|stolen data|data theft|unauthori[sz]ed access|compromised)\b/i,
  },
  { tag: 'phishing', re: /フィッシング|なりすまし|\b(phishing|smishing|spoof(ed|ing))\b/i },
  { tag: 'theft', re: /不正流出|盗難|盗まれ|\b(stolen|theft|hack(ed)? of|drained|heist)\b/i },
  { tag: 'DDoS', re: /DDoS|サービス妨害|\b(ddos|denial[- ]of[- ]service)\b/i },
];

/** Topic tags of a text. */
export function tagsOf(text: string): string[] {
  return TAG_RULES.filter((r) => r.re.test(text)).map((r) => r.tag);
}

/**
 * Key-fact recall: the share of facts (strings a human summary keeps, e.g. `3億円`,
 * `CVE-2024-3400`) found in the bullets, comparing normalized text and normalized figures.
 */
export function keyFactRecall(bullets: string[], facts: string[]): number {
  if (!facts.length) return 1;
  const joined = bullets.join(' ').normalize('NFKC').toLowerCase();
  const figs = new Set(keyFigures(bullets.join(' ')).map((f) => `${f.unit}:${f.value}`));
  let hit = 0;
  for (const fact of facts) {
    const nf = fact.normalize('NFKC').toLowerCase();
    const ff = keyFigures(fact).map((f) => `${f.unit}:${f.value}`);
    if (joined.includes(nf) || (ff.length > 0 && ff.every((f) => figs.has(f)))) hit++;
  }
  return hit / facts.length;
}
