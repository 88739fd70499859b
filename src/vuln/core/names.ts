/**
 * Package-name and date normalisation shared by parsers and lookups: the same package must
 * meet itself whichever way an SBOM or an advisory spells it (PEP 503 for PyPI).
 */
import { ecosystemFamily } from './versions/index.js';

/** @example nameKey('PyPI', 'Django_REST.framework') === 'django-rest-framework' */
export function nameKey(ecosystem: string, name: string): string {
  const fam = ecosystemFamily(ecosystem);
  const n = name.trim();
  if (fam === 'pypi') return n.toLowerCase().replace(/[-_.]+/g, '-');
  if (fam === 'go' || fam === 'packagist') return n.toLowerCase();
  return n.toLowerCase();
}

/** The ecosystem key used for lookups ("Debian:12" → "debian"). */
export function ecoKey(ecosystem: string): string {
  return ecosystemFamily(ecosystem);
}

/**
 * An ISO-8601 timestamp as UTC `YYYY-MM-DDTHH:MM:SSZ`; a bare date counts as midnight UTC
 * unless `defaultOffset` (e.g. "+09:00" for JVN) says otherwise. Undefined when unparsable.
 * @example toUtcIso('2017-12-31T23:30:00+09:00') === '2017-12-31T14:30:00Z'
 */
export function toUtcIso(s: unknown, defaultOffset = 'Z'): string | undefined {
  if (typeof s !== 'string' || s.trim() === '') return undefined;
  let t = s.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(t)) t = `${t}T00:00:00${defaultOffset}`;
  else if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(t))
    t = `${t.replace(' ', 'T')}${defaultOffset}`;
  const ms = Date.parse(t);
  if (Number.isNaN(ms)) return undefined;
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
