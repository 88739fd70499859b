/**
 * The shapes every CLI command shares: a verb's spec (options, help, run) and the context it
 * runs in (output, config, the lazily opened store, progress). Commands decide nothing an area
 * should decide: they parse, call the area's index.ts, and print.
 */
import type { Config } from '../shared/config.js';
import type { Logger } from '../shared/log.js';
import type { Progress } from '../shared/progress.js';
import type { Store } from '../storage/index.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  default?: string | boolean | string[];
  /** Shown in help, e.g. `<file>`. */
  value?: string;
  description: string;
}

export type ParsedValues = Record<string, string | boolean | string[] | undefined>;

export interface Parsed {
  values: ParsedValues;
  positionals: string[];
  /** The verb's arguments as given (after the area and verb), for verbs that pass them on. */
  raw?: string[];
}

export interface VerbSpec {
  summary: string;
  /** e.g. `mamori db status [--json]` */
  usage: string;
  examples?: string[];
  /** Longer text for `--help`. */
  description?: string;
  options?: Record<string, OptionSpec>;
  /** Allowed positional count; default none. */
  positionals?: { min?: number; max?: number; name?: string };
  /** false: accept unknown flags (only for not-yet-built verbs). */
  strict?: boolean;
  run(ctx: CommandContext, parsed: Parsed): Promise<number | undefined>;
}

export interface AreaSpec {
  name: string;
  summary: string;
  description?: string;
  verbs: Record<string, VerbSpec>;
  /** For single-command areas such as `serve`: runs when no verb is given. */
  defaultVerb?: VerbSpec;
}

export interface Io {
  stdout(s: string): void;
  stderr(s: string): void;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  env: Readonly<Record<string, string | undefined>>;
  /** Read a line from the user (passphrases); undefined when there is no terminal. */
  prompt?: (question: string, opts?: { secret?: boolean }) => Promise<string>;
  stdin?: NodeJS.ReadableStream;
}

export interface CommandContext {
  io: Io;
  json: boolean;
  quiet: boolean;
  config: Config;
  logger: Logger;
  signal: AbortSignal;
  version: string;
  /** The store spec from --db, MAMORI_DB or the config (default: the embedded SQLite file). */
  dbSpec(): string;
  /** Open the store (and migrate it) on first use; closed by the CLI when the command ends. */
  store(): Promise<Store>;
  /** A progress bar on stderr when it is a TTY and --json is off. */
  progress(label: string, total?: number): Progress;
  /** Print a result: JSON when --json, else the text. */
  print(result: unknown, text: () => string): void;
}
