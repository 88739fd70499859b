/**
 * bulletin-pipeline: ~1,000 articles from a local HTTP server (the fixture corpus repeated in
 * 16 separate fortnights, six outlets in six feed formats/encodings, one HTML page per
 * article) through fetch, extraction, clustering and summarizing into SQLite.
 * Figures: articles/s against plain downloading of the same feeds and pages in the same run
 * (the cost of everything we do beyond the network), peak RSS against a 1 GiB budget,
 * clustering B-cubed F1 against per-feed-only grouping (what feed readers do: every article
 * its own story), and key-fact recall of the three bullets against Lead-3.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { bcubed } from '../src/bulletin/core/cluster.js';
import { addSource, fetchAll } from '../src/bulletin/index.js';
import { openDb } from '../src/storage/index.js';
import { startCorpusServer } from '../test/bulletin/corpus-server.js';
import { evaluate } from '../test/bulletin/eval.js';
import type { BenchFn } from './lib.js';

export const run: BenchFn = async (ctx) => {
  const copies = Math.max(2, Math.round(16 * ctx.scale));
  const srv = await startCorpusServer({ copies });
  const dir = mkdtempSync(join(tmpdir(), 'mamori-bench-bulletin-'));
  const store = await openDb(join(dir, 'bench.db'));
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  try {
    // Baseline: download every feed and page, nothing else.
    const urls = [
      ...srv.corpus.outlets.map((o) => srv.feedUrl(o.id)),
      ...srv.articles.map((a) => `${srv.base}${a.path}`),
    ];
    const d0 = performance.now();
    for (let i = 0; i < urls.length; i += 8) {
      await Promise.all(urls.slice(i, i + 8).map(async (u) => (await fetch(u)).arrayBuffer()));
    }
    const downloadMs = performance.now() - d0;
    ctx.log(`downloaded ${urls.length} URLs in ${downloadMs.toFixed(0)} ms`);

    const now = new Date().toISOString();
    for (const o of srv.corpus.outlets)
      await addSource(
        store.db,
        srv.feedUrl(o.id),
        { name: o.name, lang: o.lang, allowPrivate: true },
        now,
      );
    const t0 = performance.now();
    const report = await fetchAll(store.db, {
      now: () => Date.UTC(2030, 0, 1),
      feedLimits: { hostDelayMs: 0 },
      pageLimits: { hostDelayMs: 0 },
      maxEntriesPerSource: 100_000,
      concurrency: 6,
      windowMs: 7 * 86_400_000,
    });
    const pipelineMs = performance.now() - t0;
    ctx.log(`pipeline: ${report.newArticles} articles in ${pipelineMs.toFixed(0)} ms`);
    const ev = await evaluate(store.db, srv);
    const singletons = new Map(srv.articles.map((a) => [a.path, a.path]));
    const gold = new Map(srv.articles.map((a) => [a.path, a.gold]));
    const baselineF1 = bcubed(singletons, gold).f1;
    const aps = report.newArticles / (pipelineMs / 1000);
    const dps = srv.articles.length / (downloadMs / 1000);
    const budget = 1024 * 1024 * 1024;
    return {
      figures: [
        {
          name: 'articles through the pipeline',
          value: aps,
          unit: 'articles/s',
          base: 'download only',
          baseValue: dps,
          ratio: aps / dps,
        },
        {
          name: 'peak RSS',
          value: peak / 2 ** 20,
          unit: 'MiB',
          base: 'budget',
          baseValue: budget / 2 ** 20,
          ratio: peak / budget,
          goal: '≤ 1024 MiB',
          met: peak <= budget,
        },
        {
          name: 'cluster B-cubed F1',
          value: ev.bcubed.f1,
          unit: 'F1',
          base: 'per-feed only (singletons)',
          baseValue: baselineF1,
          ratio: ev.bcubed.f1 / baselineF1,
        },
        {
          name: 'key-fact recall of 3 bullets',
          value: ev.recall,
          unit: 'recall',
          base: 'Lead-3',
          baseValue: ev.lead3Recall,
          ratio: ev.recall / ev.lead3Recall,
          goal: '≥ Lead-3',
          met: ev.recall >= ev.lead3Recall,
        },
      ],
      notes: [
        `${report.newArticles} articles (the ${srv.articles.length / copies}-article corpus × ${copies} separate months), 6 outlets (RSS 2.0, Atom, JSON Feed, RSS 1.0 Shift_JIS, RSS 2.0 EUC-JP, Atom ISO-2022-JP), pages fetched and extracted, SQLite store, host politeness delay 0 (one local host).`,
        `B-cubed precision ${ev.bcubed.precision.toFixed(3)}, recall ${ev.bcubed.recall.toFixed(3)}; ${ev.stories} stories for ${srv.corpus.stories.length * copies} gold stories + ${srv.corpus.distractors.length * copies} distractors.`,
        'The corpus is small and the cluster threshold was chosen on it: F1 here is an upper bound for real feeds, not a promise.',
        `Noisy: 2 cores shared with other sessions; load average at the end of the run ${loadavg()[0]!.toFixed(1)}.`,
      ],
    };
  } finally {
    clearInterval(sampler);
    await store.close();
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
};
