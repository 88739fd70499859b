/**
 * Loading fingerprint databases from disk: a Recog checkout's `xml/` directory (from
 * `scan --fingerprints <dir>` or the config key `exposure.fingerprints`) plus Mamori's own
 * small set for cameras, DVRs and routers. Not the engine: see core/recog.ts.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
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
    try {
      return parseRecogXml(
        f.replace(/\.xml$/, ''),
        readFileSync(join(base, f), 'utf8'),
        latin1FromBase64,
      );
    } catch (err) {
      throw new MamoriError(
        'E_INPUT',
        `${join(base, f)}: not a Recog database: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  });
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
  const dbs = mamoriDatabases();
  if (recogDir) dbs.push(...loadRecogDir(recogDir));
  return new RecogEngine(dbs);
}
