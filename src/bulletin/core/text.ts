/**
 * Language-aware text primitives for clustering and summarizing: sentence splitting that keeps
 * 「」『』（）"" quotes whole, word tokens (Japanese through an injected morphological analyser,
 * English by rule with a stop list), character shingles, key figures (amounts, counts, dates)
 * normalized so 「3億円」 and "300 million yen" compare, and entity-like tokens.
 * Not a tokenizer for other languages; no I/O (the Japanese analyser comes in as a parameter).
 */
import { MONTHS } from './dates.js';

export type Lang = 'ja' | 'en';

/** A morphological token: surface form, base form, and coarse part of speech. */
export interface Morph {
  surface: string;
  base: string;
  pos: string;
}

/** Japanese analyser, injected (kuromoji in the shell). */
export type JaTokenizer = (text: string) => Morph[];

/** Guess the language of a text from its script mix. */
export function detectLang(text: string): Lang {
  let ja = 0;
  let latin = 0;
  for (const ch of text.slice(0, 2000)) {
    const c = ch.codePointAt(0)!;
    if ((c >= 0x3040 && c <= 0x30ff) || (c >= 0x4e00 && c <= 0x9fff)) ja++;
    else if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) latin++;
  }
  return ja > latin * 0.2 ? 'ja' : 'en';
}

const OPEN: Record<string, string> = {
  '「': '」',
  '『': '』',
  '（': '）',
  '(': ')',
  '“': '”',
  '【': '】',
};
const CLOSE = new Set(Object.values(OPEN));

/**
 * Split text into sentences. Japanese ends at 。！？ outside brackets; English at . ! ? followed
 * by a space and a capital/digit/quote, skipping common abbreviations.
 * @example splitSentences('彼は「来た。見た。」と言った。次。') → ['彼は「来た。見た。」と言った。', '次。']
 */
export function splitSentences(text: string): string[] {
  const out: string[] = [];
  for (const para of text.split(/\n\s*\n|\n(?=\s*[-•・■●◆])/)) {
    const p = para.replace(/\s+/g, ' ').trim();
    if (!p) continue;
    let depth: string[] = [];
    let start = 0;
    for (let i = 0; i < p.length; i++) {
      const ch = p[i]!;
      if (OPEN[ch]) depth.push(OPEN[ch]!);
      else if (CLOSE.has(ch)) {
        const k = depth.lastIndexOf(ch);
        if (k >= 0) depth = depth.slice(0, k);
      }
      if (depth.length > 2) depth = [];
      if (depth.length) continue;
      let end = -1;
      if (ch === '。' || ch === '！' || ch === '？') end = i + 1;
      else if ((ch === '.' || ch === '!' || ch === '?') && p[i + 1] === ' ') {
        const before = p.slice(Math.max(start, i - 6), i);
        const next = p[i + 2] ?? '';
        const abbrev =
          /(\b(Mr|Mrs|Ms|Dr|Inc|Ltd|Co|Corp|St|vs|No|U\.S|e\.g|i\.e|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)|\b[A-Z])$/.test(
            before,
          );
        if (!abbrev && /[A-Z0-9"“'‘(]|[^\x00-\x7f]/.test(next)) end = i + 1;
      }
      if (end > 0) {
        while (p[end] && CLOSE.has(p[end]!)) end++;
        const s = p.slice(start, end).trim();
        if (s) out.push(s);
        start = end;
      }
    }
    const rest = p.slice(start).trim();
    if (rest) out.push(rest);
  }
  return out;
}

const EN_STOP = new Set(
  `a an the and or but if of to in on at by for with from as is are was were be been being has have had
do does did this that these those it its it's they them their there which who whom what when where why how
not no so than then also into over under about after before more most other some such only own same can
will would should could may might must said says say told according new one two three we our you your he she
his her us i me my just up out very via per while during including amid across against between both each few`.split(
    /\s+/,
  ),
);

/** Content words of a text, lower-cased and base-formed where the analyser gives one. */
export function contentWords(text: string, lang: Lang, ja?: JaTokenizer): string[] {
  if (lang === 'ja' && ja) {
    return ja(text)
      .filter(
        (m) =>
          /^(名詞|動詞|形容詞)/.test(m.pos) &&
          !/^(非自立|代名詞|数|接尾)/.test(m.pos.split(',')[1] ?? ''),
      )
      .map((m) => (m.base && m.base !== '*' ? m.base : m.surface).toLowerCase())
      .filter((w) => w.length > 1 || /[\p{Script=Han}]/u.test(w))
      .filter(
        (w) =>
          !/^(する|いる|ある|なる|れる|られる|こと|もの|よう|ため|これ|それ|同社|今回)$/.test(w),
      );
  }
  return (text.toLowerCase().match(/[\p{L}\p{N}][\p{L}\p{N}'-]*/gu) ?? [])
    .map((w) => w.replace(/'s$/, ''))
    .filter((w) => w.length > 1 && !EN_STOP.has(w))
    .map(stemEn);
}

function stemEn(w: string): string {
  if (w.length > 5 && w.endsWith('ies')) return `${w.slice(0, -3)}y`;
  if (w.length > 4 && w.endsWith('es') && /(ss|x|ch|sh)es$/.test(w)) return w.slice(0, -2);
  if (w.length > 3 && w.endsWith('s') && !w.endsWith('ss')) return w.slice(0, -1);
  return w;
}

/** Text normalized for shingling: NFKC, lower case, no spaces or punctuation. */
export function normalizeForShingles(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '');
}

/** Character n-gram shingles. */
export function shingles(text: string, n = 4): Set<string> {
  const s = normalizeForShingles(text);
  const out = new Set<string>();
  for (let i = 0; i + n <= s.length; i++) out.add(s.slice(i, i + n));
  if (!out.size && s) out.add(s);
  return out;
}

const JA_UNITS: Record<string, number> = { 万: 1e4, 億: 1e8, 兆: 1e12, 千: 1e3 };
const EN_SCALE: Record<string, number> = {
  thousand: 1e3,
  million: 1e6,
  billion: 1e9,
  trillion: 1e12,
  k: 1e3,
  m: 1e6,
  bn: 1e9,
};

export interface Figure {
  /** As written, e.g. `約3億円`, `$1.5 million`, `1,200件`. */
  text: string;
  /** Normalized value, e.g. 300000000. */
  value: number;
  /** Unit family: yen, usd, count, percent, date, other. */
  unit: string;
}

/**
 * Key figures (amounts, counts, percentages, dates) in a text, normalized for comparison.
 * @example keyFigures('被害額は約3億円')[0] → { text: '約3億円', value: 300000000, unit: 'yen' }
 */
export function keyFigures(text: string): Figure[] {
  const t = text.normalize('NFKC');
  const out: Figure[] = [];
  const seen = new Set<string>();
  const push = (f: Figure) => {
    const k = `${f.unit}:${f.value}`;
    if (!seen.has(k) && Number.isFinite(f.value)) {
      seen.add(k);
      out.push(f);
    }
  };
  // Japanese: 約3億5000万円, 1,200件, 45万人, 2024年3月5日
  for (const m of t.matchAll(
    /(約|およそ|最大|少なくとも)?(\d[\d,]*(?:\.\d+)?)(兆|億|万|千)?(?:(\d[\d,]*)(万|千)?)?(円|ドル|件|人|台|社|万人|個|件超|人分|ビットコイン|BTC|ETH|%|％)/g,
  )) {
    let v = Number(m[2]!.replace(/,/g, '')) * (m[3] ? JA_UNITS[m[3]]! : 1);
    if (m[3] && m[4]) v += Number(m[4].replace(/,/g, '')) * (m[5] ? JA_UNITS[m[5]]! : 1);
    else if (m[4]) continue;
    const unit =
      m[6] === '円'
        ? 'yen'
        : m[6] === 'ドル'
          ? 'usd'
          : m[6] === '%' || m[6] === '％'
            ? 'percent'
            : m[6] === 'BTC' || m[6] === 'ビットコイン'
              ? 'btc'
              : m[6] === 'ETH'
                ? 'eth'
                : 'count';
    push({ text: m[0], value: v, unit });
  }
  for (const m of t.matchAll(/(\d{4})年(\d{1,2})月(?:(\d{1,2})日)?/g))
    push({
      text: m[0],
      value: Number(m[1]) * 10000 + Number(m[2]) * 100 + Number(m[3] ?? 0),
      unit: 'date',
    });
  // English: $1.5 million, ¥30 billion, 1.2 million users, 45%, 600,000 records
  for (const m of t.matchAll(
    /([$¥€£])\s?(\d[\d,]*(?:\.\d+)?)\s?(thousand|million|billion|trillion|bn|m|k)?\b/gi,
  )) {
    const v = Number(m[2]!.replace(/,/g, '')) * (m[3] ? EN_SCALE[m[3].toLowerCase()]! : 1);
    push({ text: m[0], value: v, unit: m[1] === '¥' ? 'yen' : m[1] === '$' ? 'usd' : 'other' });
  }
  for (const m of t.matchAll(
    /\b(\d[\d,]*(?:\.\d+)?)\s?(thousand|million|billion|trillion)?\s?(yen|dollars|bitcoin|btc|eth|ether|users|customers|records|accounts|devices|people|cameras|routers|servers|sites|websites|organizations|organisations|companies|victims|%|percent)\b/gi,
  )) {
    const v = Number(m[1]!.replace(/,/g, '')) * (m[2] ? EN_SCALE[m[2].toLowerCase()]! : 1);
    const u = m[3]!.toLowerCase();
    const unit =
      u === 'yen'
        ? 'yen'
        : u === 'dollars'
          ? 'usd'
          : u === '%' || u === 'percent'
            ? 'percent'
            : u === 'bitcoin' || u === 'btc'
              ? 'btc'
              : u === 'eth' || u === 'ether'
                ? 'eth'
                : 'count';
    push({ text: m[0], value: v, unit });
  }
  return out;
}

/** Identifiers a story can be linked by: CVE, JVNDB, JVN#, GHSA. */
export function extractIds(text: string): string[] {
  const t = text.normalize('NFKC');
  const ids = new Set<string>();
  for (const m of t.matchAll(/\bCVE-\d{4}-\d{4,7}\b/gi)) ids.add(m[0].toUpperCase());
  for (const m of t.matchAll(/\bJVNDB-\d{4}-\d{6}\b/gi)) ids.add(m[0].toUpperCase());
  for (const m of t.matchAll(/\bJVN#\d{8}\b/gi)) ids.add(m[0].toUpperCase());
  for (const m of t.matchAll(/\bGHSA(-[23456789cfghjmpqrvwx]{4}){3}\b/gi))
    ids.add(`GHSA${m[0].slice(4).toLowerCase()}`);
  return [...ids].sort();
}

/**
 * Entity-like tokens: capitalized or mixed-case Latin words (names of firms, products, groups),
 * katakana runs, and identifiers. Works across Japanese and English text alike, which is what
 * lets a Japanese and an English report of one incident meet.
 */
export function entities(text: string): Set<string> {
  const t = text.normalize('NFKC');
  const out = new Set<string>();
  for (const m of t.matchAll(
    /\b[A-Z][A-Za-z0-9]*(?:[A-Z][a-z0-9]+)*\b|\b[a-z]+[A-Z][A-Za-z0-9]*\b/g,
  )) {
    const w = m[0];
    if (
      w.length < 3 ||
      EN_STOP.has(w.toLowerCase()) ||
      /^(The|This|That|In|On|At|It|A|An|And|But|For|According|However|Also|After|Before|While|As|We|He|She|They|On|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|March|April|May|June|July|August|September|October|November|December)$/.test(
        w,
      )
    )
      continue;
    out.add(w.toLowerCase());
  }
  for (const m of t.matchAll(/[\p{Script=Katakana}ー]{3,}/gu)) out.add(m[0]);
  for (const id of extractIds(t)) out.add(id.toLowerCase());
  return out;
}

/**
 * Every number in a text as a normalized value (Japanese 万/億/兆 and English million/billion
 * applied), without years and small numbers: a language-independent trace of an event's facts.
 * @example numbers('約1万3000台') has '13000'; numbers('13,000 vehicles') has '13000'
 */
export function numbers(text: string): Set<string> {
  const t = text.normalize('NFKC');
  const out = new Set<string>();
  for (const m of t.matchAll(
    /(\d[\d,]*(?:\.\d+)?)(?:\s?(兆|億|万|千))?(?:(\d[\d,]*)(万|千)?)?(?:\s?(thousand|million|billion|trillion)\b)?/gi,
  )) {
    const raw = m[1]!;
    if (/^\d{1,3}(,\d{3})+$/.test(raw) === false && raw.includes(',') && !/^\d+,\d+$/.test(raw))
      continue;
    let v = Number(raw.replace(/,/g, ''));
    if (m[2]) v *= JA_UNITS[m[2]]!;
    if (m[2] && m[3]) v += Number(m[3].replace(/,/g, '')) * (m[4] ? JA_UNITS[m[4]]! : 1);
    if (m[5]) v *= EN_SCALE[m[5].toLowerCase()]!;
    if (!Number.isFinite(v) || v < 10) continue;
    if (!m[2] && !m[5] && Number.isInteger(v) && v >= 1990 && v <= 2039) continue;
    out.add(String(Math.round(v * 1000) / 1000));
  }
  return out;
}

/**
 * Calendar dates in a text as `YYYY-MM-DD` (or `YYYY-MM`): 2024年5月31日, May 31, 2024, 31 May 2024.
 */
export function eventDates(text: string): Set<string> {
  const t = text.normalize('NFKC');
  const out = new Set<string>();
  const pad = (n: number) => String(n).padStart(2, '0');
  for (const m of t.matchAll(/(\d{4})年(\d{1,2})月(?:(\d{1,2})日)?/g))
    out.add(
      m[3] ? `${m[1]}-${pad(Number(m[2]))}-${pad(Number(m[3]))}` : `${m[1]}-${pad(Number(m[2]))}`,
    );
  for (const m of t.matchAll(
    /\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+(?:(\d{1,2}),?\s+)?(\d{4})\b/g,
  )) {
    const mo = MONTHS[m[1]!.toLowerCase()]!;
    out.add(m[2] ? `${m[3]}-${pad(mo)}-${pad(Number(m[2]))}` : `${m[3]}-${pad(mo)}`);
  }
  for (const m of t.matchAll(
    /\b(\d{1,2})\s+(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\s+(\d{4})\b/g,
  ))
    out.add(`${m[3]}-${pad(MONTHS[m[2]!.toLowerCase()]!)}-${pad(Number(m[1]))}`);
  // A full date also counts as its month, so "June 2024" meets "2024年6月8日".
  for (const d of [...out]) if (d.length === 10) out.add(d.slice(0, 7));
  return out;
}

/**
 * Names that never tell two incidents apart: authorities, governments, countries, nationalities,
 * big cities, currency tickers and job titles. They appear in reports of many different
 * incidents (the FBI attributes thefts at many exchanges), so they are not a story's subject.
 */
const NOT_A_SUBJECT = new Set(
  `fbi cisa nsa doj dhs sec ftc fcc nist ncsc jpcert jpcert/cc ipa nisc nisc europol interpol police
agency agencies department ministry government treasury justice court congress parliament
north south east west korea korean koreans china chinese russia russian iran iranian japan japanese
us usa u.s uk eu europe european america american americans asia asian tokyo osaka beijing moscow
washington london dubai singapore israel israeli taiwan taiwanese india indian germany german
btc eth usdc usdt xem usd jpy eur ceo cto ciso cve jvn ghsa`.split(/\s+/),
);
const JA_NOT_A_SUBJECT = new Set(
  '日本 国内 米国 米 中国 北朝鮮 ロシア 韓国 東京 大阪 政府 警察 警察庁 金融庁 総務省 経済産業省 同社 同機構 同センター'.split(
    ' ',
  ),
);
const JA_ORG =
  /[\p{Script=Han}\p{Script=Katakana}ー]{1,10}?(?:食品|工業|製作所|電機|電気|銀行|証券|保険|病院|大学|機構|協会|運輸|物流|ロジスティクス|ホールディングス|商事|産業|建設|電力|鉄道|航空|新聞|放送|製薬|化学|自動車)/gu;

/**
 * The names an article is about, lower-cased: Latin words written as names (mixed case, all
 * capitals, with digits, or capitalized and never written in lower case in the same text),
 * 「」-quoted product and service names, and Japanese organisation names (a proper-noun run from
 * the analyser, or a word ending in an organisation suffix such as 食品, 工業, 機構). Taken
 * from `head` (the title; the lead sentence when the title names nothing), checked against
 * `context` (the whole article) for how the words are written there.
 * @example subjectNames('Kumo Exchange loses 1,250 BTC', 'The exchange said…') has 'kumo', not 'exchange'
 */
export function subjectNames(head: string, context: string, ja?: JaTokenizer): Set<string> {
  const h = head.normalize('NFKC');
  const ctx = `${h}\n${context.normalize('NFKC')}`;
  const out = new Set<string>();
  for (const m of h.matchAll(/[A-Za-z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*/g)) {
    const w = m[0];
    const lower = w.toLowerCase();
    if (w.length < 3 || EN_STOP.has(lower) || NOT_A_SUBJECT.has(lower)) continue;
    // Identifiers have a rule of their own (conflict on ids).
    if (/^(cve|jvndb|jvn|ghsa)-/.test(lower)) continue;
    if (MONTHS_WEEKDAYS.has(lower)) continue;
    const shaped = /[A-Z].*[A-Z]|[0-9]|^[a-z]+[A-Z]/.test(w); // DMM, NetHub, Cl0p, iPhone
    if (!shaped) {
      if (!/^[A-Z]/.test(w)) continue;
      // A name is written the same way in the text too ("Years-long" opening a headline is not).
      if (!new RegExp(`(?<![A-Za-z0-9])${escapeRe(w)}(?![A-Za-z0-9])`).test(context)) continue;
      // A capitalized word that the text also writes in lower case is an ordinary word.
      if (new RegExp(`(?<![A-Za-z0-9])${escapeRe(lower)}(?![A-Za-z0-9])`).test(ctx)) continue;
    }
    out.add(lower);
  }
  for (const m of h.matchAll(/「([^「」。]{2,20})」/g)) out.add(m[1]!.toLowerCase());
  for (const m of h.matchAll(JA_ORG)) if (!JA_NOT_A_SUBJECT.has(m[0])) out.add(m[0]);
  if (ja && /[\p{Script=Han}\p{Script=Katakana}]/u.test(h)) {
    let run: Morph[] = [];
    const flush = () => {
      // 米CrowdStrike, 北朝鮮の…: a country in front is not part of the name.
      while (run.length && JA_NOT_A_SUBJECT.has(run[0]!.surface)) run.shift();
      if (run.some((x) => x.pos === '名詞,固有名詞')) {
        const s = run.map((x) => x.surface).join('');
        if (!JA_NOT_A_SUBJECT.has(s) && [...s].length >= 2) out.add(s);
      }
      run = [];
    };
    for (const mo of ja(h)) {
      const cjk = /^[\p{Script=Han}\p{Script=Katakana}ー]+$/u.test(mo.surface);
      if (cjk && (mo.pos === '名詞,固有名詞' || mo.pos === '名詞,一般')) run.push(mo);
      else flush();
    }
    flush();
  }
  return out;
}

const MONTHS_WEEKDAYS = new Set(
  'january february march april may june july august september october november december monday tuesday wednesday thursday friday saturday sunday'.split(
    ' ',
  ),
);

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Does a text (lower-cased, NFKC) mention a name? Latin names match as whole words, others as
 * substrings (Japanese has no spaces).
 */
export function mentions(textLower: string, name: string): boolean {
  if (!/^[a-z0-9]/.test(name)) return textLower.includes(name);
  // Only Latin letters and digits bound a Latin name: in 「Log4jの脆弱性」 it is still a word.
  return new RegExp(`(?<![a-z0-9])${escapeRe(name)}(?![a-z0-9])`).test(textLower);
}

const TIMESTAMP =
  /^\s*(?:\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?(?:[T\s]*\(?[月火水木金土日]?\)?\s*\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.? \d{1,2},? \d{4}(?:,? \d{1,2}:\d{2}\s*(?:[AaPp]\.?[Mm]\.?)?(?: [A-Z]{2,4})?)?|\d{1,2}:\d{2}(?:\s*(?:JST|UTC|GMT|ET|PT))?)/;

/**
 * Article text without what is not the article's prose: a timestamp glued to the front of a
 * paragraph (`<time>` text, 「2026-12-02T15:35:39…」), a paragraph that is only a date or a
 * byline ("By Jane Doe", 「文：山田太郎」「（記者 山田）」), and a wire dateline opening one of the
 * first paragraphs ("TOKYO, Dec 2 (Reuters) -", 【ワシントン＝共同】).
 * @example stripBoilerplate('2026-12-02T15:35:39+09:00取引所が…') === '取引所が…'
 */
export function stripBoilerplate(text: string): string {
  const out: string[] = [];
  for (const raw of text.split(/\n\s*\n/)) {
    let p = raw.trim();
    // A timestamp (and the 更新/公開 label next to it) in front of the prose.
    for (let i = 0; i < 3; i++) {
      const m = TIMESTAMP.exec(p);
      const label =
        /^\s*(?:更新|公開|配信|掲載|投稿|Updated|Published|Posted)(?:\s*[:：]\s*|\s*(?=\d))/i.exec(
          p,
        );
      // A date alone opening a sentence is prose (「2024年5月31日、同社は…」); one with a time of
      // day, or a paragraph that is nothing else, is a stamp.
      const stamp = m?.[0].trim() && (/\d:\d\d/.test(m[0]) || !p.slice(m[0].length).trim());
      if (label) p = p.slice(label[0].length);
      else if (stamp) p = p.slice(m![0].length).replace(/^\s*[|｜/／·・,、]?\s*/, '');
      else break;
    }
    if (!p) continue;
    if (
      /^(?:By|Written by|Reporting by|Text by)\s+[A-Z][\p{L}.'-]+(?:\s+(?:and\s+)?[A-Z][\p{L}.'-]+){0,5}$/u.test(
        p,
      )
    )
      continue;
    if (/^[（(]?(?:文|記者|取材・文|執筆|写真)[:：\s]\s*[^。]{1,30}[）)]?$/.test(p)) continue;
    // The headline may come first, so a dateline may open any of the first paragraphs.
    if (out.length < 3) {
      p = p
        .replace(/^【[^】]{1,20}】\s*/, '')
        .replace(
          /^[A-Z][A-Z .'-]{1,30}(?:,\s*[A-Z][a-z]{2}[a-z]*\.?\s+\d{1,2})?\s*(?:\([^)]{1,30}\))?\s+[-–—]{1,2}\s+/,
          '',
        );
    }
    if (p) out.push(p);
  }
  return out.join('\n\n');
}
