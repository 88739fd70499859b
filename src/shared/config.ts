/**
 * Effective configuration: the TOML file, overridden by MAMORI_* environment variables,
 * overridden by flags; every value remembers where it came from (`mamori config show`).
 * Secrets are never read from the file: they come from the environment or a prompt.
 * Not a schema for each area's settings: areas read their own keys under their table.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { MamoriError } from './errors.js';
import { configDir, defaultDbPath } from './paths.js';

type Env = Readonly<Record<string, string | undefined>>;

export type ConfigSource = 'default' | 'file' | 'env' | 'flag';

export interface ConfigValue {
  value: unknown;
  source: ConfigSource;
}

export interface Config {
  /** The file that was read, if any. */
  file: string | undefined;
  /** Flat dotted keys (`db`, `vuln.nvd_api_key_env`, `exposure.fingerprints`) to values. */
  values: Map<string, ConfigValue>;
  get<T = unknown>(key: string): T | undefined;
  getString(key: string): string | undefined;
}

/** Keys that must never be taken from the file in clear. */
const SECRET_KEY = /(passphrase|password|secret|api_key|token)$/i;

export interface LoadConfigOptions {
  env?: Env;
  /** `--config`: an explicit file, which must exist. */
  file?: string | undefined;
  /** Flag overrides, already in dotted form. */
  flags?: Record<string, unknown>;
}

/**
 * @example
 * const cfg = loadConfig({ env: process.env, flags: { db: ':memory:' } });
 * cfg.getString('db'); // ':memory:'
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const values = new Map<string, ConfigValue>();
  values.set('db', { value: defaultDbPath(env), source: 'default' });
  values.set('serve.host', { value: '127.0.0.1', source: 'default' });
  values.set('serve.port', { value: 8080, source: 'default' });

  const explicit = options.file ?? env.MAMORI_CONFIG;
  const file = explicit ?? join(configDir(env), 'config.toml');
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (explicit) {
      throw new MamoriError('E_CONFIG', `cannot read config file ${file}`, { cause: err });
    }
  }
  if (text !== undefined) {
    let doc: Record<string, unknown>;
    try {
      doc = parseToml(text) as Record<string, unknown>;
    } catch (err) {
      const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
      throw new MamoriError('E_CONFIG', `${file}: ${msg}`, { cause: err });
    }
    for (const [key, value] of flatten(doc)) {
      if (SECRET_KEY.test(key)) {
        throw new MamoriError(
          'E_CONFIG',
          `${file}: "${key}" is a secret and may not be kept in the config file`,
          {
            hint: `set it in the environment (MAMORI_${key.toUpperCase().replace(/\./g, '_')}) instead`,
          },
        );
      }
      values.set(key, { value, source: 'file' });
    }
  }
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('MAMORI_') || value === undefined) continue;
    if (name === 'MAMORI_CONFIG') continue;
    const key = envKey(name);
    if (SECRET_KEY.test(key)) continue; // secrets are read directly where used, never listed
    values.set(key, { value, source: 'env' });
  }
  for (const [key, value] of Object.entries(options.flags ?? {})) {
    if (value !== undefined) values.set(key, { value, source: 'flag' });
  }
  return {
    file: text === undefined ? undefined : file,
    values,
    get<T>(key: string) {
      return values.get(key)?.value as T | undefined;
    },
    getString(key: string) {
      const v = values.get(key)?.value;
      return v === undefined || v === null ? undefined : String(v);
    },
  };
}

/** MAMORI_DB → db, MAMORI_SERVE__PORT → serve.port (double underscore separates tables). */
function envKey(name: string): string {
  return name.slice('MAMORI_'.length).toLowerCase().split('__').join('.');
}

function* flatten(obj: Record<string, unknown>, prefix = ''): Generator<[string, unknown]> {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date)) {
      yield* flatten(v as Record<string, unknown>, key);
    } else {
      yield [key, v];
    }
  }
}
