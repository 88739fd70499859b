/**
 * The watcher fails closed, on a real bcoin regtest node (in process, JSON-RPC on 127.0.0.1) and
 * a real store (SQLite, and PostgreSQL when MAMORI_TEST_PG is set): its own cursor catches a
 * theft made while it was down even after another command synced the store; a recorded
 * withdrawal synced by someone else is no alert; an RBF replacement of our withdrawal is
 * recognised by its inputs while one that redirects the payment is a theft; a node that goes
 * away (a real loopback proxy closed and reopened), one that never answers, and one never
 * reached each raise one "watcher blind" alert; the heartbeat shows in the posture API and in
 * `custody tiers`; `watch` against a closed port exits 3.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { Address, OutScript } from '@scure/btc-signer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlertSink } from '../../src/alerts/index.js';
import { bytesToHex } from '../../src/custody/core/descriptor.js';
import type { RegtestNode } from '../../src/custody/index.js';
import * as custody from '../../src/custody/index.js';
import { runMamori } from '../helpers/cli.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';
import { testApp } from '../helpers/web.js';

const PASS = 'correct horse battery';
const FAST = { N: 2 ** 12, r: 8, p: 1 }; // test-only scrypt cost
const STRANGER = 'bcrt1q7sgx6gscgtau57jduend6a8l445ahpk3dt3u5zu58rx5qm27lhkq9s85ce';
const PAYEE = 'bcrt1qft5p2uhsdcdc3l2ua4ap5qqfg4pjaqlp250x7us7a8qqhrxrxfsqseac85';
const net = custody.network('regtest');

interface Alert {
  kind: string;
  severity: string;
  details: Record<string, unknown>;
}

/** A free loopback port: bound, then released. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/**
 * A JSON-RPC relay on 127.0.0.1 in front of the node (a real HTTP server on its own port), that
 * the test can cut (server closed, connections dropped) and restore on the same port.
 */
function relay(target: number) {
  let server: HttpServer | undefined;
  let port = 0;
  const open = () =>
    new Promise<void>((resolve, reject) => {
      server = createHttpServer(async (req, res) => {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        try {
          const r = await fetch(`http://127.0.0.1:${target}/`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              authorization: req.headers.authorization ?? '',
            },
            body: Buffer.concat(chunks),
          });
          res.writeHead(r.status, { 'content-type': 'application/json' });
          res.end(await r.text());
        } catch {
          res.destroy();
        }
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as { port: number }).port;
        resolve();
      });
    });
  return {
    open,
    get port() {
      return port;
    },
    async cut() {
      const s = server;
      server = undefined;
      if (!s) return;
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    },
  };
}

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (const backend of testBackends()) {
  describe(`custody watcher fails closed (${backend})`, () => {
    let node: RegtestNode;
    let t: TestStore;
    let chain: ReturnType<typeof custody.coreRpc>;
    let ctx: custody.CustodyContext;
    let keys: Awaited<ReturnType<typeof custody.newKey>>[];
    const lines: string[] = [];
    const alerts = () => lines.map((l) => JSON.parse(l) as Alert);
    const of = (kind: string) => alerts().filter((a) => a.kind === kind);
    let sink: ReturnType<typeof createAlertSink>;

    /** Sign with two of the three cosigner keys (what a thief with two keys does). */
    async function signTwo(tx: ReturnType<typeof custody.decodePsbt>): Promise<string> {
      for (const k of [keys[0]!, keys[1]!]) {
        const m = await custody.unlockKeyFile(k.file, PASS);
        custody.signPsbt(tx, m);
        m.wipePrivateData();
      }
      custody.finalizePsbt(tx);
      return bytesToHex(tx.extract());
    }

    async function unspent() {
      const w = await custody.getWallet(ctx, 'hot');
      const { deriver } = custody.walletDeriver(w);
      const rows = await t.store.db
        .selectFrom('custody_utxo')
        .innerJoin('custody_address', 'custody_address.address', 'custody_utxo.address')
        .select([
          'custody_utxo.txid',
          'custody_utxo.vout',
          'custody_utxo.value',
          'custody_address.branch',
          'custody_address.idx',
        ])
        .where('custody_utxo.spent_txid', 'is', null)
        .orderBy('custody_utxo.id')
        .execute();
      return rows.map((u) => ({
        txid: u.txid,
        vout: Number(u.vout),
        value: Number(u.value),
        derived: deriver.derive(Number(u.idx), Number(u.branch)),
      }));
    }

    async function unfreezeAll() {
      await custody.unfreeze(ctx, 'alice');
      await custody.unfreeze(ctx, 'bob');
      expect((await custody.freezeState(ctx)).frozen).toBe(false);
    }

    beforeAll(async () => {
      node = await custody.startRegtestNode({ port: 0 });
      chain = custody.coreRpc(node.url);
      t = await freshStore(backend);
      ctx = { store: t.store, actor: 'test' };
      sink = createAlertSink({ store: t.store, write: (l) => lines.push(l) });
      keys = [];
      for (let i = 0; i < 3; i++)
        keys.push(await custody.newKey('regtest', PASS, { scrypt: FAST }));
      await custody.createWallet(ctx, {
        name: 'hot',
        tier: 'hot',
        threshold: 2,
        xpubs: keys.map((k) => k.file.public.originXpub),
        hotKey: keys[0]!.file,
        network: 'regtest',
      });
      // below 5 BTC a withdrawal is allowed at once; alice and bob lift a freeze
      await custody.setPolicy(ctx, 'hot', {
        flags: { approvers: ['alice', 'bob'], quorum: 2, approvalAboveSats: 500_000_000 },
      });
      for (let i = 0; i < 4; i++) {
        const a = await custody.newAddress(ctx, 'hot', `d${i}`);
        await node.fund(a.address, 100_000_000);
      }
      await node.mine(1);
      await custody.syncChain(ctx, chain);
    });
    afterAll(async () => {
      await node?.close();
      await t?.cleanup();
    });

    it('a theft while the watcher was down, after another command synced: CRITICAL on restart', async () => {
      expect((await custody.watcherStatus(ctx)).state).toBe('never-run');
      await custody.watch(ctx, chain, { sink, maxPolls: 1 });
      const first = await custody.watcherStatus(ctx);
      expect(first).toMatchObject({ state: 'stopped', cursorHeight: await chain.tipHeight() });
      expect(of('custody.unapproved_outflow')).toHaveLength(0);
      // the watcher is down; two stolen keys spend one coin around Mamori, and it confirms
      const [coin] = await unspent();
      const theft = custody.buildPsbt({
        utxos: [coin!],
        payees: [{ address: STRANGER, amount: coin!.value - 5_000 }],
        change: coin!.derived,
        feeRate: 1,
        threshold: 2,
        cosigners: 3,
        net,
      });
      await chain.broadcast(await signTwo(custody.decodePsbt(theft.psbt)));
      await node.mine(1);
      // cron's `balance --node` syncs first: the shared cursor moves past the theft
      const synced = await custody.syncChain(ctx, chain);
      expect(synced.spent.map((s) => s.spentBy)).toEqual([theft.txid]);
      expect((await custody.syncChain(ctx, chain)).spent).toEqual([]);
      // the watcher comes back: its own cursor is still below the theft
      await custody.watch(ctx, chain, { sink, maxPolls: 1 });
      const found = of('custody.unapproved_outflow');
      expect(found).toHaveLength(1);
      expect(found[0]).toMatchObject({
        severity: 'critical',
        details: { txid: theft.txid, frozen: true, height: await chain.tipHeight() },
      });
      expect((await custody.freezeState(ctx)).frozen).toBe(true);
      // judged once: a second restart raises nothing new
      await custody.watch(ctx, chain, { sink, maxPolls: 2, intervalMs: 10 });
      expect(of('custody.unapproved_outflow')).toHaveLength(1);
      await unfreezeAll();
    });

    it('a recorded withdrawal synced by another command is no alert', async () => {
      const w = await custody.requestWithdrawal(ctx, 'hot', PAYEE, 30_000_000n, 'ops');
      expect(w.status).toBe('approved');
      const built = await custody.buildWithdrawals(ctx, { ids: [w.id], feeRate: 2 });
      // two cosigners sign by hand: this wallet has no trust root, so --sign-hot refuses it
      const parts = [];
      for (const k of [keys[0]!, keys[1]!]) {
        const part = custody.decodePsbt(built.psbt);
        const m = await custody.unlockKeyFile(k.file, PASS);
        custody.signPsbt(part, m);
        m.wipePrivateData();
        parts.push(part);
      }
      const both = custody.combinePsbts(parts);
      await custody.broadcast(ctx, chain, custody.encodePsbt(both));
      await node.mine(1);
      await custody.syncChain(ctx, chain); // someone else synced first
      const events: custody.WatchEvent[] = [];
      await custody.watch(ctx, chain, { sink, maxPolls: 1, onEvent: (e) => events.push(e) });
      expect(events.filter((e) => e.type === 'withdrawal').map((e) => e.details.txid)).toEqual([
        built.txid,
      ]);
      expect(of('custody.unapproved_outflow')).toHaveLength(1); // still only the theft above
      expect((await custody.freezeState(ctx)).frozen).toBe(false);
    });

    it('an RBF replacement of our withdrawal is recognised by its inputs; a redirected one is theft', async () => {
      const memo = custody.newPollMemo();
      await custody.pollOnce(ctx, chain, { sink }, memo);
      // a withdrawal is built and recorded; the fee is bumped before it goes out
      const w = await custody.requestWithdrawal(ctx, 'hot', PAYEE, 20_000_000n, 'ops');
      const built = await custody.buildWithdrawals(ctx, { ids: [w.id], feeRate: 1 });
      const bumped = custody.decodePsbt(built.psbt);
      let change = -1;
      for (let i = 0; i < bumped.outputsLength; i++)
        if (Number(bumped.getOutput(i).amount) !== 20_000_000) change = i;
      expect(change).toBeGreaterThanOrEqual(0);
      bumped.updateOutput(change, { amount: bumped.getOutput(change).amount! - 3_000n });
      const bumpHex = await signTwo(bumped);
      const bumpTxid = bumped.id;
      expect(bumpTxid).not.toBe(built.txid);
      await chain.broadcast(bumpHex);
      const events: custody.WatchEvent[] = [];
      const r = await custody.pollOnce(ctx, chain, { sink, onEvent: (e) => events.push(e) }, memo);
      expect(r.unapproved).toEqual([]);
      expect(events.find((e) => e.type === 'replacement')?.details).toMatchObject({
        txid: bumpTxid,
        matched: built.txid,
      });
      expect(of('custody.withdrawal_replaced').at(-1)?.details).toMatchObject({ txid: bumpTxid });
      await node.mine(1);
      expect((await custody.pollOnce(ctx, chain, { sink }, memo)).unapproved).toEqual([]);
      expect((await custody.freezeState(ctx)).frozen).toBe(false);
      // same inputs as a recorded withdrawal, but the payee swapped for the attacker's address
      const w2 = await custody.requestWithdrawal(ctx, 'hot', PAYEE, 10_000_000n, 'ops');
      const built2 = await custody.buildWithdrawals(ctx, { ids: [w2.id], feeRate: 1 });
      const redirected = custody.decodePsbt(built2.psbt);
      for (let i = 0; i < redirected.outputsLength; i++) {
        if (Number(redirected.getOutput(i).amount) === 10_000_000)
          redirected.updateOutput(i, {
            script: OutScript.encode(Address(net.btc).decode(STRANGER)),
          });
      }
      await chain.broadcast(await signTwo(redirected));
      const r2 = await custody.pollOnce(ctx, chain, { sink }, memo);
      expect(r2.unapproved).toEqual([redirected.id]);
      expect(of('custody.unapproved_outflow').at(-1)).toMatchObject({
        severity: 'critical',
        details: { txid: redirected.id, matched: built2.txid },
      });
      expect(String(of('custody.unapproved_outflow').at(-1)?.details.reason)).toMatch(/payee/);
      await node.mine(1);
      // confirmed: judged already, no second alert
      await custody.pollOnce(ctx, chain, { sink }, memo);
      expect(of('custody.unapproved_outflow')).toHaveLength(2);
      await unfreezeAll();
    });

    it('node gone: one CRITICAL blind alert per episode, heartbeat shows it, then a recovery notice', {
      timeout: 60_000,
    }, async () => {
      const p = relay(node.port);
      await p.open();
      const url = node.url.replace(/:\d+\/$/, `:${p.port}/`);
      const abort = new AbortController();
      const events: custody.WatchEvent[] = [];
      const before = lines.length;
      const since = () => alerts().slice(before);
      const running = custody.watch(ctx, custody.coreRpc(url, { timeoutMs: 2_000 }), {
        sink,
        signal: abort.signal,
        intervalMs: 50,
        blindAfterMs: 800,
        heartbeatMs: 100,
        onEvent: (e) => events.push(e),
      });
      try {
        const watching = async () => (await custody.watcherStatus(ctx)).state === 'watching';
        await until('a watching heartbeat', watching);
        await p.cut();
        await until('the blind alert', () =>
          since().some((a) => a.kind === 'custody.watcher_blind'),
        );
        // several blind-after periods later: still one alert and one error line for the episode
        await new Promise((r) => setTimeout(r, 2_000));
        const blind = since().filter((a) => a.kind === 'custody.watcher_blind');
        expect(blind).toHaveLength(1);
        expect(blind[0]).toMatchObject({
          severity: 'critical',
          details: { reason: 'unreachable' },
        });
        expect(events.filter((e) => e.type === 'error')).toHaveLength(1);
        const status = await custody.watcherStatus(ctx);
        expect(status).toMatchObject({ state: 'blind' });
        expect(status.blindReason).toMatch(/^unreachable/);
        const { request } = await testApp(t.store, 'test', 'viewer');
        const posture = await (await request('/api/v1/custody/posture')).json();
        expect(posture.watcher).toMatchObject({ state: 'blind', name: 'default' });
        await p.open(); // the node is back on the same address
        await until('the recovery notice', () =>
          since().some((a) => a.kind === 'custody.watcher_recovered'),
        );
        expect(since().find((a) => a.kind === 'custody.watcher_recovered')).toMatchObject({
          severity: 'info',
          details: { reason: 'unreachable' },
        });
        await until('a watching heartbeat again', watching);
      } finally {
        abort.abort();
        await running;
        await p.cut();
      }
      expect((await custody.watcherStatus(ctx)).state).toBe('stopped');
    });

    it('a node that accepts but never answers is blind ("stalled"), then E_NETWORK at start', {
      timeout: 30_000,
    }, async () => {
      const held = new Set<Socket>();
      const mute = createServer((s) => {
        held.add(s);
        s.on('error', () => undefined);
      });
      await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
      const port = (mute.address() as { port: number }).port;
      const before = lines.length;
      try {
        await expect(
          custody.watch(ctx, custody.coreRpc(`http://127.0.0.1:${port}/`, { timeoutMs: 2_000 }), {
            sink,
            blindAfterMs: 300,
            name: 'mute',
          }),
        ).rejects.toMatchObject({ code: 'E_NETWORK' });
      } finally {
        for (const s of held) s.destroy();
        await new Promise<void>((r) => mute.close(() => r()));
      }
      const blind = alerts()
        .slice(before)
        .filter((a) => a.kind === 'custody.watcher_blind');
      expect(blind).toHaveLength(1);
      expect(blind[0]).toMatchObject({ details: { reason: 'stalled', watcher: 'mute' } });
    });

    it('never reached at start: a blind alert and E_NETWORK; the CLI exits 3', {
      timeout: 60_000,
    }, async () => {
      const port = await closedPort();
      const before = lines.length;
      await expect(
        custody.watch(ctx, custody.coreRpc(`http://127.0.0.1:${port}/`), {
          sink,
          name: 'closed',
        }),
      ).rejects.toMatchObject({ code: 'E_NETWORK' });
      expect(
        alerts()
          .slice(before)
          .filter((a) => a.kind === 'custody.watcher_blind'),
      ).toMatchObject([{ severity: 'critical', details: { reason: 'unreachable' } }]);
      const env = { MAMORI_DB: t.spec, MAMORI_CONFIG: undefined, XDG_CONFIG_HOME: '/nonexistent' };
      const r = await runMamori(
        ['custody', 'watch', '--node', `http://127.0.0.1:${port}/`, '--blind-after', '1', '--json'],
        { env, timeoutMs: 30_000 },
      );
      expect(r.code).toBe(3);
      const out = r.stdout
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
      expect(out.filter((l) => l.kind === 'custody.watcher_blind')).toHaveLength(1);
      expect(r.stderr).toMatch(/E_NETWORK|cannot reach the node/);
      // the heartbeat of the default watcher shows in `custody tiers`
      const tiers = await runMamori(['custody', 'tiers', '--json'], { env });
      expect(tiers.code).toBe(0);
      expect(JSON.parse(tiers.stdout).watcher).toMatchObject({ name: 'default', state: 'stopped' });
      const human = await runMamori(['custody', 'tiers'], { env });
      expect(human.stdout).toMatch(/^watcher: STOPPED \(no heartbeat now\), last poll /m);
    });
  });
}
