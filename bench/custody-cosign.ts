/**
 * custody-cosign: the independent cosigner on a 100-payee batch of a 2-of-3 wallet — verify the
 * evidence (genesis of 3 admins 2-of-3, a 2-signature policy version, the signed request and 2
 * signed approvals, whitelist, limits, velocity against a 1,000-entry ledger) and sign — against
 * a plain sign of the same PSBT by the same key, in the same run. Goal: ≤ 1.5×.
 * The batch as `withdraw request --payees` makes it (one statement over the 100 outputs), in
 * process (both sides start from an unlocked key) and through the built CLI (`psbt sign --trust
 * --ledger` against `psbt sign --unchecked`: one process each, the same key file decrypted);
 * beside it the same payees as 100 separate requests, and what their 304 verifications cost alone.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { schnorr } from '@noble/curves/secp256k1.js';
import {
  APPROVE_DOMAIN,
  cosignCheck,
  EVIDENCE_FORMAT,
  type LedgerEntry,
  REQUEST_DOMAIN,
  type SignedWithdrawal,
  WITHDRAWAL_FORMAT,
  type WithdrawalStatement,
} from '../src/custody/core/cosign.js';
import { bytesToHex, hexToBytes, makeDeriver } from '../src/custody/core/descriptor.js';
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
  type Signature,
  signStatement,
  statementDigest,
} from '../src/custody/core/trust.js';
import { newKey } from '../src/custody/keyfile.js';
import { fastPointAddScalar, fastSchnorrVerify, secpBackend } from '../src/custody/verifier.js';
import { net, wallet } from './custody-fixture.js';
import type { BenchFn } from './lib.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const PASS = 'bench passphrase';

export const run: BenchFn = async (ctx) => {
  const w = wallet();
  const d = makeDeriver(w.desc, net);
  // The CLI checks against its own clock: the documents are signed just before now.
  const now = Date.now();
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
      limitSats: 200_000_000,
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
  const signed = (id: number, outputs: { address: string; amount: number }[]) => {
    const statement: WithdrawalStatement = {
      format: WITHDRAWAL_FORMAT,
      genesis: genesisHash(genesis),
      wallet: 'hot',
      withdrawal: id,
      outputs,
      policy: policyHash(v1),
      expires: at(now + 6 * 3600_000),
    };
    return {
      statement,
      request: sign(6, REQUEST_DOMAIN, now - 600_000, statement),
      approvals: [3, 4].map((a) => sign(a, APPROVE_DOMAIN, now - 300_000, statement)),
    } satisfies SignedWithdrawal;
  };
  const evidenceOf = (withdrawals: SignedWithdrawal[]) => ({
    format: EVIDENCE_FORMAT,
    genesis: genesisHash(genesis),
    policies: [v1],
    withdrawals,
    sweeps: [],
  });
  // A batch payout as `withdraw request --payees` makes it: one statement over all 100 outputs.
  const oneStatement = evidenceOf([signed(1, payees)]);
  // The same payees as 100 separate requests (`withdraw request --to`, then `build` of 100 ids).
  const perRequest = evidenceOf(payees.map((p, i) => signed(i + 1, [p])));
  const ledger: LedgerEntry[] = Array.from({ length: 1000 }, (_, i) => ({
    txid: i.toString(16).padStart(64, '0'),
    at: at(now - i * 60_000),
    wallet: 'hot',
    payouts: 10_000,
    sweeps: 0,
  }));
  const master = w.keys[1]!.master;
  const plain = () => signPsbt(decodePsbt(psbt), master);
  const checked = (evidence: unknown) => () => {
    const tx = decodePsbt(psbt);
    cosignCheck({
      psbt: tx,
      evidence,
      genesis,
      ledger,
      now: Date.now(),
      schnorrVerify: fastSchnorrVerify,
      pointAddScalar: fastPointAddScalar,
    });
    return signPsbt(tx, master);
  };
  for (const ev of [perRequest, oneStatement]) {
    if (checked(ev)() !== 5 || plain() !== 5) throw new Error('the runs do not sign the same');
  }
  const rounds = Math.max(3, Math.round(10 * ctx.scale));
  /** Alternate the two sides round by round, so that the machine's load falls on both alike. */
  const pair = async (a: () => unknown, b: () => unknown, n: number) => {
    let ta = 0;
    let tb = 0;
    await a();
    await b();
    for (let i = 0; i < n; i++) {
      let s = performance.now();
      await a();
      ta += performance.now() - s;
      s = performance.now();
      await b();
      tb += performance.now() - s;
    }
    return { a: ta / n, b: tb / n };
  };
  const batch = await pair(checked(oneStatement), plain, rounds);
  const core = await pair(checked(perRequest), plain, rounds);
  // The floor of the 100-request shape: its 304 distinct verifications alone, same verifier.
  const sigs = collectSchnorr(perRequest, genesis, ids);
  if (sigs.length !== 304) throw new Error(`${sigs.length} signatures, not 304`);
  const floor = await pair(
    () => {
      if (!sigs.every(([sig, msg, pub]) => fastSchnorrVerify(sig, msg, pub))) {
        throw new Error('a collected signature does not verify');
      }
    },
    plain,
    rounds,
  );

  // The built CLI, one process per signature, the same key file decrypted on both sides.
  const dir = mkdtempSync(join(tmpdir(), 'mamori-bench-cosign-'));
  const f = (n: string) => join(dir, n);
  const key = await newKey('regtest', PASS, { entropy: new Uint8Array(32).fill(2) });
  if (key.file.public.fingerprint !== w.keys[1]!.pub.fingerprint) {
    throw new Error('the key file is not the fixture cosigner');
  }
  writeFileSync(f('k.key'), JSON.stringify(key.file));
  writeFileSync(f('w.psbt'), `${psbt}\n`);
  writeFileSync(f('batch.evidence.json'), JSON.stringify(oneStatement));
  writeFileSync(f('requests.evidence.json'), JSON.stringify(perRequest));
  writeFileSync(f('genesis.json'), JSON.stringify(genesis));
  writeFileSync(f('ledger.jsonl'), ledger.map((l) => `${JSON.stringify(l)}\n`).join(''));
  const bin = join(root, 'dist/cli/bin.js');
  const env = { ...process.env, MAMORI_KEY_PASSPHRASE: PASS, MAMORI_DB: f('none/never.db') };
  const common = ['custody', 'psbt', 'sign', f('w.psbt'), '--key', f('k.key'), '--yes', '--json'];
  const cliPlain = [...common, '--unchecked', '--out', f('plain.psbt')];
  const cliChecked = (evidence: string) => [
    ...common,
    '--trust',
    f('genesis.json'),
    '--evidence',
    f(evidence),
    '--ledger',
    f('ledger.jsonl'),
    '--out',
    f('checked.psbt'),
  ];
  const spawn = (args: string[]) => () => {
    const out = JSON.parse(
      execFileSync(process.execPath, [bin, ...args], {
        env,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    if (out.signed !== 5) throw new Error(`signed ${out.signed} inputs`);
  };
  const cliRounds = Math.max(2, Math.round(5 * ctx.scale));
  const cli = await pair(spawn(cliChecked('batch.evidence.json')), spawn(cliPlain), cliRounds);
  const cliMany = await pair(
    spawn(cliChecked('requests.evidence.json')),
    spawn(cliPlain),
    cliRounds,
  );
  rmSync(dir, { recursive: true, force: true });

  const goal = (r: number) => ({ goal: '≤ 1.5×', met: r <= 1.5 });
  const none = { goal: 'none of its own (see notes)' };
  const fig = (
    name: string,
    unit: string,
    base: string,
    x: { a: number; b: number },
    g: object,
  ) => ({
    name,
    value: x.a,
    unit,
    base,
    baseValue: x.b,
    ratio: x.a / x.b,
    ...g,
  });
  const PLAIN = 'signPsbt of the same PSBT, key unlocked';
  const CLI_PLAIN = 'CLI: psbt sign --unchecked, same key file';
  return {
    figures: [
      fig(
        'core: check + sign a 100-payee batch (1 request + 2 approvals over 100 outputs)',
        'ms/batch',
        PLAIN,
        batch,
        goal(batch.a / batch.b),
      ),
      fig(
        'CLI: psbt sign --trust --ledger, the 100-payee batch',
        'ms/process',
        CLI_PLAIN,
        cli,
        goal(cli.a / cli.b),
      ),
      fig(
        'core: check + sign 100 single-payee requests (1 request + 2 approvals each)',
        'ms/batch',
        PLAIN,
        core,
        none,
      ),
      fig('floor of that: its 304 BIP340 verifications alone', 'ms', PLAIN, floor, none),
      fig(
        'CLI: psbt sign --trust --ledger, 100 single-payee requests',
        'ms/process',
        CLI_PLAIN,
        cliMany,
        none,
      ),
    ],
    notes: [
      `PSBT: 5 inputs (2-of-3 P2WSH), 100 payees + change. Evidence: genesis (2 of 3 admin signatures), 1 policy version (2 admin signatures), a ledger of 1,000 entries. "100-payee batch": what \`withdraw request --payees <file>\` makes: one statement over the 100 outputs, signed by the requester and 2 approvers (7 verifications in all). "100 single-payee requests": the same payees requested one by one (\`withdraw request --to\` × 100, then \`build\` of the 100 ids): 304 verifications.`,
      `Verifier: ${secpBackend()}, as the shells inject it, and its tweak addition for re-deriving the wallet's scripts; each distinct (key, message, signature) verified once per check. Core: ${rounds} rounds after one warm-up, the two sides alternated round by round.`,
      `CLI: node ${bin.replace(root, '.')} ${common.slice(0, 3).join(' ')} <psbt> --key <file> --yes --json [--unchecked | --trust <genesis> --evidence <file> --ledger <file>] --out <file>; MAMORI_KEY_PASSPHRASE set, key file scrypt N=2^16 r=8 p=1 on both sides; ${cliRounds} rounds after one warm-up, alternated.`,
      'ratio = checked time / plain time (lower is better). The goal is the issue\'s "verify the evidence and sign a 100-payee batch"; the single-request rows have no goal of their own: their floor row is what 304 signature checks cost by themselves with the fastest verifier here.',
    ],
  };
};

/** Every (signature, digest, key) the check of `evidence` verifies, each once. */
function collectSchnorr(
  evidence: { policies: PolicyVersion[]; withdrawals: SignedWithdrawal[] },
  genesis: { signatures: Signature[] } & Parameters<typeof genesisBody>[0],
  ids: { doc: { id: string; publicKey: string } }[],
): [Uint8Array, Uint8Array, Uint8Array][] {
  const key = (by: string) => xOnly(ids.find((x) => x.doc.id === by)!.doc.publicKey);
  const xOnly = (h: string) => hexToBytes(h);
  const out: [Uint8Array, Uint8Array, Uint8Array][] = [];
  const add = (s: Signature, domain: string, body: unknown) =>
    out.push([hexToBytes(s.sig!), statementDigest(domain, s.at, body), key(s.by)]);
  for (const s of genesis.signatures) add(s, GENESIS_DOMAIN, genesisBody(genesis));
  for (const v of evidence.policies) {
    for (const s of v.signatures) add(s, POLICY_DOMAIN, policyBody({ ...v, signatures: [] }));
  }
  for (const w of evidence.withdrawals) {
    add(w.request, REQUEST_DOMAIN, w.statement);
    for (const a of w.approvals) add(a, APPROVE_DOMAIN, w.statement);
  }
  return out;
}
