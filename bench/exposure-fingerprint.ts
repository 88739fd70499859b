/**
 * exposure-fingerprint: banners per second through the whole Recog database (every banner asked
 * of every database, as for a service of unknown protocol), prefiltered engine vs a naive linear
 * match of every regex in order — same engine, same answers (checked), same run.
 */
import { join } from 'node:path';
import { loadRecogDir, mamoriDatabases, RecogEngine } from '../src/exposure/index.js';
import type { BenchFn } from './lib.js';

export const run: BenchFn = async (ctx) => {
  const dir = join(import.meta.dirname, '..', '..', 'shared', 'vectors', 'recog', 'xml');
  const t0 = performance.now();
  const dbs = [...mamoriDatabases(), ...loadRecogDir(dir)];
  const loadMs = performance.now() - t0;
  const engine = new RecogEngine(dbs);
  const fingerprints = dbs.reduce((n, d) => n + d.fingerprints.length, 0);
  const all: string[] = [];
  for (const db of dbs)
    for (const fp of db.fingerprints) for (const ex of fp.examples) all.push(ex.text);
  // every k-th example, so both sides see the same mix of protocols
  const n = Math.max(200, Math.round(1500 * ctx.scale));
  const step = Math.max(1, Math.floor(all.length / n));
  const banners = all.filter((_, i) => i % step === 0).slice(0, n);
  ctx.log(
    `${fingerprints} fingerprints in ${dbs.length} databases (loaded in ${loadMs.toFixed(0)} ms); ${banners.length} banners`,
  );
  const names = dbs.map((d) => d.name);
  const time = (fn: (db: string, text: string) => unknown) => {
    let hits = 0;
    const t = performance.now();
    for (const b of banners) for (const db of names) if (fn(db, b)) hits++;
    return { seconds: (performance.now() - t) / 1000, hits };
  };
  time((db, b) => engine.match(db, b)); // warm-up
  const fast = time((db, b) => engine.match(db, b));
  const slow = time((db, b) => engine.matchLinear(db, b));
  if (fast.hits !== slow.hits)
    throw new Error(`prefilter changed answers: ${fast.hits} vs ${slow.hits}`);
  const fastRate = banners.length / fast.seconds;
  const slowRate = banners.length / slow.seconds;
  return {
    figures: [
      {
        name: 'banners/s through every Recog database (prefiltered)',
        value: fastRate,
        unit: 'banners/s',
        base: 'naive linear regex scan, same engine',
        baseValue: slowRate,
        ratio: fastRate / slowRate,
        goal: '> 1× (faster than linear)',
        met: fastRate > slowRate,
      },
    ],
    notes: [
      `${fingerprints} fingerprints in ${dbs.length} databases (Recog ${dir.split('/').slice(-3).join('/')} plus Mamori's set); ${banners.length} banners (every ${step}th Recog example), each matched against all ${dbs.length} databases; ${fast.hits} matches, identical on both sides.`,
      `Loading and compiling the databases took ${loadMs.toFixed(0)} ms (not in the rate).`,
    ],
  };
};
