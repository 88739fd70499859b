/**
 * A small leveled logger to stderr (stdout is for results only). It redacts anything that looks
 * like key material before writing. Not an audit log: custody keeps its own hash-chained one.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** Extended private keys, WIF, long hex and mnemonic-ish runs are never logged. */
const SECRET_PATTERNS: RegExp[] = [
  /\b[xyztuv]prv[1-9A-HJ-NP-Za-km-z]{100,}\b/g,
  /\b[5KLc][1-9A-HJ-NP-Za-km-z]{50,51}\b/g,
  /\b[0-9a-fA-F]{64,}\b/g,
];

/** @example redact('key xprv9s21Z…') === 'key [redacted]' */
export function redact(text: string): string {
  let out = text;
  for (const p of SECRET_PATTERNS) out = out.replace(p, '[redacted]');
  return out;
}

export interface LoggerOptions {
  level?: LogLevel;
  json?: boolean;
  write?: (line: string) => void;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = ORDER[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < level) return;
    if (options.json) {
      write(
        `${redact(JSON.stringify({ level: lvl, time: new Date().toISOString(), msg, ...fields }))}\n`,
      );
    } else {
      const extra = fields && Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : '';
      write(`${redact(`mamori: ${lvl === 'info' ? '' : `${lvl}: `}${msg}${extra}`)}\n`);
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
