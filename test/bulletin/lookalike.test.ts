/**
 * Clustering against look-alike incidents (test/bulletin/corpus/lookalike.yaml): same kind,
 * same week, different victims must stay apart, and the reports of one incident, across
 * outlets and languages, must still meet. Run alone and mixed with the main corpus, and in
 * every order the pipeline could see (the pipeline sorts before clustering; so does this).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  type ArticleFeatures,
  bcubed,
  conflict,
  features,
  StoryClusterer,
} from '../../src/bulletin/core/cluster.js';
import type { JaTokenizer, Lang } from '../../src/bulletin/core/text.js';
import { japaneseTokenizer } from '../../src/bulletin/nlp.js';
import { candidateOrder } from '../../src/bulletin/pipeline.js';
import { BASE_TIME, type CorpusStory, loadCorpus } from './corpus-server.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const DAY = 86_400_000;
const LANG: Record<string, Lang> = {
  secwire: 'en',
  ledger: 'en',
  patch: 'en',
  jiho: 'ja',
  shinpo: 'ja',
  tokyo: 'ja',
};

interface Item {
  key: string;
  gold: string;
  f: ArticleFeatures;
}

function items(stories: CorpusStory[], ja: JaTokenizer, prefix: string): Item[] {
  return stories.flatMap((s) =>
    s.articles.map((a, i) => ({
      key: `${prefix}${s.id}-${i}`,
      gold: `${prefix}${s.id}`,
      f: features(
        {
          key: `${prefix}${s.id}-${i}`,
          title: a.title,
          text: a.body,
          lang: LANG[a.outlet]!,
          time: BASE_TIME + a.day * DAY + (i + 1) * 3_600_000,
          outlet: a.outlet,
        },
        ja,
      ),
    })),
  );
}

/** Cluster in the pipeline's order; returns article key → story id. */
function cluster(list: Item[]): Map<string, number> {
  const sorted = [...list].sort((x, y) =>
    candidateOrder(
      { time: x.f.time, canonKey: x.key, sourceId: 0 },
      { time: y.f.time, canonKey: y.key, sourceId: 0 },
    ),
  );
  const c = new StoryClusterer();
  return new Map(sorted.map((it) => [it.key, c.add(it.f).storyId]));
}

/** Pairs of articles of different gold stories put in one story, and gold stories split. */
function errors(list: Item[], pred: Map<string, number>) {
  const merged: string[] = [];
  const split: string[] = [];
  for (let i = 0; i < list.length; i++)
    for (let j = i + 1; j < list.length; j++) {
      const a = list[i]!;
      const b = list[j]!;
      const same = pred.get(a.key) === pred.get(b.key);
      if (same && a.gold !== b.gold) merged.push(`${a.key} + ${b.key}`);
      if (!same && a.gold === b.gold)
        split.push(`${a.key} / ${b.key} (${conflict(a.f, b.f) ?? 'low score'})`);
    }
  return { merged, split };
}

function shuffled<T>(xs: T[], seed: number): T[] {
  const out = [...xs];
  let s = seed >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('clustering look-alike incidents', () => {
  let ja: JaTokenizer;
  let look: Item[];
  let main: Item[];
  beforeAll(async () => {
    ja = await japaneseTokenizer();
    const doc = parse(readFileSync(join(HERE, 'corpus', 'lookalike.yaml'), 'utf8')) as {
      stories: CorpusStory[];
    };
    look = items(doc.stories, ja, 'L:');
    const corpus = loadCorpus();
    main = [
      ...items(corpus.stories, ja, 'M:'),
      ...corpus.distractors.map((a, i) => ({
        key: `M:distractor-${i}`,
        gold: `M:distractor-${i}`,
        f: features(
          {
            key: `M:distractor-${i}`,
            title: a.title,
            text: a.body,
            lang: LANG[a.outlet]!,
            time: BASE_TIME + a.day * DAY + 7_200_000,
            outlet: a.outlet,
          },
          ja,
        ),
      })),
    ];
  });

  it('keeps same-week incidents of one kind apart, and joins each incident’s reports', () => {
    const pred = cluster(look);
    const e = errors(look, pred);
    const b = bcubed(pred, new Map(look.map((i) => [i.key, i.gold])));
    console.log(
      `look-alike corpus: ${look.length} articles; B-cubed P ${b.precision.toFixed(3)} R ${b.recall.toFixed(3)} F1 ${b.f1.toFixed(3)}\n  merged: ${e.merged.join('; ') || '-'}\n  split: ${e.split.join('; ') || '-'}`,
    );
    expect(e.merged).toEqual([]);
    expect(b.recall).toBeGreaterThanOrEqual(0.9);
  });

  it('mixed with the main corpus: no incidents merged, F1 ≥ 0.95', () => {
    const all = [...main, ...look];
    const pred = cluster(all);
    const e = errors(all, pred);
    const b = bcubed(pred, new Map(all.map((i) => [i.key, i.gold])));
    console.log(
      `mixed corpus: ${all.length} articles; B-cubed P ${b.precision.toFixed(3)} R ${b.recall.toFixed(3)} F1 ${b.f1.toFixed(3)}\n  merged: ${e.merged.join('; ') || '-'}\n  split: ${e.split.join('; ') || '-'}`,
    );
    expect(e.merged).toEqual([]);
    expect(b.f1).toBeGreaterThanOrEqual(0.95);
  });

  it('gives the same stories whatever order the articles arrive in', () => {
    const all = [...main, ...look];
    const partition = (pred: Map<string, number>) => {
      const groups = new Map<number, string[]>();
      for (const [k, s] of pred) groups.set(s, [...(groups.get(s) ?? []), k]);
      return [...groups.values()].map((g) => g.sort().join(',')).sort();
    };
    const reference = partition(cluster(all));
    for (const seed of [1, 2, 3, 42, 1234])
      expect(partition(cluster(shuffled(all, seed)))).toEqual(reference);
  });

  it('names the reason two look-alikes cannot be one story', () => {
    const f = (k: string) => look.find((i) => i.key === k)!.f;
    expect(conflict(f('L:kumo-theft-1'), f('L:hoshi-theft-1'))).toBe('names');
    expect(conflict(f('L:kumo-theft-0'), f('L:hoshi-theft-0'))).toBeDefined();
    expect(conflict(f('L:kagero-botnet-0'), f('L:teraline-flaw-0'))).toBe('ids');
    expect(conflict(f('L:hanamaru-ransom-0'), f('L:tokai-ransom-0'))).toBeDefined();
    expect(conflict(f('L:kumo-theft-0'), f('L:kumo-theft-1'))).toBeUndefined();
    expect(conflict(f('L:hanamaru-ransom-0'), f('L:hanamaru-ransom-2'))).toBeUndefined();
  });
});
