/**
 * Incremental story clustering: each new article joins the best existing story within a time
 * window, or starts a new one. Candidates come from MinHash/LSH over character 4-gram shingles
 * (near-duplicate text, any script) plus stories sharing an identifier, an entity or a key
 * figure (which is how a Japanese and an English report of one event meet). The score mixes
 * text, title, entity and figure overlap. Also B-cubed precision/recall/F1 for evaluation.
 * Pure: no clock, no randomness (the hash seeds are fixed).
 */
import {
  contentWords,
  entities,
  eventDates,
  extractIds,
  type JaTokenizer,
  keyFigures,
  type Lang,
  mentions,
  numbers,
  shingles,
  splitSentences,
  subjectNames,
} from './text.js';

const NUM_HASHES = 64;
const BANDS = 16;
const ROWS = NUM_HASHES / BANDS;

function fnv1a(s: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // final avalanche (murmur3 fmix32)
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** MinHash signature of a shingle set. */
export function minhash(set: Set<string>): Uint32Array {
  const sig = new Uint32Array(NUM_HASHES).fill(0xffffffff);
  for (const s of set) {
    const base = fnv1a(s, 0);
    const base2 = fnv1a(s, 0x9e3779b9) | 1;
    for (let i = 0; i < NUM_HASHES; i++) {
      const h = (base + Math.imul(i, base2)) >>> 0;
      if (h < sig[i]!) sig[i] = h;
    }
  }
  return sig;
}

export function minhashSimilarity(a: Uint32Array, b: Uint32Array): number {
  let eq = 0;
  for (let i = 0; i < NUM_HASHES; i++) if (a[i] === b[i]) eq++;
  return eq / NUM_HASHES;
}

function bandKeys(sig: Uint32Array): string[] {
  const keys: string[] = [];
  for (let b = 0; b < BANDS; b++)
    keys.push(`${b}:${Array.from(sig.subarray(b * ROWS, (b + 1) * ROWS)).join(',')}`);
  return keys;
}

function jaccard<T>(a: Set<T>, b: Set<T>): number {
  if (!a.size || !b.size) return 0;
  let inter = 0;
  for (const x of a) if (b.has(x)) inter++;
  return inter / (a.size + b.size - inter);
}

function overlapCoeff<T>(a: Set<T>, b: Set<T>): number {
  if (!a.size || !b.size) return 0;
  let inter = 0;
  for (const x of a) if (b.has(x)) inter++;
  return inter / Math.min(a.size, b.size);
}

/** What clustering needs of an article. */
export interface ClusterInput {
  key: string;
  title: string;
  text: string;
  lang: Lang;
  /** Epoch ms of publication (or fetch). */
  time: number;
  outlet: string;
}

/** An article's features, computed once and kept (the signature is stored). */
export interface ArticleFeatures {
  key: string;
  time: number;
  outlet: string;
  lang: Lang;
  /** Title and body, NFKC and lower case: where another article's names are looked for. */
  haystack: string;
  /** The names the article is about (see subjectNames). */
  subject: Set<string>;
  /** Amounts by unit (yen, usd, btc, eth) and counts, normalized values. */
  amounts: Map<string, number[]>;
  sig: Uint32Array;
  titleWords: Set<string>;
  ents: Set<string>;
  figures: Set<string>;
  dates: Set<string>;
  ids: Set<string>;
}

export function features(a: ClusterInput, ja?: JaTokenizer): ArticleFeatures {
  const body = a.text.slice(0, 3000);
  const all = `${a.title}\n${body}`;
  let subject = subjectNames(a.title, body, ja);
  if (!subject.size) subject = subjectNames(splitSentences(body)[0] ?? '', body, ja);
  const amounts = new Map<string, number[]>();
  for (const f of keyFigures(all)) {
    if (f.unit === 'date' || f.unit === 'percent' || f.unit === 'other') continue;
    amounts.set(f.unit, [...(amounts.get(f.unit) ?? []), f.value]);
  }
  return {
    key: a.key,
    time: a.time,
    outlet: a.outlet,
    lang: a.lang,
    haystack: all.normalize('NFKC').toLowerCase(),
    subject,
    amounts,
    // The body alone signs the article, so a reprint under a new headline is still a near-duplicate.
    sig: minhash(shingles(body.length >= 200 ? body : all, 4)),
    titleWords: new Set(contentWords(a.title, a.lang, ja)),
    ents: entities(all),
    figures: numbers(all),
    dates: eventDates(all),
    ids: new Set(extractIds(all)),
  };
}

export interface ClusterOptions {
  /** Articles further apart than this never join (ms). Default 7 days. */
  windowMs?: number;
  /** Minimum score to join a story. */
  threshold?: number;
}

export interface StoryState {
  id: number;
  members: ArticleFeatures[];
  lastTime: number;
}

// Reports round: "$1.5 billion" and "$1.46 billion" are one amount; two thefts rarely come
// within 5% of each other.
const close = (x: number, y: number) =>
  Math.abs(x - y) <= 0.05 * Math.max(Math.abs(x), Math.abs(y));

function sharesAmount(a: ArticleFeatures, b: ArticleFeatures): boolean {
  for (const [unit, xs] of a.amounts) {
    const ys = b.amounts.get(unit);
    if (ys?.some((y) => xs.some((x) => close(x, y)))) return true;
  }
  for (const n of a.figures) if (Number(n) >= 1000 && b.figures.has(n)) return true;
  return false;
}

/**
 * Why two articles cannot be one story, or undefined. Evidence that they are about different
 * incidents vetoes any similarity of kind, wording or week:
 * - ids: both name vulnerability identifiers and share none;
 * - names: each is about a name (organisation, product, exchange) the other never mentions,
 *   and their subjects share none (across languages, only names in Latin script compare);
 * - amounts: both give an amount in the same unit, the amounts differ, and no figure is shared;
 * - counts: as amounts, for counts of people, records or devices, when no subject name of
 *   either is mentioned by the other either.
 * @example conflict(kumoTheft, hoshiTheft) === 'names'
 */
export function conflict(a: ArticleFeatures, b: ArticleFeatures): string | undefined {
  if (a.ids.size && b.ids.size && ![...a.ids].some((id) => b.ids.has(id))) return 'ids';
  const comparable = (s: Set<string>) =>
    a.lang === b.lang ? [...s] : [...s].filter((n) => /[a-z]/.test(n));
  const sa = comparable(a.subject);
  const sb = comparable(b.subject);
  const aInB = sa.filter((n) => mentions(b.haystack, n));
  const bInA = sb.filter((n) => mentions(a.haystack, n));
  if (sa.length && sb.length && !sa.some((n) => sb.includes(n))) {
    if (aInB.length < sa.length && bInA.length < sb.length) return 'names';
  }
  if (sharesAmount(a, b)) return undefined;
  for (const unit of ['yen', 'usd', 'btc', 'eth']) {
    if (a.amounts.has(unit) && b.amounts.has(unit)) return 'amounts';
  }
  if (a.amounts.has('count') && b.amounts.has('count') && !aInB.length && !bInA.length)
    return 'counts';
  return undefined;
}

/** Pairwise score of two articles, 0..1+. */
export function pairScore(a: ArticleFeatures, b: ArticleFeatures): number {
  const text = minhashSimilarity(a.sig, b.sig);
  if (text >= 0.6) return 1; // near-duplicate text
  const title = jaccard(a.titleWords, b.titleWords);
  const ent = overlapCoeff(a.ents, b.ents) * Math.min(1, Math.min(a.ents.size, b.ents.size) / 3);
  const num =
    overlapCoeff(a.figures, b.figures) * Math.min(1, Math.min(a.figures.size, b.figures.size) / 2);
  const fullDates = (s: Set<string>) => new Set([...s].filter((d) => d.length === 10));
  const da = fullDates(a.dates);
  const db = fullDates(b.dates);
  const date = overlapCoeff(a.dates, b.dates);
  let ids = 0;
  for (const id of a.ids) if (b.ids.has(id)) ids = 1;
  let penalty = 0;
  if (a.ids.size && b.ids.size && !ids) penalty += 0.3;
  if (da.size && db.size && overlapCoeff(da, db) === 0 && overlapCoeff(a.dates, b.dates) === 0)
    penalty += 0.2;
  if (a.figures.size >= 2 && b.figures.size >= 2 && num === 0) penalty += 0.1;
  return 0.9 * text + 0.5 * title + 0.4 * ent + 0.45 * num + 0.3 * date + 0.5 * ids - penalty;
}

/**
 * The incremental clusterer: feed articles in time order with `add`; it returns the story id.
 * State can be rebuilt from stored features (`restore`).
 * @example const c = new StoryClusterer(); c.add(f1); c.add(f2) === c.add(f1) // same story
 */
export class StoryClusterer {
  readonly stories = new Map<number, StoryState>();
  private readonly lsh = new Map<string, Set<number>>();
  private readonly byToken = new Map<string, Set<number>>();
  private nextId = 1;
  private readonly windowMs: number;
  private readonly threshold: number;

  constructor(opts: ClusterOptions = {}) {
    this.windowMs = opts.windowMs ?? 7 * 86_400_000;
    this.threshold = opts.threshold ?? 0.35;
  }

  /** Put back a stored story (ids are kept). */
  restore(id: number, members: ArticleFeatures[]) {
    for (const m of members) this.attach(id, m);
    this.nextId = Math.max(this.nextId, id + 1);
  }

  /** The best story for an article, if one scores above the threshold. */
  match(f: ArticleFeatures): { storyId: number; score: number } | undefined {
    const cands = new Set<number>();
    for (const k of bandKeys(f.sig)) for (const s of this.lsh.get(k) ?? []) cands.add(s);
    for (const t of this.tokens(f)) for (const s of this.byToken.get(t) ?? []) cands.add(s);
    let best = -1;
    let bestScore = 0;
    // Stories in id order, so a tie goes to the older story whatever the index's order.
    for (const sid of [...cands].sort((x, y) => x - y)) {
      const st = this.stories.get(sid)!;
      if (Math.abs(f.time - st.lastTime) > this.windowMs) continue;
      let s = 0;
      let vetoed = false;
      for (const m of st.members) {
        if (Math.abs(f.time - m.time) > this.windowMs) continue;
        // Complete link for conflicts: one member about another incident bars the story, so
        // a chain of look-alikes cannot pull distinct incidents into one.
        if (minhashSimilarity(f.sig, m.sig) < 0.6 && conflict(f, m)) {
          vetoed = true;
          break;
        }
        s = Math.max(s, pairScore(f, m));
      }
      if (vetoed) continue;
      if (s > bestScore) {
        bestScore = s;
        best = sid;
      }
    }
    return best >= 0 && bestScore >= this.threshold
      ? { storyId: best, score: bestScore }
      : undefined;
  }

  /** Put an article into a story (a new id starts a new story). */
  assign(storyId: number, f: ArticleFeatures) {
    this.attach(storyId, f);
    if (storyId >= this.nextId) this.nextId = storyId + 1;
  }

  /** Add an article with ids from this clusterer; returns its story id. */
  add(f: ArticleFeatures): { storyId: number; created: boolean } {
    const m = this.match(f);
    if (m) {
      this.attach(m.storyId, f);
      return { storyId: m.storyId, created: false };
    }
    const id = this.nextId++;
    this.attach(id, f);
    return { storyId: id, created: true };
  }

  private tokens(f: ArticleFeatures): string[] {
    return [
      ...[...f.ids].map((x) => `id:${x}`),
      ...[...f.ents].map((x) => `e:${x}`),
      ...[...f.figures].map((x) => `f:${x}`),
    ];
  }

  private attach(id: number, f: ArticleFeatures) {
    let st = this.stories.get(id);
    if (!st) {
      st = { id, members: [], lastTime: f.time };
      this.stories.set(id, st);
    }
    st.members.push(f);
    st.lastTime = Math.max(st.lastTime, f.time);
    for (const k of bandKeys(f.sig)) {
      const set = this.lsh.get(k) ?? new Set<number>();
      this.lsh.set(k, set);
      set.add(id);
    }
    for (const t of this.tokens(f)) {
      const set = this.byToken.get(t) ?? new Set<number>();
      this.byToken.set(t, set);
      if (set.size < 50) set.add(id);
    }
  }
}

/**
 * B-cubed precision, recall and F1 of a clustering against gold labels (same keys).
 * @example bcubed(new Map([['a',1],['b',1]]), new Map([['a','x'],['b','x']])).f1 === 1
 */
export function bcubed(
  pred: Map<string, unknown>,
  gold: Map<string, unknown>,
): { precision: number; recall: number; f1: number } {
  const keys = [...gold.keys()].filter((k) => pred.has(k));
  const byPred = new Map<unknown, string[]>();
  const byGold = new Map<unknown, string[]>();
  for (const k of keys) {
    const p = pred.get(k);
    const g = gold.get(k);
    byPred.set(p, [...(byPred.get(p) ?? []), k]);
    byGold.set(g, [...(byGold.get(g) ?? []), k]);
  }
  let P = 0;
  let R = 0;
  for (const k of keys) {
    const pc = byPred.get(pred.get(k))!;
    const gc = byGold.get(gold.get(k))!;
    const gl = gold.get(k);
    const pl = pred.get(k);
    P += pc.filter((x) => gold.get(x) === gl).length / pc.length;
    R += gc.filter((x) => pred.get(x) === pl).length / gc.length;
  }
  const precision = keys.length ? P / keys.length : 0;
  const recall = keys.length ? R / keys.length : 0;
  return {
    precision,
    recall,
    f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0,
  };
}
