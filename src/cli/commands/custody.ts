/**
 * `mamori custody …` verbs. Owned by the custody area. Verbs with sub-verbs (`key new`,
 * `wallet create`, `psbt sign` …) take the sub-verb as the first positional. Commands parse,
 * call `src/custody/index.ts`, and print; they decide nothing themselves. `psbt sign|combine|
 * finalize|inspect` and `key new|show` never open the store or the network.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { CosignApproval, LedgerEntry } from '../../custody/index.js';
import { MamoriError } from '../../shared/errors.js';
import { formatTable } from '../../shared/text.js';
import type { AreaSpec, CommandContext, OptionSpec, Parsed, VerbSpec } from '../types.js';
import * as trustVerbs from './custody-trust.js';

type Custody = typeof import('../../custody/index.js');
const lib = (): Promise<Custody> => import('../../custody/index.js');

const NETWORK_OPT: OptionSpec = {
  type: 'string',
  value: 'mainnet|testnet|regtest',
  description: 'network',
};
const CHAIN_OPTS: Record<string, OptionSpec> = {
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

async function chainOf(ctx: CommandContext, p: Parsed, required = true) {
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

function psbtSummary(v: import('../../custody/index.js').PsbtView, fmt: (n: number) => string) {
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

const key: VerbSpec = {
  summary: 'key new|show: a BIP39 cosigner key and its BIP48 account xpub (offline)',
  usage:
    'mamori custody key new [--out <file>] [--network mainnet|testnet|regtest] | key show <file>',
  description:
    'key new writes the encrypted key file (scrypt + XChaCha20-Poly1305; passphrase from a prompt\nor MAMORI_KEY_PASSPHRASE) and prints the mnemonic once, to write down, and the origin xpub.',
  examples: [
    'MAMORI_KEY_PASSPHRASE=… mamori custody key new --network regtest --out alice.key',
    'mamori custody key show alice.key --json',
  ],
  options: {
    out: {
      type: 'string',
      value: '<file>',
      description: 'where to write the key file (default mamori-<fingerprint>.key)',
    },
    network: { ...NETWORK_OPT, default: 'mainnet' },
  },
  positionals: { min: 1, max: 2, name: 'new|show' },
  async run(ctx, p) {
    const c = await lib();
    if (sub(p, 'key', ['new', 'show']) === 'show') {
      const f = c.readKeyFile(arg(p, 1, 'key file'));
      ctx.print(f.public, () =>
        [`${f.public.originXpub}`, `network ${f.public.network}, path ${f.public.path}`].join('\n'),
      );
      return 0;
    }
    const pass = await passphrase(ctx, true);
    const k = await c.newKey(str(p, 'network') ?? 'mainnet', pass);
    const out = str(p, 'out') ?? `mamori-${k.file.public.fingerprint}.key`;
    writeFileSync(out, `${JSON.stringify(k.file, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    // The mnemonic goes to stderr only (never into --json output or logs) to be written down.
    if (!ctx.quiet) ctx.io.stderr(`Write down these words and keep them offline:\n${k.mnemonic}\n`);
    ctx.print({ file: out, ...k.file.public }, () => k.file.public.originXpub);
    return 0;
  },
};

const wallet: VerbSpec = {
  summary: 'wallet create|export|list: wsh(sortedmulti) wallets in hot/warm/cold tiers',
  usage:
    'mamori custody wallet create <name> --tier hot|warm|cold --threshold M --xpub <origin-xpub>… [--hot-key <file>] [--network …] | wallet export <name> | wallet list',
  examples: [
    "mamori custody wallet create hot --tier hot --threshold 2 --xpub '[…]tpub…' --xpub … --xpub … --hot-key hot.key --network regtest",
    'mamori custody wallet export hot',
  ],
  options: {
    tier: { type: 'string', value: 'hot|warm|cold', description: 'custody tier' },
    threshold: { type: 'string', value: '<M>', description: 'signatures required' },
    xpub: {
      type: 'string',
      multiple: true,
      value: '<origin-xpub>',
      description: 'a cosigner (repeat)',
    },
    'hot-key': {
      type: 'string',
      value: '<file>',
      description: 'the one encrypted online cosigner key (hot only)',
    },
    'gap-limit': {
      type: 'string',
      value: '<n>',
      description: 'unused addresses in a row (default 20)',
    },
    trust: {
      type: 'string',
      value: '<genesis.json>',
      description: 'bind the wallet to this genesis (signed by its admin quorum)',
    },
    'allow-single-sig': {
      type: 'boolean',
      description: 'accept a 1-of-n hot wallet (one stolen key moves everything)',
    },
    as: AS_OPT,
    network: { ...NETWORK_OPT, default: 'mainnet' },
  },
  positionals: { min: 1, max: 2, name: 'create|export|list' },
  async run(ctx, p) {
    const c = await lib();
    const s = sub(p, 'wallet', ['create', 'export', 'list']);
    const cx = await ctxOf(ctx, p);
    if (s === 'list') {
      const ws = await c.listWallets(cx);
      ctx.print(ws, () =>
        formatTable(
          ['name', 'tier', 'M-of-N', 'network', 'hot key'],
          ws.map((w) => [
            w.name,
            w.tier,
            `${w.threshold}-of-${w.cosigners}`,
            w.network,
            w.hasHotKey ? 'yes' : '',
          ]),
        ),
      );
      return 0;
    }
    const name = arg(p, 1, 'wallet name');
    if (s === 'export') {
      const e = await c.exportWallet(cx, name);
      ctx.print(e, () =>
        [e.descriptor, '', `receive: ${e.receive}`, `change:  ${e.change}`].join('\n'),
      );
      return 0;
    }
    const threshold = Number(str(p, 'threshold'));
    const hotKeyPath = str(p, 'hot-key');
    if (hotKeyPath) {
      // the public part must be the secret's own (a swapped xpub fails here)
      const m = await c.unlockKeyFile(c.readKeyFile(hotKeyPath), await passphrase(ctx));
      m.wipePrivateData();
    }
    const trustPath = str(p, 'trust');
    const w = await c.createWallet(cx, {
      ...(trustPath ? { trust: c.readGenesisFile(trustPath) } : {}),
      ...(p.values['allow-single-sig'] ? { allowSingleSig: true } : {}),
      name,
      tier: str(p, 'tier') ?? '',
      threshold,
      xpubs: (p.values.xpub as string[] | undefined) ?? [],
      network: str(p, 'network') ?? 'mainnet',
      ...(hotKeyPath ? { hotKey: c.readKeyFile(hotKeyPath) } : {}),
      ...(str(p, 'gap-limit') ? { gapLimit: Number(str(p, 'gap-limit')) } : {}),
    });
    ctx.print(
      w,
      () => `wallet ${w.name} (${w.tier}, ${w.threshold}-of-${w.cosigners})\n${w.descriptor}`,
    );
    return 0;
  },
};

const address: VerbSpec = {
  summary: 'address new|list: fresh deposit addresses (index and gap limit tracked)',
  usage: 'mamori custody address new <wallet> [--label <customer-ref>] | address list [<wallet>]',
  examples: ['mamori custody address new hot --label customer-42'],
  options: {
    label: { type: 'string', value: '<ref>', description: 'customer or deposit reference' },
  },
  positionals: { min: 1, max: 2, name: 'new|list' },
  async run(ctx, p) {
    const c = await lib();
    const s = sub(p, 'address', ['new', 'list']);
    const cx = await ctxOf(ctx);
    if (s === 'new') {
      const a = await c.newAddress(cx, arg(p, 1, 'wallet'), str(p, 'label'));
      ctx.print(a, () => a.address);
      return 0;
    }
    const rows = await c.listAddresses(cx, p.positionals[1]);
    ctx.print(rows, () =>
      formatTable(
        ['wallet', 'path', 'address', 'label', 'received BTC'],
        rows.map((r) => [
          r.wallet,
          `${r.branch}/${r.index}`,
          r.address,
          r.label ?? '',
          satFmt(r.received ?? 0),
        ]),
      ),
    );
    return 0;
  },
};

const syncOpt: Record<string, OptionSpec> = {
  ...CHAIN_OPTS,
  'from-height': {
    type: 'string',
    value: '<h>',
    description: 'first block to scan in a new store',
  },
};

async function maybeSync(ctx: CommandContext, p: Parsed) {
  const chain = await chainOf(ctx, p, false);
  if (!chain) return;
  const c = await lib();
  const from = str(p, 'from-height');
  await c.syncChain(await ctxOf(ctx), chain, from ? { fromHeight: Number(from) } : {});
}

const balance: VerbSpec = {
  summary: 'confirmed/unconfirmed balance per wallet (syncs first with --node/--esplora)',
  usage: 'mamori custody balance [<wallet>] [--node <url>]',
  options: syncOpt,
  positionals: { max: 1 },
  async run(ctx, p) {
    const c = await lib();
    await maybeSync(ctx, p);
    const bs = await c.balances(await ctxOf(ctx), p.positionals[0]);
    ctx.print(bs, () =>
      formatTable(
        ['wallet', 'tier', 'confirmed', 'unconfirmed', 'cap'],
        bs.map((b) => [
          b.wallet,
          b.tier,
          satFmt(b.confirmed),
          satFmt(b.unconfirmed),
          b.floatCap === null ? '' : satFmt(b.floatCap),
        ]),
      ),
    );
    return 0;
  },
};

function watcherLine(w: Awaited<ReturnType<Custody['watcherStatus']>>): string {
  if (w.state === 'never-run') return 'watcher: NEVER RUN (nothing is judging spends of our coins)';
  const age = w.ageMs === null ? '' : ` (${Math.round(w.ageMs / 1000)} s ago)`;
  const seen = `last poll ${w.lastPollAt}${age}, tip ${w.tipHeight ?? '?'}, cursor ${w.cursorHeight ?? '?'}`;
  if (w.state === 'watching') return `watcher: watching, ${seen}`;
  if (w.state === 'starting') return `watcher: STARTING (not yet reached the node), ${seen}`;
  if (w.state === 'blind')
    return `watcher: BLIND since ${w.blindSince} (${w.blindReason}), ${seen}`;
  return `watcher: ${w.state.toUpperCase()} (no heartbeat now), ${seen}`;
}

const tiersVerb: VerbSpec = {
  summary: 'balances per tier and the hot float against its cap',
  usage: 'mamori custody tiers [--node <url>]',
  options: syncOpt,
  async run(ctx, p) {
    const c = await lib();
    await maybeSync(ctx, p);
    const cx = await ctxOf(ctx);
    const t = { ...(await c.tiers(cx)), watcher: await c.watcherStatus(cx) };
    ctx.print(t, () =>
      [
        formatTable(
          ['tier', 'wallets', 'confirmed', 'unconfirmed'],
          t.tiers.map((x) => [x.tier, x.wallets, satFmt(x.confirmed), satFmt(x.unconfirmed)]),
        ),
        '',
        `hot float ${satFmt(t.hotFloat)} BTC, cap ${t.hotFloatCap === null ? '(none)' : `${satFmt(t.hotFloatCap)} BTC`}${t.overCap ? '  OVER CAP: run custody sweep' : ''}`,
        `policy coverage ${(t.policyCoverage * 100).toFixed(0)}%${t.frozen ? '  FROZEN' : ''}`,
        watcherLine(t.watcher),
      ].join('\n'),
    );
    return 0;
  },
};

const policy: VerbSpec = {
  summary: 'policy set|show: ordered withdrawal rules, first match wins',
  usage:
    'mamori custody policy set <wallet> [rule flags | --file <policy.json>] | policy show [<wallet>]',
  description:
    'Flags compile to rules in this order: whitelist (reject if the destination is not\nwhitelisted and active), limit, velocity 1h, velocity 24h, max share (reject when over),\napprovals (k of n above --approval-above), allow (after --delay-minutes). Nothing matched: deny.',
  examples: [
    'mamori custody policy set hot --whitelist bc1q… --limit 1 --velocity-24h 5 --max-share 25 --approvers alice,bob,carol --quorum 2 --approval-above 0.5 --hot-cap 10',
  ],
  options: {
    whitelist: {
      type: 'string',
      multiple: true,
      value: '<address>',
      description: 'add a destination (repeat)',
    },
    'activation-hours': {
      type: 'string',
      value: '<h>',
      description: 'whitelist activation delay (default 48)',
    },
    limit: { type: 'string', value: '<BTC>', description: 'per-withdrawal limit' },
    'velocity-1h': { type: 'string', value: '<BTC>', description: 'rolling 1 h outflow limit' },
    'velocity-24h': { type: 'string', value: '<BTC>', description: 'rolling 24 h outflow limit' },
    'max-share': {
      type: 'string',
      value: '<percent>',
      description: 'max share of the wallet balance',
    },
    approvers: { type: 'string', value: '<a,b,c>', description: 'named approvers' },
    quorum: { type: 'string', value: '<k>', description: 'approvals required (k of n)' },
    'approval-above': {
      type: 'string',
      value: '<BTC>',
      description: 'approvals only above this amount',
    },
    'delay-minutes': { type: 'string', value: '<m>', description: 'time delay before signing' },
    'hot-cap': { type: 'string', value: '<BTC>', description: 'hot float cap (hot wallets)' },
    file: { type: 'string', value: '<policy.json>', description: 'a full policy document' },
    out: { type: 'string', value: '<file>', description: 'propose|sign: write the proposal here' },
    as: AS_OPT,
    'own-wallet': {
      type: 'string',
      multiple: true,
      value: '<wallet>',
      description: 'propose: an own wallet sweeps/refills may pay (repeat)',
    },
    'sweep-limit': { type: 'string', value: '<BTC>', description: 'propose: per-sweep limit' },
    'sweep-velocity-24h': {
      type: 'string',
      value: '<BTC>',
      description: 'propose: sweeps in 24 h',
    },
  },
  positionals: { min: 1, max: 2, name: 'set|show|propose|sign|apply' },
  async run(ctx, p) {
    const c = await lib();
    const s = sub(p, 'policy', ['set', 'show', 'propose', 'sign', 'apply']);
    if (s === 'sign') {
      // offline: the proposal file and the identity file, nothing else
      const path = arg(p, 1, 'proposal file');
      const doc = c.parseDocument<import('../../custody/index.js').PolicyVersion>(
        readText(path, 'proposal'),
        path,
      );
      const me = await signerOf(ctx, p);
      if (!me) throw new MamoriError('E_USAGE', 'policy sign needs --as <identity file>');
      try {
        ctx.io.stderr(`signing policy version ${doc.version} of ${doc.wallet?.name}\n`);
        const signed = c.signPolicy(doc, me, new Date().toISOString());
        writeFileSync(str(p, 'out') ?? path, `${JSON.stringify(signed, null, 1)}\n`);
        ctx.print(
          { file: str(p, 'out') ?? path, signatures: signed.signatures.map((x) => x.by) },
          () => `${signed.signatures.length} signature(s) on ${str(p, 'out') ?? path}`,
        );
      } finally {
        me.wipe();
      }
      return 0;
    }
    const cx = await ctxOf(ctx, p);
    if (s === 'apply') {
      const path = arg(p, 1, 'proposal file');
      const r = await c.applyPolicy(cx, c.parseDocument(readText(path, 'proposal'), path));
      ctx.print(r, () => `policy of ${r.wallet} is version ${r.version} (${r.hash})`);
      return 0;
    }
    if (s === 'show') {
      const ps = await c.showPolicies(cx, p.positionals[1]);
      ctx.print(ps, () =>
        ps
          .map((x) =>
            [
              `${x.wallet} (${x.tier})`,
              ...(x.policy
                ? x.policy.rules.map(
                    (r, i) =>
                      `  ${i + 1}. ${r.id}: when ${JSON.stringify(r.when)} → ${JSON.stringify(r.action)}`,
                  )
                : ['  no policy: every withdrawal is denied']),
              ...(x.policy?.whitelist.length
                ? [
                    `  whitelist (${x.policy.activationHours} h activation): ${x.policy.whitelist.map((w) => w.address).join(', ')}`,
                  ]
                : []),
            ].join('\n'),
          )
          .join('\n\n'),
      );
      return 0;
    }
    const name = arg(p, 1, 'wallet');
    const sats = (v: string | undefined) => (v === undefined ? undefined : Number(c.parseBtc(v)));
    const num = (v: string | undefined, what: string) => {
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0)
        throw new MamoriError('E_INPUT', `${what} must be a number ≥ 0`);
      return n;
    };
    const file = str(p, 'file');
    const flags = {
      ...(p.values.whitelist ? { whitelist: p.values.whitelist as string[] } : {}),
      activationHours: num(str(p, 'activation-hours'), '--activation-hours'),
      limitSats: sats(str(p, 'limit')),
      velocity1hSats: sats(str(p, 'velocity-1h')),
      velocity24hSats: sats(str(p, 'velocity-24h')),
      maxSharePercent: num(str(p, 'max-share'), '--max-share'),
      approvers: str(p, 'approvers')
        ?.split(',')
        .map((a) => a.trim())
        .filter(Boolean),
      quorum: num(str(p, 'quorum'), '--quorum'),
      approvalAboveSats: sats(str(p, 'approval-above')),
      delayMinutes: num(str(p, 'delay-minutes'), '--delay-minutes'),
      hotFloatCap: sats(str(p, 'hot-cap')),
    };
    const clean = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));
    if (s === 'propose') {
      const out = str(p, 'out');
      if (!out) throw new MamoriError('E_USAGE', 'policy propose needs --out <proposal.json>');
      const own = p.values['own-wallet'] as string[] | undefined;
      const sl = {
        ...(str(p, 'sweep-limit') ? { perTxSats: sats(str(p, 'sweep-limit'))! } : {}),
        ...(str(p, 'sweep-velocity-24h')
          ? { velocity24hSats: sats(str(p, 'sweep-velocity-24h'))! }
          : {}),
      };
      const doc = await c.proposePolicy(cx, name, {
        flags: clean,
        ...(own ? { ownWallets: own } : {}),
        sweepLimits: sl,
      });
      writeFileSync(out, `${JSON.stringify(doc, null, 1)}\n`, { flag: 'wx' });
      ctx.print({ file: out, version: doc.version, prev: doc.prev }, () =>
        [
          `proposal for ${name} version ${doc.version}: ${doc.policy.rules.map((r) => r.id).join(' → ')}`,
          `written to ${out}; admins sign it with: mamori custody policy sign ${out} --as <id file>`,
        ].join('\n'),
      );
      return 0;
    }
    const pol = await c.setPolicy(
      cx,
      name,
      file ? { document: JSON.parse(readText(file, 'policy file')) } : { flags: clean },
    );
    ctx.print(pol, () => `policy of ${name}: ${pol.rules.map((r) => r.id).join(' → ')}`);
    return 0;
  },
};

const withdraw: VerbSpec = {
  summary: 'withdraw request|approve|list|build: through the policy engine into one PSBT',
  usage:
    'mamori custody withdraw request <wallet> --to <addr> --amount <BTC> | approve <id> --by <approver> | list | build [<id>…] [--fee-rate <sat/vB>] [--out <file>] [--sign-hot]',
  examples: [
    'mamori custody withdraw request hot --to bc1q… --amount 0.25',
    'mamori custody withdraw approve 7 --by alice',
    'mamori custody withdraw build --fee-rate 5 --out batch.psbt --sign-hot',
  ],
  options: {
    to: { type: 'string', value: '<address>', description: 'destination' },
    amount: { type: 'string', value: '<BTC>', description: 'amount (up to 8 decimals)' },
    by: {
      type: 'string',
      value: '<name>',
      description: 'unbound wallets only: who requests or approves (bound: --as)',
    },
    as: AS_OPT,
    'expires-hours': {
      type: 'string',
      value: '<h>',
      description: 'request: the signed statement expires after (default 24)',
    },
    wallet: { type: 'string', value: '<name>', description: 'build: only this wallet' },
    status: { type: 'string', value: '<status>', description: 'list: only this status' },
    'fee-rate': {
      type: 'string',
      value: '<sat/vB>',
      description: 'build: fee rate (else the node estimate)',
    },
    out: { type: 'string', value: '<file>', description: 'build: write the PSBT here' },
    'sign-hot': { type: 'boolean', description: 'build: add the online hot cosigner signature' },
    ...CHAIN_OPTS,
  },
  positionals: { min: 1, name: 'request|approve|list|build' },
  async run(ctx, p) {
    const c = await lib();
    const s = sub(p, 'withdraw', ['request', 'approve', 'list', 'build']);
    const cx = await ctxOf(ctx, p);
    if (s === 'request') {
      const to = str(p, 'to');
      const amount = str(p, 'amount');
      if (!to || !amount)
        throw new MamoriError('E_USAGE', 'withdraw request needs --to and --amount');
      const w = await c.requestWithdrawal(
        cx,
        arg(p, 1, 'wallet'),
        to,
        c.parseBtc(amount),
        cx.signer?.id ?? str(p, 'by') ?? cx.actor,
        str(p, 'expires-hours') ? { expiresHours: Number(str(p, 'expires-hours')) } : {},
      );
      ctx.print(w, () =>
        [
          `withdrawal ${w.id}: ${w.status.toUpperCase()} by rule ${w.decision.rule}`,
          `  ${w.decision.reason}`,
          ...w.decision.trace.map(
            (t) => `  - ${t.rule}: ${t.matched ? 'matched' : 'no'} (${t.why})`,
          ),
        ].join('\n'),
      );
      return w.status === 'rejected' ? 4 : 0;
    }
    if (s === 'approve') {
      const by = str(p, 'by');
      if (!by && !cx.signer) {
        throw new MamoriError('E_USAGE', 'withdraw approve needs --as <identity file>');
      }
      const w = await c.approveWithdrawal(cx, Number(arg(p, 1, 'withdrawal id')), by);
      ctx.print(w, () => `withdrawal ${w.id}: ${w.status} (approvals: ${w.approvals.join(', ')})`);
      return 0;
    }
    if (s === 'list') {
      const ws = await c.listWithdrawals(cx, {
        ...(str(p, 'wallet') ? { wallet: str(p, 'wallet')! } : {}),
        ...(str(p, 'status') ? { status: str(p, 'status')! } : {}),
      });
      ctx.print(ws, () =>
        formatTable(
          ['id', 'wallet', 'to', 'BTC', 'status', 'rule', 'approvals'],
          ws.map((w) => [
            w.id,
            w.wallet,
            w.to,
            satFmt(w.amount),
            w.status,
            w.decision.rule,
            w.approvals.join(','),
          ]),
        ),
      );
      return 0;
    }
    const ids = p.positionals.slice(1).map((x) => {
      const n = Number(x);
      if (!Number.isInteger(n) || n < 1)
        throw new MamoriError('E_INPUT', `not a withdrawal id: ${x}`);
      return n;
    });
    const fee = str(p, 'fee-rate');
    const chain = fee ? undefined : await chainOf(ctx, p, false);
    const built = await c.buildWithdrawals(cx, {
      ids,
      ...(str(p, 'wallet') ? { wallet: str(p, 'wallet')! } : {}),
      ...(fee ? { feeRate: Number(fee) } : {}),
      ...(chain ? { chain } : {}),
    });
    let psbt = built.psbt;
    let hotSigned = 0;
    if (p.values['sign-hot']) {
      const r = await c.signWithHotKey(cx, psbt, await passphrase(ctx));
      psbt = r.psbt;
      hotSigned = r.signed;
    }
    const out = str(p, 'out');
    if (out) writeFileSync(out, `${psbt}\n`);
    // the evidence travels beside the PSBT to the cosigners
    const evidenceFile = out && built.evidence ? `${out}.evidence.json` : null;
    if (evidenceFile) writeFileSync(evidenceFile, `${JSON.stringify(built.evidence, null, 1)}\n`);
    const result = { ...built, psbt, hotSigned, file: out ?? null, evidenceFile };
    ctx.print(result, () =>
      [
        `PSBT ${built.psbtId} for withdrawals ${built.withdrawals.join(', ')}: txid ${built.txid}`,
        `fee ${satFmt(built.fee)} BTC at ${built.feeRate} sat/vB, change ${satFmt(built.change)} BTC${hotSigned ? `, hot key signed ${hotSigned} input(s)` : ''}`,
        out ? `written to ${out}` : psbt,
      ].join('\n'),
    );
    return 0;
  },
};

/** A file path, or the PSBT (base64/hex) or raw transaction (hex) itself. */
function readPsbtArg(arg: string): string {
  if (!existsSync(arg) && /^(cHNidP[A-Za-z0-9+/=]+|[0-9a-fA-F]{20,})$/.test(arg.trim()))
    return arg.trim();
  return readText(arg, 'PSBT file').trim();
}

const psbt: VerbSpec = {
  summary: 'psbt sign|combine|finalize|inspect (offline: no store, no network)',
  usage:
    'mamori custody psbt sign <file> --key <key-file> [--out <file>] [--yes] | combine <file>… --out <file> | finalize <file> [--out <file>] | inspect <file>',
  description:
    'sign shows the outputs, amounts, fee and verified change before signing and refuses a key\nthat is no cosigner. finalize refuses with fewer than M valid signatures.',
  examples: [
    'mamori custody psbt sign batch.psbt --key bob.key --out batch.bob.psbt --network regtest',
  ],
  options: {
    key: { type: 'string', value: '<key-file>', description: 'sign: the encrypted cosigner key' },
    out: { type: 'string', value: '<file>', description: 'write the result here' },
    yes: { type: 'boolean', description: 'sign: do not ask for confirmation' },
    descriptor: {
      type: 'string',
      value: '<descriptor|file>',
      description: 'the wallet descriptor (wallet export): verify inputs and change against it',
    },
    network: {
      ...NETWORK_OPT,
      description: 'network for addresses (default: the key file, else mainnet)',
    },
    trust: {
      type: 'string',
      value: '<genesis.json>',
      description: 'sign: the pinned genesis; sign only if the evidence passes every check',
    },
    evidence: {
      type: 'string',
      value: '<file>',
      description: 'sign: the evidence (default <psbt>.evidence.json)',
    },
    ledger: {
      type: 'string',
      value: '<file>',
      description: "sign: this cosigner's append-only ledger (velocity)",
    },
    unchecked: {
      type: 'boolean',
      description: 'sign without --trust: only change and inputs are checked (not recommended)',
    },
  },
  positionals: { min: 2, name: 'sign|combine|finalize|inspect <file>' },
  async run(ctx, p) {
    const c = await lib();
    const s = sub(p, 'psbt', ['sign', 'combine', 'finalize', 'inspect']);
    const files = p.positionals.slice(1);
    const out = str(p, 'out');
    const emit = (text: string, result: Record<string, unknown>) => {
      if (out) writeFileSync(out, `${text}\n`);
      ctx.print({ ...result, file: out ?? null, ...(out ? {} : { psbt: text }) }, () =>
        out ? `written to ${out}` : text,
      );
    };
    if (s === 'combine') {
      const tx = c.combinePsbts(files.map((f) => c.decodePsbt(readPsbtArg(f))));
      emit(c.encodePsbt(tx), { txid: tx.id });
      return 0;
    }
    const tx = c.decodePsbt(readPsbtArg(files[0]!));
    if (s === 'finalize') {
      c.finalizePsbt(tx);
      const hex = Buffer.from(tx.extract()).toString('hex');
      if (out) writeFileSync(out, `${hex}\n`);
      ctx.print({ txid: tx.id, hex, file: out ?? null }, () => (out ? `written to ${out}` : hex));
      return 0;
    }
    const walletOf = (netName: string) => {
      const d = str(p, 'descriptor');
      if (!d) return {};
      const text = existsSync(d) ? readText(d, 'descriptor file').trim().split('\n')[0]!.trim() : d;
      return { wallet: c.makeDeriver(c.parseMultisigDescriptor(text), c.network(netName)) };
    };
    if (s === 'inspect') {
      const coin = c.coinTypeOf(tx);
      const given = str(p, 'network');
      if (given === undefined && coin === 1) {
        // the key paths say a test network, and they cannot say which: do not guess
        throw new MamoriError('E_USAGE', 'this PSBT is for a test network (coin type 1)', {
          hint: 'say which: --network testnet|signet|regtest',
        });
      }
      if (given === 'mainnet' && coin === 1)
        throw new MamoriError('E_INPUT', 'this PSBT is for a test network, not mainnet');
      if (given !== undefined && given !== 'mainnet' && coin === 0)
        throw new MamoriError('E_INPUT', `this PSBT is for mainnet, not ${given}`);
      const netName = given ?? 'mainnet';
      const v = c.inspectPsbt(tx, c.network(netName), walletOf(netName));
      ctx.print(v, () => psbtSummary(v, satFmt));
      return 0;
    }
    const keyPath = str(p, 'key');
    if (!keyPath) throw new MamoriError('E_USAGE', 'psbt sign needs --key <key-file>');
    const kf = c.readKeyFile(keyPath);
    const netName = str(p, 'network') ?? kf.public.network;
    const v = c.inspectPsbt(tx, c.network(netName), walletOf(netName));
    if (v.inputsOfWallet === false) {
      throw new MamoriError(
        'E_POLICY',
        "an input is not this wallet's (per --descriptor): nothing signed",
      );
    }
    // What is being signed, before anything is signed.
    ctx.io.stderr(`${psbtSummary(v, satFmt)}\n`);
    if (v.outputs.some((o) => o.change && !o.changeVerified)) {
      throw new MamoriError(
        'E_POLICY',
        'an output claims to be change but does not belong to this wallet: nothing signed',
      );
    }
    const trustPath = str(p, 'trust');
    if (!trustPath && !p.values.unchecked) {
      throw new MamoriError(
        'E_POLICY',
        'no trust root: the cosigner signs only evidence checked against a pinned genesis',
        {
          hint: 'pass --trust <genesis.json> (evidence beside the PSBT), or --unchecked knowingly',
          details: { reason: 'untrusted-wallet' },
        },
      );
    }
    let evidence: unknown;
    let genesis: unknown;
    const verify = c.memoSchnorrVerify(c.fastSchnorrVerify);
    let prechecked: { check: CosignApproval; ledger: LedgerEntry[] } | undefined;
    if (trustPath) {
      genesis = c.readGenesisFile(trustPath);
      const evPath = str(p, 'evidence') ?? `${files[0]}.evidence.json`;
      evidence = c.parseDocument(readText(evPath, 'evidence file'), `evidence ${evPath}`);
      // refuse before the key is even unlocked; the check after the unlock (in cosign) asks
      // the same verifier, which verifies each signature once.
      const ledger = c.readLedger(str(p, 'ledger'));
      const ok = c.cosignCheck({
        psbt: tx,
        evidence,
        genesis,
        ledger,
        now: Date.now(),
        schnorrVerify: verify,
      });
      prechecked = { check: ok, ledger };
      ctx.io.stderr(
        `checked: policy version ${ok.policyVersion} of ${ok.wallet}, withdrawals ${ok.withdrawals.join(', ') || '(none)'}, signed approvals and limits hold\n`,
      );
    }
    if (!p.values.yes && ctx.io.prompt && ctx.io.stdoutIsTTY) {
      const a = await ctx.io.prompt('Sign this transaction? [y/N] ');
      if (!/^y(es)?$/i.test(a.trim())) throw new MamoriError('E_INPUT', 'not signed');
    }
    const master = await c.unlockKeyFile(kf, await passphrase(ctx));
    if (trustPath) {
      try {
        const r = c.cosign(
          { psbt: c.encodePsbt(tx), evidence },
          {
            genesis,
            master,
            ...(str(p, 'ledger') ? { ledgerPath: str(p, 'ledger')! } : {}),
            now: Date.now(),
            schnorrVerify: verify,
            ...(prechecked ? { prechecked } : {}),
          },
        );
        emit(r.psbt, {
          txid: tx.id,
          signed: r.signed,
          fingerprint: kf.public.fingerprint,
          withdrawals: r.check.withdrawals,
          view: v,
        });
        return 0;
      } finally {
        master.wipePrivateData();
      }
    }
    let signed: number;
    try {
      signed = c.signPsbt(tx, master);
    } finally {
      master.wipePrivateData();
    }
    emit(c.encodePsbt(tx), { txid: tx.id, signed, fingerprint: kf.public.fingerprint, view: v });
    return 0;
  },
};

const broadcastVerb: VerbSpec = {
  summary: 'finalize and broadcast a PSBT, or broadcast a raw transaction',
  usage: 'mamori custody broadcast <psbt-file|tx-file> --node <url>',
  options: CHAIN_OPTS,
  positionals: { min: 1, max: 1, name: 'file' },
  async run(ctx, p) {
    const c = await lib();
    const chain = (await chainOf(ctx, p))!;
    const r = await c.broadcast(await ctxOf(ctx), chain, readPsbtArg(p.positionals[0]!));
    ctx.print(r, () => `broadcast ${r.txid}${r.ours ? '' : ' (not a Mamori-built withdrawal)'}`);
    return 0;
  },
};

const sweepVerb: VerbSpec = {
  summary: 'sweep the hot float above its cap to a fresh cold (or warm) address',
  usage:
    'mamori custody sweep <hot-wallet> --to-tier cold [--to-wallet <name>] [--fee-rate <sat/vB>]',
  description:
    'Refilling hot from warm is an ordinary `withdraw request <warm> --to <hot address>` and\nneeds the warm policy’s approvals.',
  options: {
    'to-tier': {
      type: 'string',
      value: 'warm|cold',
      description: 'destination tier',
      default: 'cold',
    },
    'to-wallet': { type: 'string', value: '<name>', description: 'a specific wallet of that tier' },
    'fee-rate': {
      type: 'string',
      value: '<sat/vB>',
      description: 'also build the PSBT at this fee rate',
    },
    out: { type: 'string', value: '<file>', description: 'write the PSBT here' },
    ...syncOpt,
  },
  positionals: { min: 1, max: 1, name: 'hot-wallet' },
  async run(ctx, p) {
    const c = await lib();
    await maybeSync(ctx, p);
    const cx = await ctxOf(ctx);
    const tier = (str(p, 'to-tier') ?? 'cold') as 'warm' | 'cold';
    const r = await c.sweep(
      cx,
      p.positionals[0]!,
      tier,
      str(p, 'to-wallet') ? { toWallet: str(p, 'to-wallet')! } : {},
    );
    let built: Awaited<ReturnType<Custody['buildWithdrawals']>> | undefined;
    if (r.withdrawal && str(p, 'fee-rate')) {
      built = await c.buildWithdrawals(cx, {
        ids: [r.withdrawal.id],
        feeRate: Number(str(p, 'fee-rate')),
      });
      if (str(p, 'out')) writeFileSync(str(p, 'out')!, `${built.psbt}\n`);
    }
    ctx.print({ ...r, built: built ?? null }, () =>
      r.swept
        ? `sweep ${satFmt(r.swept)} BTC from float ${satFmt(r.float)} (cap ${satFmt(r.floatCap)}) to ${r.to}: withdrawal ${r.withdrawal!.id}${built ? `, PSBT ${built.psbtId}` : ''}`
        : `hot float ${satFmt(r.float)} BTC is within its cap ${satFmt(r.floatCap)} BTC: nothing to sweep`,
    );
    return 0;
  },
};

function seconds(p: Parsed, name: string, fallback: number): number {
  const v = str(p, name);
  const n = v === undefined ? fallback : Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 86_400)
    throw new MamoriError('E_USAGE', `--${name} must be a number of seconds, 0–86400`);
  return n;
}

const watchVerb: VerbSpec = {
  summary: 'follow chain and mempool; freeze on any unapproved spend (CRITICAL alert)',
  usage:
    'mamori custody watch --node <url> [--interval-ms 200] [--blind-after 30] [--webhook <url>] [--once]',
  options: {
    ...syncOpt,
    'interval-ms': { type: 'string', value: '<ms>', description: 'poll interval', default: '200' },
    'blind-after': {
      type: 'string',
      value: '<s>',
      description: 'no answer from the node this long: CRITICAL "watcher blind"',
      default: '30',
    },
    'stale-after': {
      type: 'string',
      value: '<s>',
      description: "the node's tip not moving this long is blind too (0 = off)",
      default: '7200',
    },
    webhook: {
      type: 'string',
      multiple: true,
      value: '<url>',
      description: 'POST alerts here (JSON)',
    },
    once: { type: 'boolean', description: 'one poll, then exit' },
  },
  async run(ctx, p) {
    const c = await lib();
    const { createAlertSink } = await import('../../alerts/index.js');
    const chain = (await chainOf(ctx, p))!;
    const cx = await ctxOf(ctx);
    const hooks = (
      (p.values.webhook as string[] | undefined) ??
      ctx.config.get<string[]>('custody.webhooks') ??
      []
    ).map((url) => ({ url }));
    const sink = createAlertSink({
      store: cx.store,
      write: (l) => ctx.io.stdout(l),
      webhooks: hooks,
    });
    const from = str(p, 'from-height');
    const opts = {
      sink,
      signal: ctx.signal,
      intervalMs: Number(str(p, 'interval-ms') ?? 200),
      blindAfterMs: seconds(p, 'blind-after', 30) * 1000,
      staleAfterMs: seconds(p, 'stale-after', 7200) * 1000,
      ...(from ? { fromHeight: Number(from) } : {}),
      onEvent: (e: import('../../custody/index.js').WatchEvent) => {
        if (e.type !== 'sync')
          ctx.io.stdout(
            `${JSON.stringify({ type: e.type, at: new Date(e.at).toISOString(), ...e.details })}\n`,
          );
      },
      ...(p.values.once ? { maxPolls: 1 } : {}),
    };
    if (!ctx.quiet && !p.values.once) ctx.io.stderr('watching (Ctrl-C to stop)\n');
    await c.watch(cx, chain, opts);
    return 0;
  },
};

const unfreezeVerb: VerbSpec = {
  summary: "one approver's vote to lift a freeze (the approvers' quorum lifts it)",
  usage: 'mamori custody unfreeze --as <approver identity file>',
  options: {
    as: AS_OPT,
    by: {
      type: 'string',
      value: '<name>',
      description: 'stores without a trust root only: the approver voting',
    },
  },
  async run(ctx, p) {
    const c = await lib();
    const cx = await ctxOf(ctx, p);
    const by = str(p, 'by');
    if (!by && !cx.signer) throw new MamoriError('E_USAGE', 'unfreeze needs --as <identity file>');
    const r = await c.unfreeze(cx, cx.signer ? undefined : by);
    ctx.print(r, () =>
      r.frozen
        ? `still frozen: ${r.votes?.length ?? 0} of ${r.needed} votes (${r.votes?.join(', ')})`
        : 'not frozen: withdrawals resume',
    );
    return 0;
  },
};

const audit: VerbSpec = {
  summary: 'audit verify|checkpoint|export: the hash-chained, signed log of every state change',
  usage:
    'mamori custody audit verify [--head <seq:hash>] | checkpoint --as <id file> [--out <file>] | export [--out <file>]',
  options: {
    head: { type: 'string', value: '<seq:hash>', description: 'verify: a head kept elsewhere' },
    as: AS_OPT,
    out: { type: 'string', value: '<file>', description: 'checkpoint|export: write here' },
  },
  positionals: { min: 1, max: 1, name: 'verify|checkpoint|export' },
  async run(ctx, p) {
    const c = await lib();
    const s = sub(p, 'audit', ['verify', 'checkpoint', 'export']);
    if (s !== 'verify') {
      const cx = await ctxOf(ctx, p);
      const doc = s === 'checkpoint' ? await c.auditCheckpoint(cx) : await c.exportAudit(cx);
      const out = str(p, 'out');
      if (out) writeFileSync(out, `${JSON.stringify(doc, null, 1)}\n`);
      ctx.print(doc, () =>
        'seq' in doc
          ? `checkpoint ${doc.seq}:${doc.hash} signed by ${doc.signature.by}`
          : `${doc.entries.length} entries${out ? ` written to ${out}` : ''}`,
      );
      return 0;
    }
    const head = str(p, 'head');
    const v = await c.verifyAudit(await ctxOf(ctx), head ? { head } : {});
    ctx.print(v, () =>
      v.ok
        ? `audit log intact: ${v.count} entries, head ${v.head}`
        : [
            `audit log BROKEN (${v.problems.length} problem(s)):`,
            ...v.problems.map((x) => `  entry ${x.seq}: ${x.problem} — ${x.detail}`),
          ].join('\n'),
    );
    if (!v.ok) throw new MamoriError('E_FINDINGS', 'the audit log has been altered');
    return 0;
  },
};

const node: VerbSpec = {
  summary: 'node start|mine: an in-process bcoin regtest node (development and tests)',
  usage:
    'mamori custody node start --regtest [--rpc-port <port>] | node mine <n> [--to <addr>] --node <url>',
  options: {
    regtest: { type: 'boolean', description: 'start: regtest (the only network offered)' },
    'rpc-port': {
      type: 'string',
      value: '<port>',
      description: 'start: JSON-RPC port on 127.0.0.1 (default random)',
    },
    to: { type: 'string', value: '<address>', description: 'mine: where block rewards go' },
    ...CHAIN_OPTS,
  },
  positionals: { min: 1, max: 2, name: 'start|mine' },
  async run(ctx, p) {
    const c = await lib();
    const s = sub(p, 'node', ['start', 'mine']);
    if (s === 'mine') {
      const n = Number(arg(p, 1, 'block count'));
      if (!Number.isInteger(n) || n < 1 || n > 10_000)
        throw new MamoriError('E_INPUT', 'block count must be 1–10000');
      const chain = (await chainOf(ctx, p)) as ReturnType<Custody['coreRpc']>;
      if (chain.kind !== 'core-rpc')
        throw new MamoriError('E_USAGE', 'node mine needs --node <url>');
      const hashes = await chain.call<string[]>('generatetoaddress', [
        n,
        str(p, 'to') ?? c.BURN_ADDRESS,
      ]);
      ctx.print(
        { blocks: hashes.length, height: await chain.tipHeight() },
        () => `mined ${hashes.length} block(s)`,
      );
      return 0;
    }
    if (!p.values.regtest)
      throw new MamoriError('E_USAGE', 'node start runs regtest only: pass --regtest');
    const port = str(p, 'rpc-port');
    const n = await c.startRegtestNode({ port: port ? Number(port) : 0 });
    const height = await n.height();
    ctx.print({ url: n.url, port: n.port, height }, () =>
      [`bcoin regtest node: ${n.url}`, `height ${height} (segwit active); Ctrl-C to stop`].join(
        '\n',
      ),
    );
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      ctx.signal.addEventListener('abort', () => resolve());
    });
    await n.close();
    return 0;
  },
};

export const area: AreaSpec = {
  name: 'custody',
  summary: 'exchange custody: multisig tiers, PSBT signing, withdrawal policy, watcher',
  verbs: {
    key,
    wallet,
    address,
    balance,
    tiers: tiersVerb,
    policy,
    withdraw,
    psbt,
    broadcast: broadcastVerb,
    sweep: sweepVerb,
    watch: watchVerb,
    unfreeze: unfreezeVerb,
    audit,
    node,
    id: trustVerbs.id,
    trust: trustVerbs.trust,
    cosigner: trustVerbs.cosigner,
  },
};
