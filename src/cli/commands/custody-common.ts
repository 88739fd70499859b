/**
 * What the `mamori custody …` verb files share: the lazy import of the custody area, option
 * specs, argument helpers, the acting identity and the key passphrase, the PSBT summary, the
 * optional chain sync before a verb. Moved out of `custody.ts` unchanged; decides nothing.
 */
import { readFileSync } from 'node:fs';
import { MamoriError } from '../../shared/errors.js';
import { formatTable } from '../../shared/text.js';
import type { CommandContext, OptionSpec, Parsed } from '../types.js';

export type Custody = typeof import('../../custody/index.js');
export const lib = (): Promise<Custody> => import('../../custody/index.js');

/** `--min-conf <n>`: confirmations a third-party deposit needs before it is spent. */
export const MIN_CONF_OPT: OptionSpec = {
  type: 'string',
  value: '<n>',
  description:
    'build: confirmations a deposit from outside needs before it is spent (default 1, as Bitcoin Core; own change 0; a coinbase always 100)',
};

export const NETWORK_OPT: OptionSpec = {
  type: 'string',
  value: 'mainnet|testnet|regtest',
  description: 'network',
};
export const CHAIN_OPTS: Record<string, OptionSpec> = {
  node: {
    type: 'string',
    value: '<url>',
    description: 'Bitcoin Core-compatible JSON-RPC URL (also custody.node in the config)',
  },
  esplora: { type: 'string', value: '<url>', description: 'Esplora REST base URL' },
};

export function str(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function sub(p: Parsed, verb: string, allowed: string[]): string {
  const s = p.positionals[0];
  if (!s || !allowed.includes(s)) {
    throw new MamoriError(
      'E_USAGE',
      `mamori custody ${verb}: expected one of ${allowed.join('|')}`,
      {
        hint: `see mamori custody ${verb} --help`,
      },
    );
  }
  return s;
}

export function arg(p: Parsed, i: number, what: string): string {
  const v = p.positionals[i];
  if (!v) throw new MamoriError('E_USAGE', `missing ${what}`);
  return v;
}

export async function chainOf(ctx: CommandContext, p: Parsed, required = true) {
  const c = await lib();
  const node = str(p, 'node') ?? ctx.config.getString('custody.node');
  const esp = str(p, 'esplora') ?? ctx.config.getString('custody.esplora');
  if (node) return c.coreRpc(node);
  if (esp) return c.esplora(esp);
  if (required) {
    throw new MamoriError(
      'E_USAGE',
      'this command needs the chain: pass --node <url> or --esplora <url>',
      {
        hint: 'for development: mamori custody node start --regtest',
      },
    );
  }
  return undefined;
}

/** `--as <identity file>`: the acting identity, unlocked (MAMORI_ID_PASSPHRASE, else the key one). */
export const AS_OPT: OptionSpec = {
  type: 'string',
  value: '<identity file>',
  description: 'act as this identity (signs the change)',
};

export async function signerOf(ctx: CommandContext, p: Parsed | undefined) {
  const file = p ? str(p, 'as') : undefined;
  if (!file) return undefined;
  const c = await lib();
  const f = c.readIdentityFile(file);
  const pass = ctx.io.env.MAMORI_ID_PASSPHRASE ?? (await passphrase(ctx));
  return c.unlockIdentity(f, pass);
}

/** The custody context: the store, the acting identity (never $USER), the alert sink. */
export async function ctxOf(ctx: CommandContext, p?: Parsed) {
  const store = await ctx.store();
  const { createAlertSink } = await import('../../alerts/index.js');
  const signer = await signerOf(ctx, p);
  return {
    store,
    actor: 'cli',
    ...(signer ? { signer } : {}),
    // alerts go to the store and, as JSON lines, to stderr (stdout holds only the result)
    alerts: createAlertSink({ store, write: (l) => ctx.io.stderr(l) }),
  };
}

export async function passphrase(ctx: CommandContext, confirm = false): Promise<string> {
  const env = ctx.io.env.MAMORI_KEY_PASSPHRASE;
  if (env) return env;
  if (!ctx.io.prompt) {
    throw new MamoriError(
      'E_INPUT',
      'no passphrase: set MAMORI_KEY_PASSPHRASE or run on a terminal',
    );
  }
  const a = await ctx.io.prompt('Key passphrase: ', { secret: true });
  if (confirm) {
    const b = await ctx.io.prompt('Repeat passphrase: ', { secret: true });
    if (a !== b) throw new MamoriError('E_INPUT', 'the passphrases differ');
  }
  return a;
}

export function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new MamoriError('E_INPUT', `cannot read ${what} ${path}`, { cause: e });
  }
}

export function psbtSummary(
  v: import('../../custody/index.js').PsbtView,
  fmt: (n: number) => string,
) {
  return [
    `transaction ${v.txid}`,
    formatTable(
      ['#', 'address', 'amount BTC', 'change'],
      v.outputs.map((o) => [
        o.index,
        o.address ?? '(script)',
        fmt(o.amount),
        o.changeVerified ? 'yes (verified)' : o.change ? 'CLAIMED, NOT VERIFIED' : '',
      ]),
    ),
    `inputs ${v.inputs.length}: ${fmt(v.inputTotal)} BTC; sending ${fmt(v.sending)} BTC; fee ${fmt(v.fee)} BTC (~${v.feeRate} sat/vB)`,
    `signatures: ${v.inputs.map((i) => `${i.validSignatures}/${i.threshold ?? '?'}`).join(' ')}${v.complete ? ' (complete)' : ''}`,
    ...(v.inputsOfWallet === undefined
      ? ["change checked against the inputs' cosigners (pass --descriptor for the full check)"]
      : [
          `inputs and change checked against the wallet descriptor: inputs ${v.inputsOfWallet ? 'ok' : "NOT the wallet's"}`,
        ]),
  ].join('\n');
}

export const satFmt = (n: number) => {
  const neg = n < 0;
  const v = Math.abs(n);
  const s = `${Math.floor(v / 1e8)}.${String(v % 1e8).padStart(8, '0')}`;
  return neg ? `-${s}` : s;
};

export const syncOpt: Record<string, OptionSpec> = {
  ...CHAIN_OPTS,
  'from-height': {
    type: 'string',
    value: '<h>',
    description: 'first block to scan in a new store',
  },
};

export async function maybeSync(ctx: CommandContext, p: Parsed) {
  const chain = await chainOf(ctx, p, false);
  if (!chain) return;
  const c = await lib();
  const from = str(p, 'from-height');
  await c.syncChain(await ctxOf(ctx), chain, from ? { fromHeight: Number(from) } : {});
}

export function minConfOf(p: Parsed): { minConf?: number } {
  const v = str(p, 'min-conf');
  if (v === undefined) return {};
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) {
    throw new MamoriError('E_USAGE', `--min-conf needs a whole number ≥ 0, not "${v}"`);
  }
  return { minConf: n };
}
