/**
 * Loading fingerprint databases from disk: a Recog checkout's `xml/` directory (from
 * `scan --fingerprints <dir>` or the config key `exposure.fingerprints`) plus Mamori's own
 * small set for cameras, DVRs and routers. Not the engine: see core/recog.ts.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MamoriError } from '../shared/errors.js';
import { MAMORI_FINGERPRINTS } from './core/mamori-fingerprints.js';
import { type FingerprintDb, parseRecogXml, RecogEngine } from './core/recog.js';

export const latin1FromBase64 = (s: string): string => Buffer.from(s, 'base64').toString('latin1');

/** Read every `*.xml` Recog database in a directory (or its `xml/` subdirectory). */
export function loadRecogDir(dir: string): FingerprintDb[] {
  let base = dir;
  try {
    if (statSync(join(dir, 'xml')).isDirectory()) base = join(dir, 'xml');
  } catch {
    // no xml/ subdirectory: the directory itself holds the databases
  }
  let files: string[];
  try {
    files = readdirSync(base).filter((f) => f.endsWith('.xml'));
  } catch (err) {
    throw new MamoriError('E_INPUT', `cannot read fingerprint directory ${dir}`, {
      cause: err,
      hint: 'pass --fingerprints <dir> with Recog XML files (e.g. a checkout of rapid7/recog)',
    });
  }
  if (files.length === 0) {
    throw new MamoriError('E_INPUT', `no Recog *.xml databases in ${base}`);
  }
  return files.sort().map((f) => {
    const path = join(base, f);
    let db: FingerprintDb;
    try {
      db = parseRecogXml(f.replace(/\.xml$/, ''), readFileSync(path, 'utf8'), latin1FromBase64);
    } catch (err) {
      const msg = (err as Error).message;
      const line = /^line (\d+): /.exec(msg);
      throw new MamoriError(
        'E_INPUT',
        `${path}${line ? `:${line[1]}` : ''}: not a Recog database: ${line ? msg.slice(line[0].length) : msg}`,
        { cause: err, details: { file: path, line: line ? Number(line[1]) : undefined } },
      );
    }
    // a pattern that does not compile fails the load, named by file and line: a silently
    // missing fingerprint would be a false "unidentified"
    const broken = db.fingerprints.find((fp) => fp.compileError !== undefined);
    if (broken)
      throw new MamoriError(
        'E_INPUT',
        `${path}:${broken.line ?? '?'}: fingerprint "${broken.description}" does not compile: ${broken.compileError}`,
        {
          details: { file: path, line: broken.line, pattern: broken.pattern },
          hint: 'fix or remove the pattern, or report the Ruby construct Mamori does not translate',
        },
      );
    return db;
  });
}

const engineCache = new Map<string, { stamp: string; engine: RecogEngine }>();

/** What identifies a directory's databases on disk: names, sizes and modification times. */
function dirStamp(dir: string): string {
  let base = dir;
  try {
    if (statSync(join(dir, 'xml')).isDirectory()) base = join(dir, 'xml');
  } catch {
    // no xml/ subdirectory
  }
  try {
    return readdirSync(base)
      .filter((f) => f.endsWith('.xml'))
      .sort()
      .map((f) => {
        const st = statSync(join(base, f));
        return `${f}:${st.size}:${st.mtimeMs}`;
      })
      .join('|');
  } catch {
    return '';
  }
}

/** Mamori's own databases (cameras, DVRs, routers). */
export function mamoriDatabases(): FingerprintDb[] {
  return MAMORI_FINGERPRINTS.map((x) => parseRecogXml(x.name, x.xml, latin1FromBase64));
}

/**
 * The engine a scan uses: Mamori's set first (camera-specific), then Recog's when a directory
 * is given.
 */
export function loadEngine(recogDir?: string): RecogEngine {
  // compile once and cache: parsing and compiling 4,600 fingerprints takes seconds; the same
  // files (names, sizes, mtimes) give the same engine
  const key = resolve(recogDir ?? '');
  const stamp = recogDir ? dirStamp(recogDir) : 'mamori';
  const hit = engineCache.get(key);
  if (hit && hit.stamp === stamp) return hit.engine;
  const dbs = mamoriDatabases();
  if (recogDir) dbs.push(...loadRecogDir(recogDir));
  const engine = new RecogEngine(dbs);
  engineCache.set(key, { stamp, engine });
  return engine;
}
