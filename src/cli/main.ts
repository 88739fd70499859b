/**
 * The CLI's dispatcher: global flags, area, verb, strict per-verb flags, help, and turning
 * every error into one clear line and an exit code (via exit.ts). It never calls
 * process.exit (bin.ts does) so tests can run it in process.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../shared/config.js';
import { isMamoriError, MamoriError } from '../shared/errors.js';
import { createLogger } from '../shared/log.js';
import { createProgress } from '../shared/progress.js';
import { closest } from '../shared/text.js';
import type { Store } from '../storage/index.js';
import { AREAS } from './areas.js';
import { EXIT, exitCodeFor } from './exit.js';
import type { AreaSpec, CommandContext, Io, OptionSpec, Parsed, VerbSpec } from './types.js';

export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  json: { type: 'boolean', description: 'machine-readable JSON on stdout' },
  db: { type: 'string', value: '<path|postgres://url>', description: 'the store (also MAMORI_DB)' },
  config: {
    type: 'string',
    value: '<file>',
    description: 'config file (default $XDG_CONFIG_HOME/mamori/config.toml)',
  },
  quiet: { type: 'boolean', short: 'q', description: 'no progress or notes on stderr' },
  help: { type: 'boolean', short: 'h', description: 'show help' },
};

export function packageVersion(): string {
  try {
    const url = new URL('../../package.json', import.meta.url);
    return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

function optionHelp(options: Record<string, OptionSpec>): string {
  const rows = Object.entries(options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.value ? ` ${o.value}` : o.type === 'string' ? ' <value>' : ''}`;
    return [
      flag,
      o.description +
        (o.default !== undefined && o.default !== false ? ` (default ${String(o.default)})` : ''),
    ];
  });
  const width = Math.max(...rows.map((r) => r[0]!.length), 0);
  return rows.map(([f, d]) => `  ${f!.padEnd(width)}  ${d}`).join('\n');
}

export function mainHelp(version: string): string {
  const width = Math.max(...AREAS.map((a) => a.name.length));
  return [
    `mamori ${version} — 守り: a security toolkit built from the lessons of a security bulletin`,
    '',
    'Usage: mamori <area> <verb> [options]',
    '       mamori <area> --help',
    '',
    'Areas:',
    ...AREAS.map((a) => `  ${a.name.padEnd(width)}  ${a.summary}`),
    '',
    'Global options:',
    optionHelp({
      ...GLOBAL_OPTIONS,
      version: { type: 'boolean', short: 'V', description: 'print the version' },
    }),
    '',
    'Exit codes: 0 ok, 1 findings at --fail-on, 2 usage/bad input, 3 dependency unavailable,',
    '            4 refused by policy or scope, 70 internal error, 130 interrupted.',
    '',
  ].join('\n');
}

export function areaHelp(area: AreaSpec): string {
  const lines = [`mamori ${area.name} — ${area.summary}`, ''];
  if (area.description) lines.push(area.description, '');
  if (area.defaultVerb) {
    lines.push(verbHelp(area.name, undefined, area.defaultVerb));
  }
  const verbs = Object.entries(area.verbs);
  if (verbs.length) {
    const width = Math.max(...verbs.map(([n]) => n.length));
    lines.push(`Usage: mamori ${area.name} <verb> [options]`, '', 'Verbs:');
    for (const [name, v] of verbs) lines.push(`  ${name.padEnd(width)}  ${v.summary}`);
    lines.push('', `Run 'mamori ${area.name} <verb> --help' for a verb's options.`, '');
  }
  return lines.join('\n');
}

export function verbHelp(areaName: string, verbName: string | undefined, verb: VerbSpec): string {
  const lines = [`Usage: ${verb.usage}`, '', verb.summary];
  if (verb.description) lines.push('', verb.description);
  if (verb.options && Object.keys(verb.options).length)
    lines.push('', 'Options:', optionHelp(verb.options));
  lines.push('', 'Global options:', optionHelp(GLOBAL_OPTIONS));
  if (verb.examples?.length) lines.push('', 'Examples:', ...verb.examples.map((e) => `  ${e}`));
  void areaName;
  void verbName;
  return `${lines.join('\n')}\n`;
}

/** Global string options take a value; the splitter needs to know to skip it. */
const GLOBAL_WITH_VALUE = new Set(
  Object.entries(GLOBAL_OPTIONS)
    .filter(([, o]) => o.type === 'string')
    .map(([n]) => `--${n}`),
);

interface Split {
  area: string | undefined;
  verb: string | undefined;
  rest: string[];
}

/** Find the area and verb among the arguments; everything else goes to the verb's parser. */
function splitArgs(
  argv: string[],
  verbNames: (area: string) => Promise<{ verbs: Set<string>; hasDefault: boolean } | undefined>,
): Promise<Split> {
  return (async () => {
    const rest: string[] = [];
    let area: string | undefined;
    let verb: string | undefined;
    let verbs: Set<string> | undefined;
    let hasDefault = false;
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!;
      if (a === '--') {
        rest.push(...argv.slice(i));
        break;
      }
      if (a.startsWith('-')) {
        rest.push(a);
        if (GLOBAL_WITH_VALUE.has(a) && i + 1 < argv.length) rest.push(argv[++i]!);
        continue;
      }
      if (area === undefined) {
        area = a;
        const names = await verbNames(a);
        verbs = names?.verbs;
        hasDefault = names?.hasDefault ?? false;
        continue;
      }
      if (verb === undefined && verbs && verbs.size > 0 && (!hasDefault || verbs.has(a))) {
        // The first bare word after the area is the verb (values of global flags were skipped);
        // an area with a default verb (`worker --queues sync`) takes only its own verb names.
        verb = a;
        continue;
      }
      rest.push(a);
    }
    return { area, verb, rest };
  })();
}

export interface RunOptions {
  io: Io;
  signal?: AbortSignal;
  /**
   * An open store for `--db` to use instead of opening one (a worker's jobs share the worker's
   * pool); the caller keeps it open.
   */
  store?: Store;
}

/**
 * Run the CLI and return the exit code.
 * @example await runCli(['db', 'status', '--json'], { io })
 */
export async function runCli(argv: string[], options: RunOptions): Promise<number> {
  const { io } = options;
  const version = packageVersion();
  const signal = options.signal ?? new AbortController().signal;
  let json = argv.includes('--json');
  let openedStore: Store | undefined;
  try {
    if (argv.length === 0) {
      io.stderr(mainHelp(version));
      return EXIT.usage;
    }
    if (argv[0] === '--version' || argv[0] === '-V') {
      io.stdout(json ? `${JSON.stringify({ version })}\n` : `mamori ${version}\n`);
      return EXIT.ok;
    }
    const loaded = new Map<string, AreaSpec>();
    const loadArea = async (name: string) => {
      const entry = AREAS.find((a) => a.name === name);
      if (!entry) return undefined;
      let spec = loaded.get(name);
      if (!spec) {
        spec = await entry.load();
        loaded.set(name, spec);
      }
      return spec;
    };
    const {
      area: areaName,
      verb: verbName,
      rest,
    } = await splitArgs(argv, async (n) => {
      const spec = await loadArea(n);
      return spec
        ? { verbs: new Set(Object.keys(spec.verbs)), hasDefault: spec.defaultVerb !== undefined }
        : undefined;
    });
    if (areaName === undefined) {
      const flags = rest.filter((r) => r.startsWith('-'));
      if (flags.some((f) => f === '--help' || f === '-h')) {
        io.stdout(mainHelp(version));
        return EXIT.ok;
      }
      if (flags.some((f) => f === '--version' || f === '-V')) {
        io.stdout(json ? `${JSON.stringify({ version })}\n` : `mamori ${version}\n`);
        return EXIT.ok;
      }
      const unknown = flags.find((f) => !(f.replace(/^--?/, '').split('=')[0]! in GLOBAL_OPTIONS));
      if (unknown) throw unknownOption(unknown, Object.keys(GLOBAL_OPTIONS), 'mamori');
      io.stderr(mainHelp(version));
      return EXIT.usage;
    }
    const area = await loadArea(areaName);
    if (!area) {
      const guess = closest(
        areaName,
        AREAS.map((a) => a.name),
      );
      throw new MamoriError('E_USAGE', `unknown command '${areaName}'`, {
        hint: guess
          ? `did you mean 'mamori ${guess}'? (see mamori --help)`
          : 'see mamori --help for the list of areas',
      });
    }
    const wantsHelp = rest.includes('--help') || rest.includes('-h');
    let verb: VerbSpec | undefined;
    let verbLabel = `mamori ${area.name}`;
    if (verbName !== undefined) {
      verb = area.verbs[verbName];
      if (!verb) {
        const guess = closest(verbName, Object.keys(area.verbs));
        throw new MamoriError('E_USAGE', `unknown command 'mamori ${area.name} ${verbName}'`, {
          hint: guess
            ? `did you mean 'mamori ${area.name} ${guess}'?`
            : `see mamori ${area.name} --help`,
        });
      }
      verbLabel = `mamori ${area.name} ${verbName}`;
    } else if (area.defaultVerb) {
      verb = area.defaultVerb;
    } else {
      if (wantsHelp) {
        io.stdout(areaHelp(area));
        return EXIT.ok;
      }
      io.stderr(areaHelp(area));
      throw new MamoriError('E_USAGE', `'mamori ${area.name}' needs a verb`, {
        hint: `see mamori ${area.name} --help`,
      });
    }
    if (wantsHelp) {
      io.stdout(
        verbName === undefined && Object.keys(area.verbs).length
          ? areaHelp(area)
          : verbHelp(area.name, verbName, verb),
      );
      return EXIT.ok;
    }
    const parsed = parseVerbArgs(verbLabel, verb, rest);
    json = parsed.values.json === true;
    const quiet = parsed.values.quiet === true;
    const config = loadConfig({
      env: io.env,
      file: parsed.values.config as string | undefined,
      flags: { db: parsed.values.db },
    });
    const logger = createLogger({ level: quiet ? 'warn' : 'info', write: io.stderr });
    const ctx: CommandContext = {
      io,
      json,
      quiet,
      config,
      logger,
      signal,
      version,
      dbSpec: () => config.getString('db')!,
      store: async () => {
        if (options.store) return options.store;
        if (!openedStore) {
          const { openDb } = await import('../storage/index.js');
          openedStore = await openDb(config.getString('db')!);
        }
        return openedStore;
      },
      progress: (label, total) =>
        createProgress({
          label,
          total,
          enabled: !json && !quiet,
          stream: { isTTY: io.stderrIsTTY, write: (s: string) => io.stderr(s) },
        }),
      print: (result, text) => {
        if (json) io.stdout(`${JSON.stringify(result, null, 2)}\n`);
        else {
          const t = text();
          if (t) io.stdout(t.endsWith('\n') ? t : `${t}\n`);
        }
      },
    };
    const code = await verb.run(ctx, parsed);
    return code ?? EXIT.ok;
  } catch (err) {
    return reportError(err, io, json);
  } finally {
    if (openedStore) await openedStore.close().catch(() => {});
  }
}

/**
 * Check a verb's arguments without running it (a schedule's flags, when it is added).
 * @example await checkVerbArgs(['vuln', 'sync'], ['--source', 'nvd'])
 */
export async function checkVerbArgs(
  path: readonly [string, string],
  args: string[],
): Promise<void> {
  const entry = AREAS.find((a) => a.name === path[0]);
  const verb = entry ? (await entry.load()).verbs[path[1]] : undefined;
  if (!verb) throw new MamoriError('E_INTERNAL', `no verb mamori ${path.join(' ')}`);
  parseVerbArgs(`mamori ${path.join(' ')}`, verb, args);
}

function unknownOption(flag: string, known: string[], where: string): MamoriError {
  const name = flag.replace(/^--?/, '').split('=')[0]!;
  const guess = closest(name, known);
  return new MamoriError('E_USAGE', `unknown option '${flag}' for '${where}'`, {
    hint: guess ? `did you mean --${guess}? (see ${where} --help)` : `see ${where} --help`,
  });
}

function parseVerbArgs(label: string, verb: VerbSpec, rest: string[]): Parsed {
  const specs: Record<string, OptionSpec> = { ...GLOBAL_OPTIONS, ...(verb.options ?? {}) };
  const options: Record<
    string,
    { type: 'string' | 'boolean'; short?: string; multiple?: boolean }
  > = {};
  for (const [name, o] of Object.entries(specs)) {
    options[name] = {
      type: o.type,
      ...(o.short ? { short: o.short } : {}),
      ...(o.multiple ? { multiple: true } : {}),
    };
  }
  let result: ReturnType<typeof parseArgs>;
  try {
    result = parseArgs({
      args: rest,
      options,
      allowPositionals: true,
      strict: verb.strict ?? true,
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const flag = /'([^']+)'/.exec(e.message)?.[1] ?? '?';
      throw unknownOption(flag, Object.keys(specs), label);
    }
    if (typeof e.code === 'string' && e.code.startsWith('ERR_PARSE_ARGS')) {
      throw new MamoriError('E_USAGE', `${label}: ${e.message.split('\n')[0]}`, {
        hint: `see ${label} --help`,
      });
    }
    throw err;
  }
  const values: Parsed['values'] = { ...(result.values as Parsed['values']) };
  for (const [name, o] of Object.entries(specs)) {
    if (values[name] === undefined && o.default !== undefined) values[name] = o.default;
  }
  const positionals = result.positionals;
  const min = verb.positionals?.min ?? 0;
  const max = verb.positionals?.max ?? (verb.positionals ? Number.POSITIVE_INFINITY : 0);
  if (positionals.length < min) {
    throw new MamoriError('E_USAGE', `${label}: missing ${verb.positionals?.name ?? 'argument'}`, {
      hint: `usage: ${verb.usage}`,
    });
  }
  if (positionals.length > max) {
    throw new MamoriError('E_USAGE', `${label}: unexpected argument '${positionals[max]}'`, {
      hint: `usage: ${verb.usage}`,
    });
  }
  return { values, positionals, raw: rest };
}

/** One clear line (and a hint) for known errors; a stack only for bugs (exit 70). */
export function reportError(err: unknown, io: Io, json: boolean): number {
  if (isMamoriError(err)) {
    const code = exitCodeFor(err.code);
    if (json) io.stderr(`${JSON.stringify({ error: err.toJSON() })}\n`);
    else {
      io.stderr(`mamori: error: ${err.message} [${err.code}]\n`);
      if (err.hint) io.stderr(`hint: ${err.hint}\n`);
    }
    if (code === EXIT.internal && err.stack) io.stderr(`${err.stack}\n`);
    return code;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  if (json) io.stderr(`${JSON.stringify({ error: { code: 'E_INTERNAL', message: e.message } })}\n`);
  io.stderr(`mamori: internal error: ${e.message} [E_INTERNAL]\n${e.stack ?? ''}\n`);
  io.stderr(
    'This is a bug in mamori. Please report it with the command you ran and the output above.\n',
  );
  return EXIT.internal;
}
