/**
 * Canonical URLs for dedup: lower-case scheme and host, no default port, no fragment, no
 * tracking parameters (utm_*, fbclid, gclid …), sorted query, no trailing `index.html`.
 */
const TRACKING =
  /^(utm_[a-z]+|fbclid|gclid|dclid|yclid|mc_cid|mc_eid|ref|ref_src|cmpid|ncid|_ga|igshid|spm)$/i;

/** @example canonicalUrl('HTTPS://Example.com:443/a/index.html?utm_source=x&b=1#top') === 'https://example.com/a/?b=1' */
export function canonicalUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    return raw.trim();
  }
  u.hash = '';
  const params = [...u.searchParams.entries()]
    .filter(([k]) => !TRACKING.test(k))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  u.search = '';
  for (const [k, v] of params) u.searchParams.append(k, v);
  u.pathname = u.pathname.replace(/\/index\.(html?|php|asp)$/i, '/');
  return u.toString();
}

export function hostOf(url: string): string {
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return '';
  }
}
