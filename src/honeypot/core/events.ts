/**
 * The honeypot's event model: Cowrie-style event ids, the record every service emits, and the
 * bounding of attacker-supplied text so one event never grows without limit.
 * Pure: no IO, no clock. Not the recorder (see ../recorder.ts), which makes events durable.
 */

/** Cowrie-style event ids. `input.invalid` marks garbage (binary, malformed, oversized). */
export const EVENT_IDS = [
  'session.connect',
  'login.failed',
  'login.success',
  'http.request',
  'rtsp.request',
  'stream.view',
  'ptz.command',
  'telnet.command',
  'download.attempt',
  'input.invalid',
  'session.closed',
] as const;

export type EventId = (typeof EVENT_IDS)[number];

export type Protocol = 'http' | 'rtsp' | 'telnet' | 'onvif';

/** One event as the services emit it and the store keeps it. */
export interface HoneypotEvent {
  eventid: EventId;
  /** ISO-8601 UTC. */
  time: string;
  /** Unique per TCP connection across restarts. */
  session: string;
  protocol: Protocol;
  srcIp: string;
  srcPort: number;
  dstPort: number;
  username?: string | undefined;
  password?: string | undefined;
  /** Bounded summary of what was sent (see boundSummary). */
  summary: Record<string, string | number | boolean>;
}

/** Longest text kept from any attacker-supplied field. */
export const MAX_FIELD = 256;
/** Longest serialised summary kept per event. */
export const MAX_SUMMARY = 2048;

/**
 * Make attacker text safe to keep: control bytes escaped, cut at `max` with a marker.
 * @example boundText('a\u0000b') === 'a\\x00b'
 */
export function boundText(s: string, max = MAX_FIELD): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || c === 0x7f || (c >= 0x80 && c < 0xa0) || c === 0xfffd) {
      out += c === 0xfffd ? '\\ufffd' : `\\x${c.toString(16).padStart(2, '0')}`;
    } else out += ch;
    if (out.length > max) return `${out.slice(0, max)}…[cut]`;
  }
  return out;
}

/**
 * Printable preview of raw bytes (for garbage): printable ASCII kept, the rest as \xNN.
 * @example bytesPreview(new Uint8Array([0x41, 0xff])) === 'A\\xff'
 */
export function bytesPreview(bytes: Uint8Array, max = 96): string {
  let out = '';
  const n = Math.min(bytes.length, max);
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    out += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return bytes.length > max ? `${out}…[+${bytes.length - max} bytes]` : out;
}

/**
 * Bound every string in a summary and the whole serialised size.
 * @example boundSummary({ path: 'x'.repeat(9999) }).path.length < 300
 */
export function boundSummary(
  summary: Record<string, string | number | boolean | undefined>,
): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  let size = 2;
  for (const [k, v] of Object.entries(summary)) {
    if (v === undefined) continue;
    const val = typeof v === 'string' ? boundText(v) : v;
    const add = k.length + String(val).length + 6;
    if (size + add > MAX_SUMMARY) {
      out.truncated = true;
      break;
    }
    out[k] = val;
    size += add;
  }
  return out;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Is this a binary blob rather than text? More than 20% control bytes, or (when it is not
 * valid UTF-8) more than 30% bytes outside printable ASCII.
 * @example looksBinary(new TextEncoder().encode('root\r\n')) === false
 */
export function looksBinary(bytes: Uint8Array): boolean {
  if (bytes.length === 0) return false;
  let control = 0;
  let high = 0;
  for (const b of bytes) {
    if ((b < 0x20 && b !== 9 && b !== 10 && b !== 13 && b !== 0) || b === 0x7f) control++;
    else if (b >= 0x80) high++;
  }
  if (control / bytes.length > 0.2) return true;
  if (high === 0) return false;
  try {
    UTF8.decode(bytes);
    return false;
  } catch {
    return (control + high) / bytes.length > 0.3;
  }
}
