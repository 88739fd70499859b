/**
 * `mamori custody policy …`, `withdraw request|approve|list|build` and `sweep`. Moved out of
 * `custody.ts` unchanged.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { MamoriError } from '../../shared/errors.js';
import { formatTable } from '../../shared/text.js';
import type { VerbSpec } from '../types.js';
import {
  AS_OPT,
  arg,
  CHAIN_OPTS,
  type Custody,
  chainOf,
  ctxOf,
  lib,
  MIN_CONF_OPT,
  maybeSync,
  minConfOf,
  passphrase,
  readText,
  satFmt,
  signerOf,
  str,
  sub,
  syncOpt,
} from './custody-common.js';

export const policy: VerbSpec = {
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

export const withdraw: VerbSpec = {
  summary: 'withdraw request|approve|list|build: through the policy engine into one PSBT',
  usage:
    'mamori custody withdraw request <wallet> (--to <addr> --amount <BTC> | --payees <file>) --as <id file> | approve <id> --as <id file> | list | build [<id>…] [--fee-rate <sat/vB>] [--out <file>] [--sign-hot]',
  description:
    'A batch payout is one request: --payees takes a file of "address,amount" lines (or the JSON\n{address: amount} object Bitcoin Core\'s sendmany takes; - reads stdin). The requester and each\napprover then sign one statement over every output, and the policy decides each output in turn.',
  examples: [
    'mamori custody withdraw request hot --to bc1q… --amount 0.25',
    'mamori custody withdraw request hot --payees payouts.csv --as ops.id',
    'mamori custody withdraw approve 7 --by alice',
    'mamori custody withdraw build --fee-rate 5 --out batch.psbt --sign-hot',
  ],
  options: {
    to: { type: 'string', value: '<address>', description: 'destination' },
    amount: { type: 'string', value: '<BTC>', description: 'amount (up to 8 decimals)' },
    payees: {
      type: 'string',
      value: '<file>',
      description: 'request: a batch, "address,amount" lines or a sendmany JSON object (- = stdin)',
    },
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
    'min-conf': MIN_CONF_OPT,
    ...CHAIN_OPTS,
  },
  positionals: { min: 1, name: 'request|approve|list|build' },
  async run(ctx, p) {
    const c = await lib();
    const s = sub(p, 'withdraw', ['request', 'approve', 'list', 'build']);
    const cx = await ctxOf(ctx, p);
    if (s === 'request') {
      const w = await c.requestBatch(
        cx,
        arg(p, 1, 'wallet'),
        payeesOf(c, p),
        cx.signer?.id ?? str(p, 'by') ?? cx.actor,
        str(p, 'expires-hours') ? { expiresHours: Number(str(p, 'expires-hours')) } : {},
      );
      const batch = w.outputs.length > 1;
      ctx.print(w, () =>
        [
          `withdrawal ${w.id}: ${w.status.toUpperCase()} by rule ${w.decision.rule}${batch ? ` (${w.outputs.length} payees, ${satFmt(w.amount)} BTC)` : ''}`,
          `  ${w.decision.reason}`,
          // a batch's trace has a line per rule per output: the decision above says it all
          ...(batch ? [] : w.decision.trace).map(
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
            w.outputs.length > 1 ? `${w.to} (+${w.outputs.length - 1})` : w.to,
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
      ...minConfOf(p),
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

export const sweepVerb: VerbSpec = {
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
    'min-conf': MIN_CONF_OPT,
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
        ...minConfOf(p),
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

/** The payees of `withdraw request`: --to and --amount, or a --payees file (- for stdin). */
function payeesOf(c: Custody, p: Parameters<VerbSpec['run']>[1]) {
  const file = str(p, 'payees');
  const to = str(p, 'to');
  const amount = str(p, 'amount');
  if (file && (to || amount)) {
    throw new MamoriError('E_USAGE', 'withdraw request takes --payees or --to/--amount, not both');
  }
  if (file) {
    const text = file === '-' ? readFileSync(0, 'utf8') : readText(file, 'payee list');
    const list = c.parsePayees(text);
    if (!list.length) throw new MamoriError('E_INPUT', `${file} lists no payees`);
    return list;
  }
  if (!to || !amount) {
    throw new MamoriError(
      'E_USAGE',
      'withdraw request needs --to and --amount, or --payees <file>',
    );
  }
  return [{ address: to, amount: c.parseBtc(amount) }];
}
