/**
 * An in-process bcoin full node on regtest for development and tests, like `bitcoind -regtest`:
 * in-memory chain, transaction index, Core-compatible JSON-RPC on 127.0.0.1 with a random API
 * key, no peers. On start it mines past block 432 so segwit is active. Not for mainnet.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { Address, OutScript, p2wpkh, Transaction } from '@scure/btc-signer';
import { MamoriError } from '../../shared/errors.js';
import { NETWORKS } from '../core/network.js';

export interface RegtestNode {
  /** `http://x:<key>@127.0.0.1:<port>/`: pass as --node. */
  url: string;
  port: number;
  height(): Promise<number>;
  mine(n: number, to?: string): Promise<string[]>;
  /**
   * Pay `sats` to `address` from a mature coinbase of the node's own faucet key (a regtest
   * convenience, like a faucet); returns the txid, unconfirmed until the next block.
   */
  fund(address: string, sats: number): Promise<string>;
  /**
   * The node's own JSON-RPC handler called in process, as a `fetch` for `coreRpc(url, { fetch })`:
   * the same answers as over HTTP without a socket per call (long-running tests).
   */
  fetch: typeof fetch;
  /** Disconnect blocks down to `height` (tests of reorg handling); the mempool is reset. */
  rewind(height: number): Promise<void>;
  close(): Promise<void>;
}

/** P2WSH(OP_1) on regtest: where `node mine` sends rewards when no --to is given. */
export const BURN_ADDRESS = 'bcrt1qft5p2uhsdcdc3l2ua4ap5qqfg4pjaqlp250x7us7a8qqhrxrxfsqseac85';

/**
 * bcoin's regtest uses its own prefixes (`rb1…`, `rpub`); Bitcoin Core's regtest uses `bcrt1…`
 * and `tpub`. Give bcoin Core's, before its regtest Network object is first built, so addresses
 * and keys mean the same on both. Only this process's bcoin is affected.
 */
// biome-ignore lint/suspicious/noExplicitAny: bcoin ships no types
function coreRegtestPrefixes(bcoin: any): void {
  const r = bcoin.networks.regtest;
  Object.assign(r.addressPrefix, { pubkeyhash: 0x6f, scripthash: 0xc4, bech32: 'bcrt' });
  Object.assign(r.keyPrefix, {
    privkey: 0xef,
    xpubkey: 0x043587cf,
    xprivkey: 0x04358394,
    xpubkey58: 'tpub',
    xprivkey58: 'tprv',
  });
}

/**
 * @example const node = await startRegtestNode({ port: 0 }); … await node.close()
 */
export async function startRegtestNode(
  opts: { port?: number; mineTo?: string; initialBlocks?: number } = {},
): Promise<RegtestNode> {
  const require = createRequire(import.meta.url);
  // biome-ignore lint/suspicious/noExplicitAny: bcoin ships no types
  let bcoin: any;
  try {
    bcoin = require('bcoin');
  } catch (e) {
    throw new MamoriError('E_DEPENDENCY', 'bcoin is not installed', { cause: e });
  }
  coreRegtestPrefixes(bcoin);
  const apiKey = randomBytes(16).toString('hex');
  const port = opts.port ?? 0;
  const node = new bcoin.FullNode({
    network: 'regtest',
    memory: true,
    indexTX: true,
    workers: false,
    listen: false,
    logLevel: 'none',
    httpHost: '127.0.0.1',
    httpPort: port,
    apiKey,
  });
  await node.open();
  // bcoin's http server binds inside open(); port 0 means the OS picked one.
  const addr = node.http.http?.address?.() ?? node.http.server?.address?.();
  const actualPort: number = addr?.port ?? port;
  const url = `http://x:${apiKey}@127.0.0.1:${actualPort}/`;
  // bcoin's sendrawtransaction relays in the background and never reports a rejection; Core
  // answers with the reason (-26). Replace it with one that waits for the mempool's verdict.
  const bweb = createRequire(require.resolve('bcoin'))('bweb');
  delete node.rpc.calls.sendrawtransaction;
  node.rpc.add('sendrawtransaction', async (args: unknown[]) => {
    const hex = typeof args[0] === 'string' ? args[0] : '';
    let tx: { txid(): string };
    try {
      tx = bcoin.TX.fromRaw(Buffer.from(hex, 'hex'));
    } catch {
      throw new bweb.RPCError(-22, 'TX decode failed');
    }
    let missing: unknown;
    try {
      missing = await node.mempool.addTX(tx);
    } catch (e) {
      const err = e as { type?: string; reason?: string; message?: string };
      if (err.type === 'VerifyError') throw new bweb.RPCError(-26, err.reason ?? 'rejected');
      throw e;
    }
    if (missing) throw new bweb.RPCError(-25, 'bad-txns-inputs-missingorspent');
    return tx.txid();
  });
  const rpc = async <T>(method: string, params: unknown[]): Promise<T> => {
    const r = await node.rpc.call({ method, params, id: 1 }, []);
    if (r.error) throw new MamoriError('E_DEPENDENCY', `bcoin ${method}: ${r.error.message}`);
    return r.result as T;
  };
  const mine = (n: number, to?: string) =>
    rpc<string[]>('generatetoaddress', [n, to ?? opts.mineTo ?? BURN_ADDRESS]);
  const height = () => rpc<number>('getblockcount', []);
  // The faucet: block rewards of the first blocks go to a throwaway key held here.
  const faucetKey = secp256k1.utils.randomSecretKey();
  const faucet = p2wpkh(secp256k1.getPublicKey(faucetKey, true), NETWORKS.regtest.btc);
  const target = opts.initialBlocks ?? 433;
  const h = await height();
  if (h < target) {
    await mine(Math.min(200, target - h), faucet.address);
    if (target - h > 200) await mine(target - h - 200);
  }
  let nextCoinbase = 1;
  const spare: { txid: string; vout: number; value: number }[] = [];
  const fund = async (address: string, sats: number): Promise<string> => {
    let coin = spare.pop();
    if (!coin || coin.value < sats + 10_000) {
      if (coin) spare.push(coin);
      if (nextCoinbase > 100) throw new MamoriError('E_DEPENDENCY', 'regtest faucet is empty');
      const hash = await rpc<string>('getblockhash', [nextCoinbase++]);
      const b = await rpc<{ tx: { txid: string; vout: { value: number }[] }[] }>('getblock', [
        hash,
        true,
        true,
      ]);
      const cb = b.tx[0]!;
      coin = { txid: cb.txid, vout: 0, value: Math.round(cb.vout[0]!.value * 1e8) };
    }
    const tx = new Transaction();
    tx.addInput({
      txid: coin.txid,
      index: coin.vout,
      witnessUtxo: { script: faucet.script, amount: BigInt(coin.value) },
    });
    tx.addOutput({
      script: OutScript.encode(Address(NETWORKS.regtest.btc).decode(address)),
      amount: BigInt(sats),
    });
    const change = coin.value - sats - 2_000;
    if (change > 1_000) tx.addOutput({ script: faucet.script, amount: BigInt(change) });
    tx.sign(faucetKey);
    tx.finalize();
    const txid = await rpc<string>('sendrawtransaction', [tx.hex]);
    if (change > 1_000) spare.push({ txid, vout: 1, value: change });
    return txid;
  };
  const inProcessFetch = (async (_url: unknown, init?: { body?: unknown }) => {
    const body = JSON.parse(String(init?.body ?? '{}'));
    const out = await node.rpc.call(body, {});
    return new Response(JSON.stringify(out), {
      status: 200,
      headers: { 'content-type': 'application/json' },
    });
  }) as typeof fetch;
  return {
    fund,
    fetch: inProcessFetch,
    async rewind(to: number) {
      await node.chain.reset(to);
      await node.mempool.reset(); // bcoin does not always realign the mempool tip itself
    },
    url,
    port: actualPort,
    height,
    mine,
    async close() {
      await node.close();
    },
  };
}
