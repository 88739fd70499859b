/**
 * The trust flow through the built CLI on bcoin regtest: identities, a genesis signed by 2 of 3
 * admins, wallets bound to it, a policy proposed / signed offline / applied (one signature:
 * exit 4), a signed request and approvals, build with --sign-hot writing the evidence beside
 * the PSBT, the offline `psbt sign --trust --ledger` (no store), broadcast accepted; the same
 * cosigner refusing a PSBT without its evidence (exit 4). Then a batch payout (`--payees`): one
 * statement over three outputs, refused whole for an address off the whitelist, and accepted by
 * the cosigner and the node once two approvers signed it, through `cosigner serve` asked by
 * `cosigner sign` (a wrong token and a server that adds no signature are refused).
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { hex } from '@scure/base';
import { Address, OutScript, p2wpkh, Transaction } from '@scure/btc-signer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodePsbt,
  embeddedEvidence,
  type RegtestNode,
  readKeyFile,
  serveCosigner,
  startRegtestNode,
  unlockKeyFile,
} from '../../src/custody/index.js';
import { type CliResult, runMamori } from '../helpers/cli.js';

const PASS = 'correct horse battery';
const payee = 'bcrt1qft5p2uhsdcdc3l2ua4ap5qqfg4pjaqlp250x7us7a8qqhrxrxfsqseac85';
const stranger = 'bcrt1q7sgx6gscgtau57jduend6a8l445ahpk3dt3u5zu58rx5qm27lhkq9s85ce';
const REGTEST = { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef };
const errOf = (stderr: string) => JSON.parse(stderr.trim().split('\n').pop()!).error;

describe('mamori custody trust (built CLI, bcoin regtest)', () => {
  let dir: string;
  let node: RegtestNode;
  const f = (n: string) => join(dir, n);
  const run = (
    args: string[],
    extra: Record<string, string | undefined> = {},
  ): Promise<CliResult> =>
    runMamori(['custody', ...args], {
      env: {
        MAMORI_DB: f('m.db'),
        MAMORI_KEY_PASSPHRASE: PASS,
        MAMORI_CONFIG: undefined,
        XDG_CONFIG_HOME: dir,
        ...extra,
      },
      timeoutMs: 90_000,
    });
  const json = async (args: string[], extra: Record<string, string | undefined> = {}) => {
    const r = await run([...args, '--json'], extra);
    if (r.code !== 0) throw new Error(`mamori custody ${args.join(' ')} → ${r.code}\n${r.stderr}`);
    return JSON.parse(r.stdout);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mamori-custody-trust-'));
    node = await startRegtestNode({ port: 0 });
  }, 60_000);
  afterAll(async () => {
    await node?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('honest flow: genesis, signed policy, signed approvals, --sign-hot, psbt sign --trust, broadcast', {
    timeout: 480_000, // ~40 CLI processes; each took 4–6 s at load average 20+
  }, async () => {
    for (const n of ['a1', 'a2', 'a3', 'p1', 'p2', 'p3', 'op']) {
      const r = await json(['id', 'new', n, '--out', f(`${n}.id`)]);
      expect(r).toMatchObject({ name: n, id: expect.stringMatching(/^mid1/) });
    }
    await json([
      'trust',
      'init',
      '--admins',
      ['a1', 'a2', 'a3'].map((n) => f(`${n}.id`)).join(','),
      '--admin-threshold',
      '2',
      '--approvers',
      ['p1', 'p2', 'p3'].map((n) => f(`${n}.id`)).join(','),
      '--operators',
      f('op.id'),
      '--out',
      f('genesis.json'),
    ]);
    await json(['trust', 'sign', f('genesis.json'), '--as', f('a1.id')]);
    const xpubs: string[] = [];
    for (const n of ['h1', 'h2', 'h3']) {
      xpubs.push(
        (await json(['key', 'new', '--network', 'regtest', '--out', f(`${n}.key`)])).originXpub,
      );
    }
    const create = [
      'wallet',
      'create',
      'hot',
      '--tier',
      'hot',
      '--threshold',
      '2',
      '--network',
      'regtest',
      '--hot-key',
      f('h1.key'),
      '--trust',
      f('genesis.json'),
      ...xpubs.flatMap((x) => ['--xpub', x]),
    ];
    // one admin signature: the genesis is refused (exit 4), nothing created
    const under = await run([...create, '--json']);
    expect(under.code).toBe(4);
    expect(errOf(under.stderr).details.reason).toBe('genesis-under-signed');
    await json(['trust', 'sign', f('genesis.json'), '--as', f('a2.id')]);
    await json(create);
    const ids = await json(['id', 'list']);
    expect(ids.filter((x: { roles: string[] }) => x.roles.includes('approver'))).toHaveLength(3);
    const approverIds = ids
      .filter((x: { roles: string[] }) => x.roles.includes('approver'))
      .map((x: { id: string }) => x.id)
      .join(',');
    await json([
      'policy',
      'propose',
      'hot',
      '--whitelist',
      payee,
      '--activation-hours',
      '0',
      '--limit',
      '1',
      '--approvers',
      approverIds,
      '--quorum',
      '2',
      '--out',
      f('p1.json'),
    ]);
    // offline: no store at all
    const signed = await run(['policy', 'sign', f('p1.json'), '--as', f('a1.id'), '--json'], {
      MAMORI_DB: '/nonexistent/dir/never.db',
    });
    expect(signed.code).toBe(0);
    const one = await run(['policy', 'apply', f('p1.json'), '--json']);
    expect(one.code).toBe(4);
    expect(errOf(one.stderr).details.reason).toBe('policy-under-signed');
    expect(one.stderr).toMatch(/custody\.policy_refused/);
    await json(['policy', 'sign', f('p1.json'), '--as', f('a3.id')]);
    expect(await json(['policy', 'apply', f('p1.json')])).toMatchObject({ version: 1 });
    const addr = await json(['address', 'new', 'hot']);
    await node.fund(addr.address, 150_000_000);
    await node.mine(1);
    await json(['balance', 'hot', '--node', node.url, '--from-height', '430']);
    const req = await json([
      'withdraw',
      'request',
      'hot',
      '--to',
      payee,
      '--amount',
      '0.25',
      '--as',
      f('op.id'),
    ]);
    expect(req.status).toBe('pending');
    await json(['withdraw', 'approve', String(req.id), '--as', f('p1.id')]);
    const self = await run(['withdraw', 'approve', String(req.id), '--as', f('op.id'), '--json']);
    expect(self.code).toBe(4);
    await json(['withdraw', 'approve', String(req.id), '--as', f('p2.id')]);
    const built = await json([
      'withdraw',
      'build',
      '--fee-rate',
      '2',
      '--sign-hot',
      '--out',
      f('w.psbt'),
    ]);
    expect(built).toMatchObject({ hotSigned: 1, evidenceFile: `${f('w.psbt')}.evidence.json` });
    // the offline cosigner: pinned genesis, evidence beside the PSBT, its own ledger, no store
    const cos = await run(
      [
        'psbt',
        'sign',
        f('w.psbt'),
        '--key',
        f('h2.key'),
        '--trust',
        f('genesis.json'),
        '--ledger',
        f('ledger.jsonl'),
        '--out',
        f('w2.psbt'),
        '--yes',
        '--json',
      ],
      { MAMORI_DB: '/nonexistent/dir/never.db' },
    );
    expect(cos.code, cos.stderr).toBe(0);
    expect(JSON.parse(cos.stdout)).toMatchObject({ signed: 1, withdrawals: [req.id] });
    expect(existsSync('/nonexistent/dir/never.db')).toBe(false);
    expect(readFileSync(f('ledger.jsonl'), 'utf8')).toContain(built.txid);
    // the same PSBT with altered evidence: refused, exit 4, nothing written
    const ev = JSON.parse(readFileSync(`${f('w.psbt')}.evidence.json`, 'utf8'));
    ev.withdrawals[0].statement.outputs[0].amount += 1;
    const { writeFileSync } = await import('node:fs');
    writeFileSync(f('bad.evidence.json'), JSON.stringify(ev));
    const bad = await run([
      'psbt',
      'sign',
      f('w.psbt'),
      '--key',
      f('h3.key'),
      '--trust',
      f('genesis.json'),
      '--evidence',
      f('bad.evidence.json'),
      '--out',
      f('x.psbt'),
      '--yes',
      '--json',
    ]);
    expect(bad.code).toBe(4);
    expect(['outputs-not-approved', 'bad-signature']).toContain(errOf(bad.stderr).details.reason);
    expect(existsSync(f('x.psbt'))).toBe(false);
    writeFileSync(
      f('trunc.evidence.json'),
      readFileSync(`${f('w.psbt')}.evidence.json`, 'utf8').slice(0, 200),
    );
    const trunc = await run([
      'psbt',
      'sign',
      f('w.psbt'),
      '--key',
      f('h3.key'),
      '--trust',
      f('genesis.json'),
      '--evidence',
      f('trunc.evidence.json'),
      '--yes',
      '--json',
    ]);
    expect(trunc.code).toBe(2);
    expect(errOf(trunc.stderr).details.reason).toBe('evidence-malformed');
    const sent = await json(['broadcast', f('w2.psbt'), '--node', node.url]);
    expect(sent).toMatchObject({ txid: built.txid, ours: true });
    // audit: checkpoint, verify
    await json(['audit', 'checkpoint', '--as', f('a1.id')]);
    expect((await json(['audit', 'verify'])).ok).toBe(true);
  });

  it('a batch payout: --payees, one statement signed once per identity, the node takes it', {
    timeout: 300_000,
  }, async () => {
    // needs the honest flow above: its wallet, genesis, signed policy and ledger
    const [b1, b2, b3] = [1, 2, 3].map(
      (i) =>
        p2wpkh(secp256k1.getPublicKey(new Uint8Array(32).fill(40 + i), true), REGTEST).address!,
    ) as [string, string, string];
    await json([
      'policy',
      'propose',
      'hot',
      ...[b1, b2, b3].flatMap((a) => ['--whitelist', a]),
      '--out',
      f('p2.json'),
    ]);
    await json(['policy', 'sign', f('p2.json'), '--as', f('a2.id')]);
    await json(['policy', 'sign', f('p2.json'), '--as', f('a3.id')]);
    expect(await json(['policy', 'apply', f('p2.json')])).toMatchObject({ version: 2 });
    await node.mine(1);
    await json(['balance', 'hot', '--node', node.url]);
    const { writeFileSync } = await import('node:fs');
    // a batch with one address off the whitelist is refused whole, naming that output (exit 4)
    writeFileSync(f('bad.csv'), `${b1},0.1\n${stranger},0.1\n`);
    const off = await run([
      'withdraw',
      'request',
      'hot',
      '--payees',
      f('bad.csv'),
      '--as',
      f('op.id'),
      '--json',
    ]);
    expect(off.code).toBe(4);
    expect(JSON.parse(off.stdout).decision.reason).toMatch(/^output 2 of 2 \(bcrt1q7sgx/);
    // one address twice is bad input (exit 2), nothing stored
    writeFileSync(f('twice.csv'), `${b1},0.1\n${b1},0.2\n`);
    const twice = await run([
      'withdraw',
      'request',
      'hot',
      '--payees',
      f('twice.csv'),
      '--as',
      f('op.id'),
      '--json',
    ]);
    expect(twice.code).toBe(2);
    expect(errOf(twice.stderr).code).toBe('E_INPUT');
    writeFileSync(
      f('batch.csv'),
      `address,amount\n# Friday payouts\n${b1},0.1\n${b2},0.02\n\n${b3},0.00300000\n`,
    );
    const req = await json([
      'withdraw',
      'request',
      'hot',
      '--payees',
      f('batch.csv'),
      '--as',
      f('op.id'),
    ]);
    expect(req).toMatchObject({ status: 'pending', amount: 12_300_000 });
    expect(req.outputs).toEqual([
      { address: b1, amount: 10_000_000 },
      { address: b2, amount: 2_000_000 },
      { address: b3, amount: 300_000 },
    ]);
    await json(['withdraw', 'approve', String(req.id), '--as', f('p2.id')]);
    expect(await json(['withdraw', 'approve', String(req.id), '--as', f('p3.id')])).toMatchObject({
      status: 'approved',
    });
    const built = await json([
      'withdraw',
      'build',
      '--fee-rate',
      '2',
      '--sign-hot',
      '--out',
      f('b.psbt'),
    ]);
    expect(built).toMatchObject({ hotSigned: expect.any(Number), withdrawals: [req.id] });
    // one statement over the three outputs, signed by the requester and two approvers
    const ev = JSON.parse(readFileSync(`${f('b.psbt')}.evidence.json`, 'utf8'));
    expect(ev.withdrawals).toHaveLength(1);
    expect(ev.withdrawals[0].statement.outputs).toHaveLength(3);
    expect(ev.withdrawals[0].approvals).toHaveLength(2);
    // the PSBT carries the same evidence inside: alone, without the file beside it, it signs
    expect(embeddedEvidence(decodePsbt(readFileSync(f('b.psbt'), 'utf8')))).toEqual(ev);
    copyFileSync(f('b.psbt'), f('alone.psbt'));
    const alone = await run(
      [
        'psbt',
        'sign',
        f('alone.psbt'),
        '--key',
        f('h2.key'),
        '--trust',
        f('genesis.json'),
        '--ledger',
        f('alone.ledger'),
        '--out',
        f('alone2.psbt'),
        '--yes',
        '--json',
      ],
      { MAMORI_DB: '/nonexistent/dir/never.db' },
    );
    expect(alone.code, alone.stderr).toBe(0);
    expect(existsSync(f('alone.psbt.evidence.json'))).toBe(false);
    expect(await json(['psbt', 'inspect', f('alone.psbt'), '--network', 'regtest'])).toMatchObject({
      evidence: { withdrawals: [req.id], signatures: expect.any(Number) },
    });
    // the evidence with one payee dropped from the statement does not cover the PSBT: exit 4
    const cut = structuredClone(ev);
    cut.withdrawals[0].statement.outputs.pop();
    writeFileSync(f('cut.evidence.json'), JSON.stringify(cut));
    const sign = (evidence: string[], out: string) =>
      run(
        [
          'psbt',
          'sign',
          f('b.psbt'),
          '--key',
          f('h2.key'),
          '--trust',
          f('genesis.json'),
          '--ledger',
          f('ledger.jsonl'),
          ...evidence,
          '--out',
          f(out),
          '--yes',
          '--json',
        ],
        { MAMORI_DB: '/nonexistent/dir/never.db' },
      );
    const refused = await sign(['--evidence', f('cut.evidence.json')], 'cut.psbt');
    expect(refused.code).toBe(4);
    expect(existsSync(f('cut.psbt'))).toBe(false);
    const cos = await sign([], 'b2.psbt');
    expect(cos.code, cos.stderr).toBe(0);
    expect(JSON.parse(cos.stdout)).toMatchObject({ withdrawals: [req.id] });
    // the same batch through `cosigner serve` (another cosigner key), asked by `cosigner sign`
    const token = 'batch-token-0123456789';
    const master = await unlockKeyFile(readKeyFile(f('h3.key')), PASS);
    const srv = await serveCosigner({
      genesis: JSON.parse(readFileSync(f('genesis.json'), 'utf8')),
      master,
      token,
      ledgerPath: f('service.ledger'),
      port: 0,
    });
    // a server that answers with the PSBT it was sent: no new signature, nothing written
    const liar = createServer((req, res) => {
      let b = '';
      req.on('data', (d) => {
        b += d;
      });
      req.on('end', () => res.end(JSON.stringify({ psbt: JSON.parse(b).psbt })));
    });
    await new Promise<void>((r) => liar.listen(0, '127.0.0.1', r));
    try {
      const ask = (url: string, tok: string, out: string, psbt = 'b.psbt') =>
        run(['cosigner', 'sign', f(psbt), '--url', url, '--out', f(out), '--json'], {
          MAMORI_COSIGNER_TOKEN: tok,
        });
      const wrong = await ask(srv.url, 'not-the-token-000000', 'wrong.psbt');
      expect(wrong.code).toBe(4);
      const lied = await ask(
        `http://127.0.0.1:${(liar.address() as AddressInfo).port}`,
        token,
        'l.psbt',
      );
      expect(lied.code).toBe(4);
      expect(lied.stderr).toMatch(/without a new valid signature/);
      expect(existsSync(f('liar.psbt')) || existsSync(f('wrong.psbt'))).toBe(false);
      // the PSBT alone: the service reads the evidence inside it
      const served = await ask(srv.url, token, 'b3.psbt', 'alone.psbt');
      expect(served.code, served.stderr).toBe(0);
      expect(JSON.parse(served.stdout)).toMatchObject({
        txid: built.txid,
        signed: expect.any(Number),
        withdrawals: [req.id],
      });
      expect(readFileSync(f('service.ledger'), 'utf8')).toContain(built.txid);
    } finally {
      liar.close();
      await srv.close();
      master.wipePrivateData();
    }
    const sent = await json(['broadcast', f('b3.psbt'), '--node', node.url]);
    expect(sent).toMatchObject({ txid: built.txid, ours: true });
    await node.mine(1);
    // what the node mined, read back raw: the three payees at their amounts
    const res = await node.fetch('http://node/', {
      method: 'POST',
      body: JSON.stringify({ method: 'getrawtransaction', params: [built.txid, 0], id: 1 }),
    });
    const raw = ((await res.json()) as { result: string }).result;
    const tx = Transaction.fromRaw(hex.decode(raw), { allowUnknownOutputs: true });
    const paid = Array.from({ length: tx.outputsLength }, (_, i) => tx.getOutput(i))
      .map((o) => [Address(REGTEST).encode(OutScript.decode(o.script!)), Number(o.amount)])
      .filter(([a]) => [b1, b2, b3].includes(a as string));
    expect(paid.sort()).toEqual(
      [
        [b1, 10_000_000],
        [b2, 2_000_000],
        [b3, 300_000],
      ].sort(),
    );
  });
});
