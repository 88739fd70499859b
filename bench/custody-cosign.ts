/**
 * custody-cosign: the independent cosigner on a 100-payee batch of a 2-of-3 wallet — verify the
 * evidence (genesis of 3 admins 2-of-3, a 2-signature policy version, 100 signed requests each
 * with 2 signed approvals, whitelist, limits, velocity against a 1,000-entry ledger) and sign —
 * against a plain `signPsbt` of the same PSBT, in the same run. Goal: ≤ 1.5×.
 */
import { randomBytes } from 'node:crypto';
import { schnorr } from '@noble/curves/secp256k1.js';
import {
  APPROVE_DOMAIN,
  cosignCheck,
  type LedgerEntry,
  REQUEST_DOMAIN,
  type SignedWithdrawal,
  WITHDRAWAL_FORMAT,
  type WithdrawalStatement,
} from '../src/custody/core/cosign.js';
import { bytesToHex, makeDeriver } from '../src/custody/core/descriptor.js';
import { compilePolicy, emptyPolicy } from '../src/custody/core/policy.js';
import { buildWithdrawal, decodePsbt, encodePsbt, signPsbt } from '../src/custody/core/psbt.js';
import {
  GENESIS_DOMAIN,
  genesisBody,
  genesisHash,
  identityId,
  makeGenesis,
  POLICY_DOMAIN,
  POLICY_FORMAT,
  type PolicyVersion,
  type PolicyVersionBody,
  policyBody,
  policyHash,
  signStatement,
} from '../src/custody/core/trust.js';
import { net, wallet } from './custody-fixture.js';
import type { BenchFn } from './lib.js';

export const run: BenchFn = async (ctx) => {
  const w = wallet();
  const d = makeDeriver(w.desc, net);
  const now = Date.parse('2026-12-04T00:00:00Z');
  const at = (ms: number) => new Date(ms).toISOString();
  const ids = Array.from({ length: 7 }, () => {
    const sk = new Uint8Array(randomBytes(32));
    const pub = schnorr.getPublicKey(sk);
    return {
      sk,
      doc: {
        id: identityId('schnorr', pub),
        name: 'x',
        kind: 'schnorr' as const,
        publicKey: bytesToHex(pub),
      },
    };
  });
  const sign = (i: number, domain: string, t: number, body: unknown) =>
    signStatement(ids[i]!.sk, domain, at(t), body, new Uint8Array(randomBytes(32)));
  const g0 = makeGenesis({
    identities: ids.map((x) => x.doc),
    admins: [0, 1, 2].map((i) => ids[i]!.doc.id),
    adminThreshold: 2,
    approvers: [3, 4, 5].map((i) => ids[i]!.doc.id),
    operators: [ids[6]!.doc.id],
    createdAt: at(now - 100 * 3600_000),
  });
  const t0 = now - 99 * 3600_000;
  const genesis = {
    ...g0,
    signatures: [0, 1].map((i) => sign(i, GENESIS_DOMAIN, t0, genesisBody(g0))),
  };
  const payees = Array.from({ length: 100 }, (_, i) => ({
    address: d.derive(1000 + i, 0).address,
    amount: 1_000_000 + i,
  }));
  const policy = compilePolicy(
    emptyPolicy(),
    {
      whitelist: payees.map((p) => p.address),
      limitSats: 50_000_000,
      velocity24hSats: 100_000_000_000,
      approvers: g0.approvers,
      quorum: 2,
    },
    at(t0),
  );
  const body: PolicyVersionBody = {
    format: POLICY_FORMAT,
    genesis: genesisHash(genesis),
    wallet: { name: 'hot', tier: 'hot', network: 'regtest', descriptor: w.multipath },
    version: 1,
    prev: genesisHash(genesis),
    policy,
    ownWallets: [],
    sweepLimits: {},
    proposedAt: at(t0),
  };
  const v1: PolicyVersion = {
    ...body,
    signatures: [0, 2].map((i) =>
      sign(i, POLICY_DOMAIN, t0 + 1000, policyBody({ ...body, signatures: [] })),
    ),
  };
  const coins = Array.from({ length: 5 }, (_, i) => ({
    txid: (i + 1).toString(16).padStart(64, '0'),
    vout: i,
    value: 21_000_000,
    derived: d.derive(i, 0),
  }));
  const built = buildWithdrawal({
    utxos: coins,
    payees,
    change: d.derive(0, 1),
    feeRate: 2,
    threshold: 2,
    cosigners: 3,
    net,
  });
  const psbt = encodePsbt(decodePsbt(built.psbt));
  const withdrawals: SignedWithdrawal[] = payees.map((p, i) => {
    const statement: WithdrawalStatement = {
      format: WITHDRAWAL_FORMAT,
      genesis: genesisHash(genesis),
      wallet: 'hot',
      withdrawal: i + 1,
      outputs: [p],
      policy: policyHash(v1),
      expires: at(now + 3600_000),
    };
    return {
      statement,
      request: sign(6, REQUEST_DOMAIN, now - 600_000, statement),
      approvals: [3, 4].map((a) => sign(a, APPROVE_DOMAIN, now - 300_000, statement)),
    };
  });
  const evidence = {
    format: 'mamori-custody-evidence/1' as const,
    genesis: genesisHash(genesis),
    policies: [v1],
    withdrawals,
    sweeps: [],
  };
  const ledger: LedgerEntry[] = Array.from({ length: 1000 }, (_, i) => ({
    txid: i.toString(16).padStart(64, '0'),
    at: at(now - i * 60_000),
    wallet: 'hot',
    payouts: 10_000,
    sweeps: 0,
  }));
  const master = w.keys[1]!.master;
  const plain = () => signPsbt(decodePsbt(psbt), master);
  const checked = () => {
    const tx = decodePsbt(psbt);
    cosignCheck({ psbt: tx, evidence, genesis, ledger, now });
    return signPsbt(tx, master);
  };
  if (checked() !== 5 || plain() !== 5) throw new Error('the two runs do not sign the same inputs');
  const rounds = Math.max(3, Math.round(10 * ctx.scale));
  const time = (fn: () => unknown) => {
    fn();
    const s = performance.now();
    for (let i = 0; i < rounds; i++) fn();
    return (performance.now() - s) / rounds;
  };
  const plainMs = time(plain);
  const checkedMs = time(checked);
  return {
    figures: [
      {
        name: '100-payee batch: verify evidence + sign',
        value: checkedMs,
        unit: 'ms/batch',
        base: 'plain psbt sign of the same PSBT (limit 1.5×)',
        baseValue: plainMs,
        ratio: checkedMs / plainMs,
      },
    ],
    notes: [
      `5 inputs (2-of-3 P2WSH), 100 payees + change; evidence: genesis (2 of 3 admin signatures), 1 policy version (2 signatures), 100 withdrawals × (1 request + 2 approvals) = 300 BIP340 verifications, ledger of 1,000 entries; ${rounds} timed rounds after one warm-up.`,
      'ratio = checked time / plain time (lower is better; goal ≤ 1.5). Noisy: 2 cores shared with other sessions.',
    ],
  };
};
