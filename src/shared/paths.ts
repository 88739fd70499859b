/**
 * Where Mamori keeps things on this machine, following the XDG base-directory rules.
 * Not the config loader (config.ts) and not the store (storage/).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

type Env = Readonly<Record<string, string | undefined>>;

/** `$XDG_DATA_HOME/mamori`, default `~/.local/share/mamori`. */
export function dataDir(env: Env = process.env): string {
  const base = env.XDG_DATA_HOME || join(env.HOME || homedir(), '.local', 'share');
  return join(base, 'mamori');
}

/** `$XDG_CONFIG_HOME/mamori`, default `~/.config/mamori`. */
export function configDir(env: Env = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'mamori');
}

/** The embedded store used when neither `--db` nor `MAMORI_DB` says otherwise. */
export function defaultDbPath(env: Env = process.env): string {
  return join(dataDir(env), 'mamori.db');
}
