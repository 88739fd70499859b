/** Print feedparser-suite pass rates per directory, and failures for one directory. */
import { vector } from '../helpers/vectors.js';
import { listCases, runCase } from './feedparser-harness.js';

const root = vector('bulletin/feedparser-tests');
const show = process.argv[2];
const per = new Map<string, [number, number]>();
for (const c of listCases(root)) {
  const dir = c.rel.split('/').slice(0, 2).join('/');
  const r = runCase(c);
  const s = per.get(dir) ?? [0, 0];
  s[1]++;
  if (r.pass) s[0]++;
  per.set(dir, s);
  if (show && dir === show && !r.pass) {
    console.log(`${c.rel}: ${c.expect}${r.error ? ` [${r.error}]` : ''}`);
    console.log(
      `   feed=${JSON.stringify(r.result.feed).slice(0, 300)} entries=${JSON.stringify(r.result.entries).slice(0, 300)} bozo=${r.result.bozo} ${r.result.bozo_exception ?? ''}`,
    );
  }
}
for (const [d, [p, t]] of [...per].sort())
  console.log(`${d.padEnd(28)} ${p}/${t} ${((100 * p) / t).toFixed(1)}%`);
