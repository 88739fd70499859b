import { summarize } from '../src/bulletin/core/summarize.js';
import { japaneseTokenizer } from '../src/bulletin/nlp.js';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
const ja = await japaneseTokenizer();
const doc = parse(readFileSync('test/bulletin/corpus/lookalike.yaml', 'utf8'));
for (const s of doc.stories) {
  const docs = s.articles.map((a: any, i: number) => ({ text: a.body, lang: /[ぁ-ん]/.test(a.body) ? 'ja' : 'en', time: a.day * 1e8 + i }));
  const langs = docs.map((d: any) => d.lang);
  const lang = langs.filter((l: string) => l === 'ja').length >= langs.filter((l: string) => l === 'en').length ? 'ja' : 'en';
  console.log(s.id, s.facts, JSON.stringify(summarize(docs, lang, ja)));
  console.log(s.id, 'en', JSON.stringify(summarize(docs.filter((d: any) => d.lang === 'en'), 'en', ja)));
}
