/**
 * `mamori custody psbt sign|combine|finalize|inspect` and `broadcast`. Moved out of `custody.ts`
 * unchanged. `psbt` never opens the store or the network.
 */
import { existsSync, writeFileSync } from 'node:fs';
import type { CosignApproval, LedgerEntry } from '../../custody/index.js';
import { MamoriError } from '../../shared/errors.js';
import type { VerbSpec } from '../types.js';
import {
  CHAIN_OPTS,
  chainOf,
  ctxOf,
  lib,
  NETWORK_OPT,
  passphrase,
  psbtSummary,
  readText,
  satFmt,
  str,
  sub,
} from './custody-common.js';

/** A file path, or the PSBT (base64/hex) or raw transaction (hex) itself. */
export function readPsbtArg(arg: string): string {
  if (!existsSync(arg) && /^(cHNidP[A-Za-z0-9+/=]+|[0-9a-fA-F]{20,})$/.test(arg.trim()))
    return arg.trim();
  return readText(arg, 'PSBT file').trim();
}

export const psbt: VerbSpec = {
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
      description: 'sign: the evidence (default: in the PSBT, else <psbt>.evidence.json)',
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
      const evidence = evidenceSummary(c.embeddedEvidence(tx));
      ctx.print({ ...v, evidence }, () =>
        [
          psbtSummary(v, satFmt),
          evidence
            ? `evidence inside (not checked here: psbt sign --trust checks it): withdrawals ${evidence.withdrawals.join(', ') || '(none)'}, ${evidence.signatures} signature(s)`
            : 'no evidence inside',
        ].join('\n'),
      );
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
      // --evidence, else the evidence in the PSBT, else the file beside it
      const embedded = str(p, 'evidence') ? undefined : c.embeddedEvidence(tx);
      const evPath = str(p, 'evidence') ?? `${files[0]}.evidence.json`;
      evidence =
        embedded ?? c.parseDocument(readText(evPath, 'evidence file'), `evidence ${evPath}`);
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
        pointAddScalar: c.fastPointAddScalar,
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

export const broadcastVerb: VerbSpec = {
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

/** What embedded evidence claims (unverified), for `psbt inspect`. */
function evidenceSummary(ev: unknown): { withdrawals: number[]; signatures: number } | null {
  if (ev === undefined) return null;
  const e = ev as {
    policies?: { signatures?: unknown[] }[];
    withdrawals?: { statement?: { withdrawal?: number }; approvals?: unknown[] }[];
  };
  const ws = Array.isArray(e.withdrawals) ? e.withdrawals : [];
  const pols = Array.isArray(e.policies) ? e.policies : [];
  return {
    withdrawals: ws.map((w) => Number(w?.statement?.withdrawal)).filter(Number.isInteger),
    signatures:
      pols.reduce((n, p) => n + (Array.isArray(p?.signatures) ? p.signatures.length : 0), 0) +
      ws.reduce((n, w) => n + 1 + (Array.isArray(w?.approvals) ? w.approvals.length : 0), 0),
  };
}
