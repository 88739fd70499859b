/**
 * Custody trust end to end on a real bcoin regtest node and a real store (SQLite, and
 * PostgreSQL when MAMORI_TEST_PG is set): a genesis of 3 admins (2-of-3), 3 approvers and an
 * operator; 2-of-3 hot and 3-of-5 cold wallets bound to it; a policy signed by 2 admins; a
 * signed request and 2 signed approvals; build; the hot key through the cosigner check; the
 * offline cosigner (`cosign`, with its ledger), broadcast accepted; the same through `cosigner
 * serve`. Then a compromised server holding one key: each attempt refused by the cosigner, with
 * its stable reason, never M signatures, and a CRITICAL alert where Mamori sees it.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlertSink } from '../../src/alerts/index.js';
import type { RegtestNode } from '../../src/custody/index.js';
import * as custody from '../../src/custody/index.js';
import { manualClock } from '../../src/shared/clock.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';

const PASS = 'correct horse battery';
const FAST = { N: 2 ** 12, r: 8, p: 1 }; // test-only scrypt cost; the CLI uses the default
const payee = 'bcrt1qft5p2uhsdcdc3l2ua4ap5qqfg4pjaqlp250x7us7a8qqhrxrxfsqseac85';
const stranger = 'bcrt1q7sgx6gscgtau57jduend6a8l445ahpk3dt3u5zu58rx5qm27lhkq9s85ce';

const reasonOf = (e: unknown) =>
  (e as { details?: { reason?: string; check?: string } }).details?.reason;
const checkOf = (e: unknown) => (e as { details?: { check?: string } }).details?.check;
async function refusal(p: Promise<unknown> | (() => unknown)) {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    return e as custody.Signature & { code: string; details?: Record<string, unknown> };
  }
  throw new Error('expected a refusal');
}

for (const backend of testBackends()) {
  describe(`custody trust on bcoin regtest (${backend})`, () => {
    let node: RegtestNode;
    let t: TestStore;
    let chain: ReturnType<typeof custody.coreRpc>;
    const clock = manualClock(Date.now());
    const iso = () => new Date(clock.now()).toISOString();
    const alerts: string[] = [];
    let ctx: custody.CustodyContext;
    const signers: Record<string, custody.Signer> = {};
    let genesis: custody.Genesis;
    let hotKeys: Awaited<ReturnType<typeof custody.newKey>>[];
    let coldKeys: Awaited<ReturnType<typeof custody.newKey>>[];
    let ledgerPath: string;
    const as = (who: string): custody.CustodyContext => ({ ...ctx, signer: signers[who]! });
    const critical = () =>
      alerts.map((l) => JSON.parse(l)).filter((a) => a.severity === 'critical');

    beforeAll(async () => {
      node = await custody.startRegtestNode({ port: 0 });
      chain = custody.coreRpc(node.url);
      t = await freshStore(backend);
      const sink = createAlertSink({ store: t.store, write: (l) => alerts.push(l) });
      ctx = { store: t.store, clock, actor: 'test', alerts: sink };
      ledgerPath = join(mkdtempSync(join(tmpdir(), 'mamori-cosigner-')), 'ledger.jsonl');
      const names = ['adm1', 'adm2', 'adm3', 'apr1', 'apr2', 'apr3', 'ops1', 'mallory'];
      const files: Record<string, custody.IdentityFile> = {};
      for (const n of names) {
        files[n] = await custody.newIdentity(n, PASS, { scrypt: FAST });
        signers[n] = await custody.unlockIdentity(files[n]!, PASS);
      }
      const id = (n: string) => files[n]!.public.id;
      genesis = custody.makeGenesis({
        identities: names.filter((n) => n !== 'mallory').map((n) => files[n]!.public),
        admins: ['adm1', 'adm2', 'adm3'].map(id),
        adminThreshold: 2,
        approvers: ['apr1', 'apr2', 'apr3'].map(id),
        operators: ['ops1'].map(id),
        createdAt: iso(),
      });
      hotKeys = [];
      coldKeys = [];
      for (let i = 0; i < 3; i++)
        hotKeys.push(await custody.newKey('regtest', PASS, { scrypt: FAST }));
      for (let i = 0; i < 5; i++)
        coldKeys.push(await custody.newKey('regtest', PASS, { scrypt: FAST }));
    });
    afterAll(async () => {
      for (const s of Object.values(signers)) s.wipe();
      await node?.close();
      await t?.cleanup();
    });

    it('a genesis signed by fewer than k admins is refused; 2 of 3 binds the wallets', async () => {
      const one = custody.signGenesis(genesis, signers.adm1!, iso());
      const e = await refusal(() => custody.checkGenesis(one, clock.now()));
      expect(e).toMatchObject({ code: 'E_POLICY', details: { reason: 'genesis-under-signed' } });
      await expect(
        custody.createWallet(ctx, {
          name: 'hot',
          tier: 'hot',
          threshold: 2,
          xpubs: hotKeys.map((k) => k.file.public.originXpub),
          hotKey: hotKeys[0]!.file,
          network: 'regtest',
          trust: one,
        }),
      ).rejects.toMatchObject({ details: { reason: 'genesis-under-signed' } });
      // a signer who is no admin cannot sign it
      expect(() => custody.signGenesis(genesis, signers.apr1!, iso())).toThrow(/not an admin/);
      genesis = custody.signGenesis(one, signers.adm2!, iso());
      expect(custody.checkGenesis(genesis, clock.now()).hash).toMatch(/^[0-9a-f]{64}$/);
      // a 1-of-3 hot wallet is the 2018 setup: refused without --allow-single-sig
      await expect(
        custody.createWallet(ctx, {
          name: 'single',
          tier: 'hot',
          threshold: 1,
          xpubs: hotKeys.map((k) => k.file.public.originXpub),
          network: 'regtest',
          trust: genesis,
        }),
      ).rejects.toMatchObject({ code: 'E_POLICY' });
      const hot = await custody.createWallet(ctx, {
        name: 'hot',
        tier: 'hot',
        threshold: 2,
        xpubs: hotKeys.map((k) => k.file.public.originXpub),
        hotKey: hotKeys[0]!.file,
        network: 'regtest',
        trust: genesis,
      });
      expect(hot.genesisHash).toBe(custody.checkGenesis(genesis, clock.now()).hash);
      await custody.createWallet(ctx, {
        name: 'cold',
        tier: 'cold',
        threshold: 3,
        xpubs: coldKeys.map((k) => k.file.public.originXpub),
        network: 'regtest',
        trust: genesis,
      });
      expect(alerts.some((l) => l.includes('custody.new_wallet'))).toBe(true);
    });

    it('policy: proposed, signed by 2 admins offline, applied; one signature is refused (exit 4)', async () => {
      const approvers = genesis.approvers;
      const p = await custody.proposePolicy(ctx, 'hot', {
        flags: {
          whitelist: [payee],
          activationHours: 48,
          limitSats: 150_000_000,
          velocity24hSats: 180_000_000,
          maxSharePercent: 80,
          approvers,
          quorum: 2,
          approvalAboveSats: 50_000_000,
          hotFloatCap: 100_000_000,
        },
        ownWallets: ['cold'],
        sweepLimits: { perTxSats: 200_000_000, velocity24hSats: 300_000_000 },
      });
      const one = custody.signPolicy(p, signers.adm1!, iso());
      const e = await refusal(custody.applyPolicy(ctx, one));
      expect(e).toMatchObject({ code: 'E_POLICY', details: { reason: 'policy-under-signed' } });
      expect(critical().some((a) => a.kind === 'custody.policy_refused')).toBe(true);
      // a signer who is not an admin adds nothing
      const withApprover = custody.signPolicy(one, signers.apr1!, iso());
      await expect(custody.applyPolicy(ctx, withApprover)).rejects.toMatchObject({
        details: { reason: 'policy-under-signed' },
      });
      const two = custody.signPolicy(one, signers.adm3!, iso());
      const r = await custody.applyPolicy(ctx, two);
      expect(r).toMatchObject({ wallet: 'hot', version: 1 });
      // partial update: a later proposal naming only the cap keeps every other rule
      const p2 = await custody.proposePolicy(ctx, 'hot', { flags: { hotFloatCap: 90_000_000 } });
      expect(p2.policy.rules.map((x) => x.id)).toEqual(p.policy.rules.map((x) => x.id));
      expect(p2.prev).toBe(r.hash);
      // the unsigned `policy set` no longer touches a bound wallet
      await expect(
        custody.setPolicy(ctx, 'hot', { flags: { whitelist: [stranger], activationHours: 0 } }),
      ).rejects.toMatchObject({ code: 'E_POLICY' });
      const cold = await custody.proposePolicy(ctx, 'cold', {
        flags: { approvers, quorum: 2 },
      });
      await custody.applyPolicy(
        ctx,
        custody.signPolicy(custody.signPolicy(cold, signers.adm1!, iso()), signers.adm2!, iso()),
      );
    });

    let evidence1: custody.Evidence;
    let psbt1: string;

    it('honest flow: signed request, 2 signed approvals, build, --sign-hot, offline cosigner, node accepts', async () => {
      const a = await custody.newAddress(ctx, 'hot', 'customer-42');
      await node.fund(a.address, 200_000_000);
      await node.mine(1);
      await custody.syncChain(ctx, chain, { fromHeight: 430 });
      clock.advance(49 * 3600_000);
      await expect(custody.requestWithdrawal(ctx, 'hot', payee, 60_000_000n)).rejects.toMatchObject(
        { code: 'E_AUTH' },
      );
      // an approver is no operator: may not request
      await expect(
        custody.requestWithdrawal(as('apr1'), 'hot', payee, 60_000_000n),
      ).rejects.toMatchObject({ code: 'E_AUTH' });
      const w = await custody.requestWithdrawal(as('ops1'), 'hot', payee, 60_000_000n);
      expect(w).toMatchObject({ status: 'pending', requestedBy: signers.ops1!.id });
      // an admin is no approver
      await expect(custody.approveWithdrawal(as('adm1'), w.id)).rejects.toMatchObject({
        code: 'E_AUTH',
      });
      await custody.approveWithdrawal(as('apr1'), w.id);
      await expect(
        custody.buildWithdrawals(ctx, { ids: [w.id], feeRate: 2 }),
      ).rejects.toMatchObject({ code: 'E_POLICY' });
      expect((await custody.approveWithdrawal(as('apr2'), w.id)).status).toBe('approved');
      const built = await custody.buildWithdrawals(ctx, { ids: [w.id], feeRate: 2 });
      expect(built.evidence?.withdrawals).toHaveLength(1);
      evidence1 = built.evidence!;
      psbt1 = built.psbt;
      const hot = await custody.signWithHotKey(ctx, built.psbt, PASS);
      expect(hot.signed).toBe(1);
      // the offline cosigner: genesis, its own ledger, the PSBT and the evidence; nothing else
      const master = await custody.unlockKeyFile(hotKeys[2]!.file, PASS);
      try {
        const r = custody.cosign(
          { psbt: hot.psbt, evidence: JSON.parse(JSON.stringify(evidence1)) },
          { genesis, master, ledgerPath, now: clock.now() },
        );
        expect(r.check.withdrawals).toEqual([w.id]);
        const sent = await custody.broadcast(ctx, chain, r.psbt);
        expect(sent).toMatchObject({ txid: built.txid, ours: true });
      } finally {
        master.wipePrivateData();
      }
      const ledger = readFileSync(ledgerPath, 'utf8').trim().split('\n');
      expect(JSON.parse(ledger[0]!)).toMatchObject({ txid: built.txid, payouts: 60_000_000 });
      await node.mine(1);
      const s = await custody.syncChain(ctx, chain);
      expect(s.spent.every((x) => x.approved)).toBe(true);
      // the watcher's hook: this spend is a signed withdrawal; a txid we never built is not
      expect(await custody.spendIsSigned(ctx, built.txid)).toBe(true);
      expect(await custody.spendIsSigned(ctx, '00'.repeat(32))).toBe(false);
    });

    it('honest flow through cosigner serve (token), node accepts', async () => {
      const master = await custody.unlockKeyFile(hotKeys[1]!.file, PASS);
      const token = 'test-token-0123456789abcdef';
      const srv = await custody.serveCosigner({
        genesis,
        master,
        token,
        ledgerPath: `${ledgerPath}.serve`,
        now: () => clock.now(),
      });
      try {
        const w = await custody.requestWithdrawal(as('ops1'), 'hot', payee, 55_000_000n);
        await custody.approveWithdrawal(as('apr2'), w.id);
        await custody.approveWithdrawal(as('apr3'), w.id);
        const built = await custody.buildWithdrawals(ctx, { ids: [w.id], feeRate: 2 });
        const hot = await custody.signWithHotKey(ctx, built.psbt, PASS);
        const post = (body: unknown, auth = `Bearer ${token}`) =>
          fetch(`${srv.url}/v1/cosign`, {
            method: 'POST',
            headers: { authorization: auth, 'content-type': 'application/json' },
            body: JSON.stringify(body),
          });
        expect(
          (await post({ psbt: hot.psbt, evidence: built.evidence }, 'Bearer nope')).status,
        ).toBe(401);
        const bad = await post({
          psbt: hot.psbt,
          evidence: { ...built.evidence, withdrawals: [] },
        });
        expect(bad.status).toBe(403);
        expect((await bad.json()).error.reason).toBe('outputs-not-approved');
        const res = await post({ psbt: hot.psbt, evidence: built.evidence });
        expect(res.status).toBe(200);
        const out = (await res.json()) as { psbt: string; txid: string };
        expect(out.txid).toBe(built.txid);
        expect((await custody.broadcast(ctx, chain, out.psbt)).txid).toBe(built.txid);
        await node.mine(1);
        await custody.syncChain(ctx, chain);
      } finally {
        await srv.close();
        master.wipePrivateData();
      }
    });

    /** The offline cosigner's answer for a PSBT and evidence (never signs on refusal). */
    async function cosignerSays(psbt: string, evidence: unknown) {
      const master = await custody.unlockKeyFile(hotKeys[2]!.file, PASS);
      try {
        const tx = custody.decodePsbt(psbt);
        const before = custody.inspectPsbt(tx, custody.network('regtest')).inputs[0]!;
        const e = await refusal(() =>
          custody.cosign({ psbt, evidence }, { genesis, master, ledgerPath, now: clock.now() }),
        );
        // refused: the PSBT it was given holds no more signatures than before
        expect(before.validSignatures).toBeLessThan(2);
        return e;
      } finally {
        master.wipePrivateData();
      }
    }

    it('compromised server: a policy applied without quorum, or forged into the store', async () => {
      const v2 = await custody.proposePolicy(ctx, 'hot', {
        flags: { whitelist: [stranger], activationHours: 0 },
      });
      const oneSig = custody.signPolicy(v2, signers.adm1!, iso());
      await expect(custody.applyPolicy(ctx, oneSig)).rejects.toMatchObject({ code: 'E_POLICY' });
      const ev = { ...evidence1, policies: [...evidence1.policies, oneSig] };
      const e = await cosignerSays(psbt1, ev);
      expect(e).toMatchObject({ code: 'E_POLICY', details: { reason: 'policy-under-signed' } });
      // written straight into the store: every use refuses it, with a CRITICAL alert
      const hot = await custody.getWallet(ctx, 'hot');
      await t.store.db
        .insertInto('custody_policy_version')
        .values({
          wallet_id: hot.id,
          version: 2,
          hash: custody.policyHash(oneSig),
          document: JSON.stringify(oneSig),
          applied_at: iso(),
        })
        .execute();
      const before = critical().length;
      const r = await refusal(custody.requestWithdrawal(as('ops1'), 'hot', stranger, 10_000n));
      expect(r).toMatchObject({ code: 'E_POLICY', details: { reason: 'forged' } });
      expect(checkOf(r)).toBe('policy-under-signed');
      expect(critical().length).toBeGreaterThan(before);
      expect(critical().at(-1)).toMatchObject({ kind: 'custody.forged_authority' });
      await t.store.db.deleteFrom('custody_policy_version').where('version', '=', 2).execute();
    });

    it('compromised server: a backdated whitelist entry counts from the quorum, not its addedAt', async () => {
      const v2 = await custody.proposePolicy(ctx, 'hot', { flags: { whitelist: [stranger] } });
      v2.policy.whitelist = v2.policy.whitelist.map((x) =>
        x.address === stranger ? { ...x, addedAt: '2000-01-01T00:00:00.000Z' } : x,
      );
      const signed = custody.signPolicy(
        custody.signPolicy(v2, signers.adm1!, iso()),
        signers.adm2!,
        iso(),
      );
      const chainDocs = [...evidence1.policies, signed];
      const vp = custody.verifyPolicyChain(
        custody.checkGenesis(genesis, clock.now()),
        chainDocs,
        clock.now(),
      );
      expect(vp.policy.whitelist.find((x) => x.address === stranger)!.addedAt).toBe(iso());
      // a withdrawal to it, even signed by the operator and two approvers, is refused for 48 h
      const statement: custody.WithdrawalStatement = {
        format: 'mamori-custody-withdrawal/1',
        genesis: vp.wallet.name ? custody.checkGenesis(genesis, clock.now()).hash : '',
        wallet: 'hot',
        withdrawal: 999,
        outputs: [{ address: stranger, amount: 20_000_000 }],
        policy: vp.hash,
        expires: new Date(clock.now() + 3600_000).toISOString(),
      };
      const sw: custody.SignedWithdrawal = {
        statement,
        request: signers.ops1!.sign(custody.REQUEST_DOMAIN, iso(), statement),
        approvals: ['apr1', 'apr2'].map((a) =>
          signers[a]!.sign(custody.APPROVE_DOMAIN, iso(), statement),
        ),
      };
      const root = custody.checkGenesis(genesis, clock.now());
      const e = await refusal(() =>
        custody.checkSignedWithdrawal(root, vp, sw, {
          now: clock.now(),
          history: [],
          balance: 1e8,
        }),
      );
      expect(e).toMatchObject({ details: { reason: 'policy-refused' } });
      expect((e as unknown as Error).message).toMatch(/becomes active/);
      // a quorum signing time in the future is refused (clock skew)
      const future = custody.signPolicy(
        custody.signPolicy(v2, signers.adm1!, new Date(clock.now() + 3600_000).toISOString()),
        signers.adm2!,
        new Date(clock.now() + 3600_000).toISOString(),
      );
      const f = await refusal(() =>
        custody.verifyPolicyChain(root, [...evidence1.policies, future], clock.now()),
      );
      expect(f).toMatchObject({ details: { reason: 'clock-skew' } });
      // older than the version it replaces
      const old = new Date(clock.now() - 100 * 3600_000).toISOString();
      const stale = custody.signPolicy(
        custody.signPolicy(v2, signers.adm1!, old),
        signers.adm2!,
        old,
      );
      const g = await refusal(() =>
        custody.verifyPolicyChain(root, [...evidence1.policies, stale], clock.now()),
      );
      expect(g).toMatchObject({ details: { reason: 'signing-time-regressed' } });
    });

    it('compromised server: a new "own" wallet holding an attacker key gets no sweep', async () => {
      const top = await custody.newAddress(ctx, 'hot', 'top-up');
      await node.fund(top.address, 100_000_000);
      await node.mine(1);
      await custody.syncChain(ctx, chain);
      const attacker = await custody.newKey('regtest', PASS, { scrypt: FAST });
      await custody.createWallet(ctx, {
        name: 'cold2',
        tier: 'cold',
        threshold: 1,
        xpubs: [attacker.file.public.originXpub],
        network: 'regtest',
        trust: genesis,
      });
      const e = await refusal(custody.sweep(ctx, 'hot', 'cold', { toWallet: 'cold2' }));
      expect(e).toMatchObject({ code: 'E_POLICY', details: { reason: 'sweep-not-own-wallet' } });
      // the same claim put in the evidence by hand
      const cold2 = await custody.getWallet(ctx, 'cold2');
      const d = custody.walletDeriver(cold2).deriver.derive(0, 0);
      const ev = {
        ...evidence1,
        sweeps: [{ address: d.address, amount: 1000, wallet: 'cold2', branch: 0, index: 0 }],
      };
      expect(await cosignerSays(psbt1, ev)).toMatchObject({
        details: { reason: 'sweep-not-own-wallet' },
      });
    });

    it('the sweep to the signed own cold wallet passes the cosigner, apart from the customers’ velocity', async () => {
      const s = await custody.sweep(ctx, 'hot', 'cold');
      expect(s.swept).toBeGreaterThan(0);
      const built = await custody.buildWithdrawals(ctx, { ids: [s.withdrawal!.id], feeRate: 2 });
      expect(built.evidence!.sweeps).toHaveLength(1);
      const hot = await custody.signWithHotKey(ctx, built.psbt, PASS);
      const master = await custody.unlockKeyFile(hotKeys[2]!.file, PASS);
      const r = custody.cosign(
        { psbt: hot.psbt, evidence: built.evidence },
        { genesis, master, ledgerPath, now: clock.now() },
      );
      master.wipePrivateData();
      expect(r.check.ledgerEntry).toMatchObject({ payouts: 0, sweeps: s.swept });
      await custody.broadcast(ctx, chain, r.psbt);
      await node.mine(1);
      await custody.syncChain(ctx, chain);
      // a customer withdrawal right after is judged without the sweep in its velocity
      const w = await custody.requestWithdrawal(as('ops1'), 'hot', payee, 10_000_000n);
      expect(w.status).toBe('approved');
    });

    it('compromised server: a forged approved row, a non-approver, a replayed approval, a hand-built PSBT', async () => {
      const hotW = await custody.getWallet(ctx, 'hot');
      // a forged "approved" row: build refuses it and raises CRITICAL
      const row = await t.store.db
        .insertInto('custody_withdrawal')
        .values({
          wallet_id: hotW.id,
          to_address: stranger,
          amount: 30_000_000,
          status: 'approved',
          decision: JSON.stringify({ outcome: 'approved', rule: 'allow', reason: '', trace: [] }),
          requested_by: 'ops1',
          requested_at: iso(),
          eligible_at: null,
          psbt_id: null,
          txid: null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const before = critical().length;
      const f = await refusal(custody.buildWithdrawals(ctx, { ids: [Number(row.id)], feeRate: 2 }));
      expect(f).toMatchObject({ code: 'E_POLICY', details: { reason: 'forged' } });
      expect(critical().length).toBe(before + 1);
      await t.store.db.deleteFrom('custody_withdrawal').where('id', '=', Number(row.id)).execute();
      // an approval signed by a non-approver (an admin, and an identity outside the genesis)
      const st = evidence1.withdrawals[0]!;
      const byAdmin = {
        ...evidence1,
        withdrawals: [
          {
            ...st,
            approvals: [
              st.approvals[0]!,
              signers.adm1!.sign(custody.APPROVE_DOMAIN, iso(), st.statement),
            ],
          },
        ],
      };
      expect(await cosignerSays(psbt1, byAdmin)).toMatchObject({
        details: { reason: 'not-an-approver' },
      });
      const byStranger = {
        ...evidence1,
        withdrawals: [
          {
            ...st,
            approvals: [
              st.approvals[0]!,
              signers.mallory!.sign(custody.APPROVE_DOMAIN, iso(), st.statement),
            ],
          },
        ],
      };
      expect(await cosignerSays(psbt1, byStranger)).toMatchObject({
        details: { reason: 'unknown-identity' },
      });
      // a PSBT the attacker built and hot-signed by hand, with the honest evidence beside it
      const { deriver } = custody.walletDeriver(hotW);
      const utxos = await t.store.db
        .selectFrom('custody_utxo')
        .innerJoin('custody_address', 'custody_address.address', 'custody_utxo.address')
        .select([
          'custody_utxo.txid',
          'custody_utxo.vout',
          'custody_utxo.value',
          'custody_address.branch',
          'custody_address.idx',
        ])
        .where('custody_utxo.wallet_id', '=', hotW.id)
        .where('custody_utxo.spent_txid', 'is', null)
        .execute();
      const theft = custody.buildPsbt({
        utxos: utxos.map((u) => ({
          txid: u.txid,
          vout: Number(u.vout),
          value: Number(u.value),
          derived: deriver.derive(Number(u.idx), Number(u.branch)),
        })),
        payees: [{ address: stranger, amount: 50_000_000 }],
        change: deriver.derive(50, 1),
        feeRate: 1,
        threshold: 2,
        cosigners: 3,
        net: custody.network('regtest'),
      });
      const tx = custody.decodePsbt(theft.psbt);
      const m = await custody.unlockKeyFile(hotKeys[0]!.file, PASS);
      custody.signPsbt(tx, m);
      m.wipePrivateData();
      const handSigned = custody.encodePsbt(tx);
      await expect(custody.signWithHotKey(ctx, handSigned, PASS)).rejects.toMatchObject({
        code: 'E_POLICY',
      });
      expect(await cosignerSays(handSigned, evidence1)).toMatchObject({
        details: { reason: 'outputs-not-approved' },
      });
      // the approvals replayed for another address or amount: the signatures no longer verify
      const replay = {
        ...evidence1,
        withdrawals: [
          {
            ...st,
            statement: { ...st.statement, outputs: [{ address: stranger, amount: 50_000_000 }] },
          },
        ],
      };
      expect(await cosignerSays(handSigned, replay)).toMatchObject({
        details: { reason: 'bad-signature' },
      });
    });

    it('freeze: an UPDATE that lifts it is not believed (CRITICAL); k approver signatures lift it', async () => {
      await custody.freeze(ctx, 'test freeze');
      await expect(
        custody.requestWithdrawal(as('ops1'), 'hot', payee, 10_000n),
      ).rejects.toMatchObject({ code: 'E_FROZEN' });
      await t.store.db
        .updateTable('custody_state')
        .set({ value: JSON.stringify({ frozen: false }) })
        .where('key', '=', 'freeze')
        .execute();
      const before = critical().length;
      await expect(
        custody.requestWithdrawal(as('ops1'), 'hot', payee, 10_000n),
      ).rejects.toMatchObject({ code: 'E_FROZEN', details: { reason: 'forged' } });
      expect(critical().length).toBe(before + 1);
      // broadcast of anything spending our coins is refused while frozen
      await expect(custody.broadcast(ctx, chain, psbt1)).rejects.toMatchObject({
        code: 'E_FROZEN',
      });
      // restore the real frozen state (the forged row is just data) and vote
      await custody.freeze(ctx, 'test freeze again');
      await expect(custody.unfreeze(as('adm1'))).rejects.toMatchObject({ code: 'E_AUTH' });
      await expect(custody.unfreeze(ctx)).rejects.toMatchObject({ code: 'E_AUTH' });
      expect((await custody.unfreeze(as('apr1'))).frozen).toBe(true);
      expect((await custody.unfreeze(as('apr3'))).frozen).toBe(false);
      const w = await custody.requestWithdrawal(as('ops1'), 'hot', payee, 10_000n);
      expect(w.status).not.toBe('rejected');
    });

    it('bad input: truncated or altered evidence, unknown identity, expired approval, clock skew', async () => {
      const text = JSON.stringify(evidence1);
      const trunc = await refusal(() =>
        custody.parseDocument(text.slice(0, text.length / 2), 'evidence'),
      );
      expect(trunc).toMatchObject({ code: 'E_INPUT', details: { reason: 'evidence-malformed' } });
      expect(await cosignerSays(psbt1, { format: 'x' })).toMatchObject({
        code: 'E_INPUT',
        details: { reason: 'evidence-malformed' },
      });
      const st = evidence1.withdrawals[0]!;
      // altered after signing: the expiry stretched, or the signed policy's limits raised
      const stretched = structuredClone(evidence1);
      stretched.withdrawals[0]!.statement.expires = new Date(
        Date.parse(st.statement.expires) + 86_400_000,
      ).toISOString();
      expect(await cosignerSays(psbt1, stretched)).toMatchObject({
        code: 'E_POLICY',
        details: { reason: 'bad-signature' },
      });
      const raised = structuredClone(evidence1);
      raised.policies[0]!.sweepLimits = { perTxSats: 21e14 };
      expect(await cosignerSays(psbt1, raised)).toMatchObject({
        code: 'E_POLICY',
        details: { reason: 'bad-signature' },
      });
      const unknownReq = {
        ...evidence1,
        withdrawals: [
          { ...st, request: signers.mallory!.sign(custody.REQUEST_DOMAIN, iso(), st.statement) },
        ],
      };
      expect(await cosignerSays(psbt1, unknownReq)).toMatchObject({
        details: { reason: 'unknown-identity' },
      });
      const saved = clock.now();
      clock.advance(25 * 3600_000);
      expect(await cosignerSays(psbt1, evidence1)).toMatchObject({
        details: { reason: 'approval-expired' },
      });
      clock.set(saved - 3 * 3600_000); // the cosigner's clock behind the signatures
      expect(await cosignerSays(psbt1, evidence1)).toMatchObject({
        details: { reason: 'clock-skew' },
      });
      clock.set(saved);
    });

    it('audit: entries signed by their actor; tail deletion after a checkpoint is detected', async () => {
      const v = await custody.verifyAudit(ctx);
      expect(v.problems).toEqual([]);
      const rows = await t.store.db
        .selectFrom('custody_audit')
        .select(['actor', 'sig'])
        .where('action', '=', 'withdraw.approve')
        .execute();
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((r) => r.actor.startsWith('mid1') && r.sig)).toBe(true);
      const cp = await custody.auditCheckpoint(as('adm1'));
      await custody.newAddress(ctx, 'cold');
      expect((await custody.verifyAudit(ctx)).ok).toBe(true);
      const last = await t.store.db
        .selectFrom('custody_audit')
        .select((eb) => eb.fn.max('seq').as('m'))
        .executeTakeFirstOrThrow();
      await t.store.db
        .deleteFrom('custody_audit')
        .where('seq', '>=', Number(cp.seq) - 1)
        .execute();
      void last;
      const bad = await custody.verifyAudit(ctx, { head: `${cp.seq}:${cp.hash}` });
      expect(bad.ok).toBe(false);
      expect(bad.problems.map((p) => p.problem)).toContain('truncated');
      // a forged actor signature is found
      await t.store.db
        .updateTable('custody_audit')
        .set({ sig: null })
        .where('action', '=', 'withdraw.request')
        .execute();
      expect((await custody.verifyAudit(ctx)).problems.map((p) => p.problem)).toContain(
        'bad-signature',
      );
      expect(reasonOf({})).toBeUndefined();
    });

    it('compromised server: a forged PSBT row does not make a theft with two stolen keys look like a withdrawal', async () => {
      const hotW = await custody.getWallet(ctx, 'hot');
      await custody.syncChain(ctx, chain);
      const sink = createAlertSink({ store: t.store, write: (l) => alerts.push(l) });
      const memo = custody.newPollMemo();
      await custody.pollOnce(ctx, chain, { sink }, memo);
      const { deriver } = custody.walletDeriver(hotW);
      const utxos = await t.store.db
        .selectFrom('custody_utxo')
        .innerJoin('custody_address', 'custody_address.address', 'custody_utxo.address')
        .select([
          'custody_utxo.txid',
          'custody_utxo.vout',
          'custody_utxo.value',
          'custody_address.branch',
          'custody_address.idx',
        ])
        .where('custody_utxo.wallet_id', '=', hotW.id)
        .where('custody_utxo.spent_txid', 'is', null)
        .execute();
      expect(utxos.length).toBeGreaterThan(0);
      const u = utxos[0]!;
      const theft = custody.buildPsbt({
        utxos: [
          {
            txid: u.txid,
            vout: Number(u.vout),
            value: Number(u.value),
            derived: deriver.derive(Number(u.idx), Number(u.branch)),
          },
        ],
        payees: [{ address: custody.BURN_ADDRESS, amount: Number(u.value) - 10_000 }],
        change: deriver.derive(60, 1),
        feeRate: 1,
        threshold: 2,
        cosigners: 3,
        net: custody.network('regtest'),
      });
      const tx = custody.decodePsbt(theft.psbt);
      for (const k of [hotKeys[0]!, hotKeys[1]!]) {
        const m = await custody.unlockKeyFile(k.file, PASS);
        custody.signPsbt(tx, m);
        m.wipePrivateData();
      }
      custody.finalizePsbt(tx);
      // whoever holds the server writes a row that says Mamori built this spend
      await t.store.db
        .insertInto('custody_psbt')
        .values({
          wallet_id: hotW.id,
          txid: theft.txid,
          psbt: custody.encodePsbt(custody.decodePsbt(theft.psbt)),
          withdrawal_ids: '[]',
          fee: 1_000,
          status: 'broadcast',
          created_at: iso(),
        })
        .execute();
      const before = critical().length;
      await chain.broadcast(Buffer.from(tx.extract()).toString('hex'));
      const r = await custody.pollOnce(ctx, chain, { sink }, memo);
      expect(r.unapproved).toContain(theft.txid);
      const raised = critical().slice(before);
      expect(raised.some((a) => a.kind === 'custody.unapproved_outflow')).toBe(true);
    });
  });
}
