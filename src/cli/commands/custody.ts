/**
 * `mamori custody …` verbs. Owned by the custody area. Verbs with sub-verbs (`key new`,
 * `wallet create`, `psbt sign` …) take the sub-verb as the first positional. Commands parse,
 * call `src/custody/index.ts`, and print; they decide nothing themselves. `psbt sign|combine|
 * finalize|inspect` and `key new|show` never open the store or the network.
 */
import { writeFileSync } from 'node:fs';
import { MamoriError } from '../../shared/errors.js';
import { formatTable } from '../../shared/text.js';
import type { AreaSpec, Parsed, VerbSpec } from '../types.js';
import {
  AS_OPT,
  arg,
  CHAIN_OPTS,
  type Custody,
  chainOf,
  ctxOf,
  lib,
  maybeSync,
  NETWORK_OPT,
  passphrase,
  readText,
  satFmt,
  str,
  sub,
  syncOpt,
} from './custody-common.js';
import { broadcastVerb, psbt } from './custody-psbt.js';
import * as trustVerbs from './custody-trust.js';
import { policy, sweepVerb, withdraw } from './custody-withdraw.js';

// Verb files and other callers imported these from here before the split.
export {
  AS_OPT,
  arg,
  ctxOf,
  passphrase,
  readText,
  satFmt,
  signerOf,
  str,
  sub,
} from './custody-common.js';

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
    'mamori custody audit verify [--head <seq:hash>] [--file <export> [--trust <genesis.json>]] | checkpoint --as <id file> [--out <file>] | export [--out <file>]',
  description:
    'verify --file checks an export offline, with no store: the hash chain, each identity’s\nsignature, the checkpoints it carries and --head (a checkpoint kept elsewhere: without one,\na log cut at its end cannot be told from a short one). With --trust, every signer must be\nan identity of that genesis.',
  options: {
    head: { type: 'string', value: '<seq:hash>', description: 'verify: a head kept elsewhere' },
    file: {
      type: 'string',
      value: '<export.json>',
      description: 'verify: an `audit export` file, offline (no store)',
    },
    trust: {
      type: 'string',
      value: '<genesis.json>',
      description: 'verify --file: signers must be identities of this genesis',
    },
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
    const file = str(p, 'file');
    if (str(p, 'trust') && !file) {
      throw new MamoriError('E_USAGE', '--trust goes with --file (an export checked offline)');
    }
    const v = file
      ? c.verifyAuditExport(
          c.parseDocument(readText(file, 'audit export'), `audit export ${file}`),
          {
            ...(head ? { head } : {}),
            ...(str(p, 'trust')
              ? { genesis: c.checkGenesis(c.readGenesisFile(str(p, 'trust')!), Date.now()) }
              : {}),
          },
        )
      : await c.verifyAudit(await ctxOf(ctx), head ? { head } : {});
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
