/**
 * Banner text helpers: hostile bytes from the network made safe to store and search (invalid
 * UTF-8 replaced, NUL removed, size capped), HTML titles, and Shodan's favicon hash (MurmurHash3
 * x86 32-bit, signed, over the base64 text with a newline every 76 characters). Pure.
 */

/** Most bytes of a banner kept (raw and as text). */
export const BANNER_CAP = 64 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * @example bannerText(new Uint8Array([0x41, 0x00, 0xff])) === 'A\ufffd'
 */
export function bannerText(bytes: Uint8Array): string {
  const capped = bytes.length > BANNER_CAP ? bytes.subarray(0, BANNER_CAP) : bytes;
  return utf8.decode(capped).replace(/\u0000/g, '');
}

/** Text for Recog: UTF-8 when valid, else one char per byte (Ruby's binary strings). */
export function matchText(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    let s = '';
    for (const b of bytes) s += String.fromCharCode(b);
    return s;
  }
}

const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
};

/** The page's <title>, entities decoded, whitespace collapsed, capped at 512 characters. */
export function htmlTitle(html: string): string | undefined {
  const m = /<title[^>]*>([\s\S]*?)<\/title\s*>/i.exec(html);
  if (!m) return undefined;
  const t = m[1]!
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (all, e: string) => {
      if (e[0] === '#') {
        const code =
          e[1] === 'x' || e[1] === 'X' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1));
        return code > 0 && code < 0x110000 ? String.fromCodePoint(code) : '';
      }
      return ENTITIES[e.toLowerCase()] ?? all;
    })
    .replace(/\s+/g, ' ')
    .trim();
  return t.slice(0, 512);
}

/** MurmurHash3 x86 32-bit as a signed integer (what Python's mmh3.hash returns). */
export function murmur3(bytes: Uint8Array, seed = 0): number {
  let h = seed >>> 0;
  const n = bytes.length;
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = n & 3;
  if (rest > 0) {
    let k = 0;
    if (rest === 3) k ^= bytes[i + 2]! << 16;
    if (rest >= 2) k ^= bytes[i + 1]! << 8;
    k ^= bytes[i]!;
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
  }
  h ^= n;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** base64 with a newline after every 76 characters and at the end (Python's encodebytes). */
export function base64Lines(b64: string): string {
  let out = '';
  for (let i = 0; i < b64.length; i += 76) out += `${b64.slice(i, i + 76)}\n`;
  return out;
}

/**
 * Shodan's `http.favicon.hash`: mmh3 of the favicon's base64 text in encodebytes form.
 * @example faviconHash(base64Of(icoBytes))
 */
export function faviconHash(base64: string): number {
  return murmur3(new TextEncoder().encode(base64Lines(base64)));
}
