/**
 * Bytes → text for feeds and pages: BOM, then the HTTP charset, then the XML declaration or
 * HTML meta charset, then detection (strict UTF-8; ISO-2022-JP escapes; Shift_JIS versus EUC-JP
 * by which decodes with fewer errors and more kana/kanji), then windows-1252.
 * Not a general charset detector for every language.
 */
import iconv from 'iconv-lite';

export interface Decoded {
  text: string;
  /** Lower-case encoding name actually used. */
  encoding: string;
  /** How it was chosen: bom, http, declared, detected, fallback. */
  source: 'bom' | 'http' | 'declared' | 'detected' | 'fallback';
}

const ALIASES: Record<string, string> = {
  sjis: 'shift_jis',
  'x-sjis': 'shift_jis',
  shift_jis: 'shift_jis',
  'shift-jis': 'shift_jis',
  ms_kanji: 'shift_jis',
  cp932: 'shift_jis',
  'windows-31j': 'shift_jis',
  'x-euc-jp': 'euc-jp',
  eucjp: 'euc-jp',
  'iso-8859-1': 'windows-1252',
  latin1: 'windows-1252',
  'us-ascii': 'windows-1252',
  ascii: 'windows-1252',
  utf8: 'utf-8',
};

function norm(name: string): string {
  const n = name
    .trim()
    .toLowerCase()
    .replace(/^["']|["']$/g, '');
  return ALIASES[n] ?? n;
}

/** The charset parameter of a Content-Type header, if any. */
export function httpCharset(contentType: string | undefined | null): string | undefined {
  if (!contentType) return undefined;
  const m = /charset\s*=\s*("?)([^";\s]+)\1/i.exec(contentType);
  return m ? norm(m[2]!) : undefined;
}

function decodeWith(bytes: Uint8Array, enc: string): string | undefined {
  if (enc === 'utf-8') {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      return undefined;
    }
  }
  if (enc === 'iso-2022-jp') return decodeIso2022jp(bytes);
  if (!iconv.encodingExists(enc)) return undefined;
  return iconv.decode(bytes as unknown as Parameters<typeof iconv.decode>[0], enc);
}

/** ISO-2022-JP via JIS X 0208 → EUC-JP byte mapping (iconv-lite has no 2022 decoder). */
export function decodeIso2022jp(bytes: Uint8Array): string {
  const out: number[] = [];
  let mode: 'ascii' | 'jis' | 'kana' = 'ascii';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 0x1b) {
      const a = bytes[i + 1];
      const c = bytes[i + 2];
      if (a === 0x24 && (c === 0x42 || c === 0x40)) mode = 'jis';
      else if (a === 0x28 && (c === 0x42 || c === 0x4a)) mode = 'ascii';
      else if (a === 0x28 && c === 0x49) mode = 'kana';
      i += 2;
      continue;
    }
    if (b === 0x0a || b === 0x0d) {
      out.push(b);
      continue;
    }
    if (mode === 'jis' && i + 1 < bytes.length) {
      out.push(b | 0x80, bytes[i + 1]! | 0x80);
      i++;
    } else if (mode === 'kana') out.push(0x8e, b | 0x80);
    else out.push(b);
  }
  return iconv.decode(
    Uint8Array.from(out) as unknown as Parameters<typeof iconv.decode>[0],
    'euc-jp',
  );
}

function japaneseScore(s: string): number {
  let good = 0;
  let bad = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c === 0xfffd) bad += 5;
    else if (
      (c >= 0x3040 && c <= 0x30ff) ||
      (c >= 0x4e00 && c <= 0x9fff) ||
      (c >= 0x3000 && c <= 0x303f)
    )
      good++;
    else if (c >= 0xff61 && c <= 0xff9f)
      bad += 1; // half-width kana: rare in news, common in mis-decodes
    else if (c >= 0x80 && c < 0x3000) bad += 1;
  }
  return good - bad;
}

/**
 * Decode a feed or page.
 * @example decodeBytes(new TextEncoder().encode('<rss/>')).encoding === 'utf-8'
 */
export function decodeBytes(bytes: Uint8Array, contentType?: string | null): Decoded {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf)
    return {
      text: new TextDecoder('utf-8').decode(bytes.subarray(3)),
      encoding: 'utf-8',
      source: 'bom',
    };
  if (bytes[0] === 0xff && bytes[1] === 0xfe)
    return {
      text: new TextDecoder('utf-16le').decode(bytes.subarray(2)),
      encoding: 'utf-16le',
      source: 'bom',
    };
  if (bytes[0] === 0xfe && bytes[1] === 0xff)
    return {
      text: new TextDecoder('utf-16be').decode(bytes.subarray(2)),
      encoding: 'utf-16be',
      source: 'bom',
    };
  const http = httpCharset(contentType);
  if (http) {
    const t = decodeWith(bytes, http);
    if (t !== undefined) return { text: t, encoding: http, source: 'http' };
  }
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 2048));
  const decl =
    /^\s*<\?xml[^>]*encoding\s*=\s*["']([^"']+)["']/i.exec(head)?.[1] ??
    /<meta[^>]+charset\s*=\s*["']?([\w-]+)/i.exec(head)?.[1];
  if (decl) {
    const enc = norm(decl);
    const t = decodeWith(bytes, enc);
    if (t !== undefined) return { text: t, encoding: enc, source: 'declared' };
  }
  // ESC $ B: ISO-2022-JP.
  for (let i = 0; i + 2 < bytes.length; i++) {
    if (
      bytes[i] === 0x1b &&
      bytes[i + 1] === 0x24 &&
      (bytes[i + 2] === 0x42 || bytes[i + 2] === 0x40)
    )
      return { text: decodeIso2022jp(bytes), encoding: 'iso-2022-jp', source: 'detected' };
  }
  const utf8 = decodeWith(bytes, 'utf-8');
  if (utf8 !== undefined)
    return {
      text: utf8,
      encoding: 'utf-8',
      source: bytes.some((b) => b >= 0x80) ? 'detected' : 'fallback',
    };
  const sjis = decodeWith(bytes, 'shift_jis')!;
  const euc = decodeWith(bytes, 'euc-jp')!;
  const ss = japaneseScore(sjis);
  const es = japaneseScore(euc);
  if (Math.max(ss, es) > 0) {
    return ss >= es
      ? { text: sjis, encoding: 'shift_jis', source: 'detected' }
      : { text: euc, encoding: 'euc-jp', source: 'detected' };
  }
  return { text: decodeWith(bytes, 'windows-1252')!, encoding: 'windows-1252', source: 'fallback' };
}
