/**
 * SecLang transformations (`t:…`) over byte strings (one char per byte), with ModSecurity v2's
 * semantics: urlDecodeUni maps %uHHHH to one byte (full-width ASCII to ASCII), htmlEntityDecode
 * knows numeric entities and the five named ones ModSecurity knows, and so on.
 * Not a general decoder library: each function does what the rule language promises, no more.
 */
import { md5, sha1 } from '@noble/hashes/legacy.js';

export type Transform = (s: string) => string;

const HEXCHARS = '0123456789abcdefABCDEF';
const isHex = (c: string | undefined) => c !== undefined && c !== '' && HEXCHARS.includes(c);
const hexVal = (s: string) => Number.parseInt(s, 16);

/** %uHHHH to one byte: full-width ASCII (FF01–FF5E) to ASCII, otherwise the low byte. */
function unicodeToByte(code: number): number {
  if (code >= 0xff01 && code <= 0xff5e) return code - 0xfee0;
  return code & 0xff;
}

function urlDecode(s: string, uni: boolean): string {
  if (!s.includes('%') && !s.includes('+')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c === '+') {
      out += ' ';
    } else if (c === '%') {
      if (
        uni &&
        (s[i + 1] === 'u' || s[i + 1] === 'U') &&
        isHex(s[i + 2]) &&
        isHex(s[i + 3]) &&
        isHex(s[i + 4]) &&
        isHex(s[i + 5])
      ) {
        out += String.fromCharCode(unicodeToByte(hexVal(s.slice(i + 2, i + 6))));
        i += 5;
      } else if (isHex(s[i + 1]) && isHex(s[i + 2])) {
        out += String.fromCharCode(hexVal(s.slice(i + 1, i + 3)));
        i += 2;
      } else out += c;
    } else out += c;
  }
  return out;
}

const NAMED: Record<string, string> = { quot: '"', amp: '&', lt: '<', gt: '>', nbsp: '\xa0' };

const LONG_MAX = (1n << 63n) - 1n;
/** The low byte of C's strtol over any number of digits (it saturates at LONG_MAX). */
function strtolByte(digits: string): number {
  const v = BigInt(digits);
  return Number((v > LONG_MAX ? LONG_MAX : v) & 0xffn);
}

function htmlEntityDecode(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(
    /&(?:#[xX]([0-9a-fA-F]+);?|#([0-9]+);?|([a-zA-Z]{2,4});?)/g,
    (m, hx, dec, name) => {
      if (hx !== undefined) return String.fromCharCode(strtolByte(`0x${hx}`));
      if (dec !== undefined) return String.fromCharCode(strtolByte(dec));
      const v = NAMED[String(name).toLowerCase()];
      if (v === undefined) return m;
      // a named entity needs its ';' unless it ends the input
      return v;
    },
  );
}

function jsDecode(s: string): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c !== '\\' || i + 1 >= s.length) {
      out += c;
      continue;
    }
    const d = s[i + 1] as string;
    if (
      (d === 'u' || d === 'U') &&
      isHex(s[i + 2]) &&
      isHex(s[i + 3]) &&
      isHex(s[i + 4]) &&
      isHex(s[i + 5])
    ) {
      out += String.fromCharCode(unicodeToByte(hexVal(s.slice(i + 2, i + 6))));
      i += 5;
    } else if ((d === 'x' || d === 'X') && isHex(s[i + 2]) && isHex(s[i + 3])) {
      out += String.fromCharCode(hexVal(s.slice(i + 2, i + 4)));
      i += 3;
    } else if (d >= '0' && d <= '7') {
      let j = i + 1;
      let oct = '';
      while (j < s.length && oct.length < 3 && (s[j] as string) >= '0' && (s[j] as string) <= '7') {
        oct += s[j];
        j++;
      }
      out += String.fromCharCode(Number.parseInt(oct, 8) & 0xff);
      i = j - 1;
    } else {
      const map: Record<string, string> = {
        a: '\x07',
        b: '\b',
        f: '\f',
        n: '\n',
        r: '\r',
        t: '\t',
        v: '\v',
      };
      out += map[d] ?? d;
      i += 1;
    }
  }
  return out;
}

function cssDecode(s: string): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c !== '\\') {
      out += c;
      continue;
    }
    let j = i + 1;
    let hex = '';
    while (j < s.length && hex.length < 6 && isHex(s[j])) hex += s[j++];
    if (hex.length > 0) {
      let code = hexVal(hex);
      if (hex.length > 2) code = unicodeToByte(code);
      out += String.fromCharCode(code & 0xff);
      if (s[j] === ' ' || s[j] === '\t' || s[j] === '\n' || s[j] === '\r' || s[j] === '\f') j++;
      i = j - 1;
    } else if (j < s.length) {
      if (s[j] !== '\n') out += s[j];
      i = j;
    }
  }
  return out;
}

function escapeSeqDecode(s: string): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c !== '\\' || i + 1 >= s.length) {
      out += c;
      continue;
    }
    const d = s[i + 1] as string;
    const map: Record<string, string> = {
      a: '\x07',
      b: '\b',
      f: '\f',
      n: '\n',
      r: '\r',
      t: '\t',
      v: '\v',
      '\\': '\\',
      '?': '?',
      "'": "'",
      '"': '"',
    };
    if (map[d] !== undefined) {
      out += map[d];
      i += 1;
    } else if ((d === 'x' || d === 'X') && isHex(s[i + 2]) && isHex(s[i + 3])) {
      out += String.fromCharCode(hexVal(s.slice(i + 2, i + 4)));
      i += 3;
    } else if (d >= '0' && d <= '7') {
      let j = i + 1;
      let oct = '';
      while (j < s.length && oct.length < 3 && (s[j] as string) >= '0' && (s[j] as string) <= '7') {
        oct += s[j];
        j++;
      }
      out += String.fromCharCode(Number.parseInt(oct, 8) & 0xff);
      i = j - 1;
    } else {
      out += d;
      i += 1;
    }
  }
  return out;
}

const WS = /[\x20\f\t\n\r\v\xa0]+/g;

function cmdLine(s: string): string {
  let out = s.replace(/[\\"'^]/g, '');
  out = out.replace(/[,;]/g, ' ');
  out = out.replace(/[\x20\t\n\r\f\v]+/g, ' ');
  out = out.replace(/ (?=[/(])/g, '');
  return out.toLowerCase();
}

function normalizePath(s: string): string {
  if (s === '') return s;
  const abs = s.startsWith('/');
  const trailing = s.endsWith('/') || s.endsWith('/.') || s.endsWith('/..');
  const parts: string[] = [];
  for (const seg of s.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (parts.length > 0 && parts[parts.length - 1] !== '..') parts.pop();
      else if (!abs) parts.push('..');
      continue;
    }
    parts.push(seg);
  }
  let out = (abs ? '/' : '') + parts.join('/');
  if (trailing && parts.length > 0) out += '/';
  return out;
}

function base64Decode(s: string, ext: boolean): string {
  let clean = s;
  if (ext) clean = s.replace(/[^A-Za-z0-9+/]/g, '');
  else {
    const m = /^[A-Za-z0-9+/]*/.exec(s);
    clean = m ? m[0] : '';
  }
  let out = '';
  let buf = 0;
  let bits = 0;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (const c of clean) {
    buf = (buf << 6) | alphabet.indexOf(c);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += String.fromCharCode((buf >> bits) & 0xff);
    }
  }
  return out;
}

function utf8toUnicode(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const b = s.charCodeAt(i);
    let need = 0;
    let code = 0;
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      code = b & 0x1f;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      code = b & 0x0f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      code = b & 0x07;
    }
    let ok = need > 0 && i + need < s.length + 0;
    for (let k = 1; ok && k <= need; k++) {
      const c = s.charCodeAt(i + k);
      if (Number.isNaN(c) || (c & 0xc0) !== 0x80) ok = false;
      else code = (code << 6) | (c & 0x3f);
    }
    if (ok) {
      out += `%u${code.toString(16).padStart(4, '0')}`;
      i += need;
    } else out += s[i];
  }
  return out;
}

function bytesToString(b: Uint8Array): string {
  let out = '';
  for (const x of b) out += String.fromCharCode(x);
  return out;
}

function stringToBytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
  return b;
}

export const TRANSFORMS: Record<string, Transform> = {
  none: (s) => s,
  lowercase: (s) => s.replace(/[A-Z]+/g, (m) => m.toLowerCase()),
  uppercase: (s) => s.replace(/[a-z]+/g, (m) => m.toUpperCase()),
  urlDecode: (s) => urlDecode(s, false),
  urlDecodeUni: (s) => urlDecode(s, true),
  htmlEntityDecode,
  jsDecode,
  cssDecode,
  escapeSeqDecode,
  compressWhitespace: (s) => s.replace(WS, ' '),
  removeWhitespace: (s) => s.replace(WS, ''),
  removeNulls: (s) => s.replace(/\0/g, ''),
  replaceNulls: (s) => s.replace(/\0/g, ' '),
  cmdLine,
  normalizePath,
  normalisePath: normalizePath,
  normalizePathWin: (s) => normalizePath(s.replace(/\\/g, '/')),
  normalisePathWin: (s) => normalizePath(s.replace(/\\/g, '/')),
  base64Decode: (s) => base64Decode(s, false),
  base64DecodeExt: (s) => base64Decode(s, true),
  base64Encode: (s) => btoa(s),
  hexDecode: (s) => {
    let out = '';
    for (let i = 0; i + 1 < s.length; i += 2)
      out += String.fromCharCode(hexVal(s.slice(i, i + 2)) || 0);
    return out;
  },
  hexEncode: (s) => {
    let out = '';
    for (let i = 0; i < s.length; i++) out += s.charCodeAt(i).toString(16).padStart(2, '0');
    return out;
  },
  sqlHexDecode: (s) =>
    s.replace(/0x((?:[0-9a-fA-F]{2})+)/g, (_m, h: string) => TRANSFORMS.hexDecode?.(h) ?? h),
  length: (s) => String(s.length),
  sha1: (s) => bytesToString(sha1(stringToBytes(s))),
  md5: (s) => bytesToString(md5(stringToBytes(s))),
  trim: (s) => s.replace(/^[\s\0]+|[\s\0]+$/g, ''),
  trimLeft: (s) => s.replace(/^[\s\0]+/, ''),
  trimRight: (s) => s.replace(/[\s\0]+$/, ''),
  utf8toUnicode,
  replaceComments: (s) => s.replace(/\/\*[\s\S]*?(?:\*\/|$)/g, ' '),
  removeComments: (s) =>
    s.replace(/\/\*[\s\S]*?(?:\*\/|$)|<!--[\s\S]*?(?:-->|$)|--[^\n]*|#[^\n]*/g, ''),
  removeCommentsChar: (s) => s.replace(/\/\*|\*\/|--|#/g, ''),
  urlEncode: (s) =>
    s.replace(/[^a-zA-Z0-9*\-._]/g, (c) =>
      c === ' ' ? '+' : `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
    ),
};
