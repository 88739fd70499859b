/**
 * The chain adapters on real sockets: the Bitcoin Core JSON-RPC adapter against bcoin's
 * Core-compatible RPC server (auth, blocks, mempool, broadcast verdicts, unreachable node), and
 * the Esplora adapter against a local HTTP server that serves the Esplora REST shape from the
 * same regtest chain, so both adapters must agree.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreRpc, esplora, type RegtestNode, startRegtestNode } from '../../src/custody/index.js';

describe('chain adapters', () => {
  let node: RegtestNode;
  let server: Server;
  let espUrl: string;
  const posted: string[] = [];

  beforeAll(async () => {
    node = await startRegtestNode({ port: 0 });
    const rpc = coreRpc(node.url);
    // An Esplora-shaped facade over the node's RPC, on 127.0.0.1 port 0.
    server = createServer(async (req, res) => {
      try {
        const url = new URL(req.url ?? '/', 'http://x');
        const send = (code: number, body: unknown) => {
          res.writeHead(code, {
            'content-type': typeof body === 'string' ? 'text/plain' : 'application/json',
          });
          res.end(typeof body === 'string' ? body : JSON.stringify(body));
        };
        const esTx = (t: Awaited<ReturnType<typeof rpc.tx>>) => ({
          txid: t.txid,
          vin: t.vin.length
            ? t.vin.map((v) => ({ ...v, is_coinbase: false }))
            : [{ txid: '00'.repeat(32), vout: 0xffffffff, is_coinbase: true }],
          vout: t.vout.map((o) => ({ scriptpubkey: o.script, value: o.value })),
        });
        if (url.pathname === '/api/blocks/tip/height')
          return send(200, String(await rpc.tipHeight()));
        const height = /^\/api\/block-height\/(\d+)$/.exec(url.pathname);
        if (height) {
          return send(200, await rpc.call<string>('getblockhash', [Number(height[1])]));
        }
        const page = /^\/api\/block\/([0-9a-f]{64})\/txs\/(\d+)$/.exec(url.pathname);
        if (page) {
          const info = await rpc.call<{ height: number }>('getblockheader', [page[1], true]);
          const b = await rpc.blockAt(info.height);
          return send(200, b.txs.slice(Number(page[2]), Number(page[2]) + 25).map(esTx));
        }
        if (url.pathname === '/api/mempool/txids') return send(200, await rpc.mempoolTxids());
        const txPath = /^\/api\/tx\/([0-9a-f]{64})$/.exec(url.pathname);
        if (txPath) return send(200, esTx(await rpc.tx(txPath[1]!)));
        if (url.pathname === '/api/tx' && req.method === 'POST') {
          let body = '';
          for await (const chunk of req) body += chunk;
          posted.push(body);
          try {
            return send(200, await rpc.broadcast(body));
          } catch (e) {
            return send(400, `sendrawtransaction RPC error: ${(e as Error).message}`);
          }
        }
        if (url.pathname === '/api/fee-estimates') return send(200, { '1': 3.2, '6': 1.5 });
        return send(404, 'not found');
      } catch (e) {
        res.writeHead(500);
        res.end(String(e));
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    espUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
  });
  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    await node?.close();
  });

  it('Core RPC against bcoin: tip past segwit activation, blocks, mempool, fee', async () => {
    const c = coreRpc(node.url);
    expect(await c.tipHeight()).toBeGreaterThanOrEqual(433);
    const b = await c.blockAt(1);
    expect(b.txs).toHaveLength(1);
    expect(b.txs[0]!.vin).toEqual([]);
    expect(b.txs[0]!.vout[0]!.value).toBe(5_000_000_000);
    const txid = await node.fund(
      'bcrt1q7sgx6gscgtau57jduend6a8l445ahpk3dt3u5zu58rx5qm27lhkq9s85ce',
      12_345,
    );
    expect(await c.mempoolTxids()).toContain(txid);
    const t = await c.tx(txid);
    expect(t.vout.find((o) => o.value === 12_345)).toBeDefined();
    expect(await c.feeRate()).toSatisfy((f: number | undefined) => f === undefined || f >= 1);
  });

  it('Core RPC: wrong credentials → E_AUTH, unreachable → E_NETWORK, rejected tx → E_INPUT', async () => {
    const bad = new URL(node.url);
    bad.password = 'wrong';
    await expect(coreRpc(bad.toString()).tipHeight()).rejects.toMatchObject({ code: 'E_AUTH' });
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await expect(coreRpc(`http://127.0.0.1:${port}/`).tipHeight()).rejects.toMatchObject({
      code: 'E_NETWORK',
    });
    await expect(coreRpc(node.url).broadcast('0200000000')).rejects.toMatchObject({
      code: 'E_INPUT',
    });
  });

  it('Esplora adapter agrees with the RPC adapter on the same chain', async () => {
    const c = coreRpc(node.url);
    const e = esplora(espUrl);
    await node.mine(1);
    const tip = await c.tipHeight();
    expect(await e.tipHeight()).toBe(tip);
    const viaRpc = await c.blockAt(tip);
    const viaEsp = await e.blockAt(tip);
    expect(viaEsp).toEqual(viaRpc);
    expect(viaEsp.txs.length).toBeGreaterThanOrEqual(2); // coinbase + the funding tx
    const txid = await node.fund(
      'bcrt1q7sgx6gscgtau57jduend6a8l445ahpk3dt3u5zu58rx5qm27lhkq9s85ce',
      22_222,
    );
    expect(await e.mempoolTxids()).toEqual(await c.mempoolTxids());
    expect(await e.tx(txid)).toEqual(await c.tx(txid));
    expect(await e.feeRate()).toBe(2);
    await expect(e.broadcast('0200000000')).rejects.toMatchObject({ code: 'E_INPUT' });
    expect(posted).toEqual(['0200000000']);
  });
});
