/**
 * Bitcoin Core JSON-RPC adapter (also spoken by bcoin's node): tip, blocks with their
 * transactions, mempool, broadcast, fee estimate. Credentials come from the URL's userinfo
 * (`http://user:pass@127.0.0.1:18443/`) and are never printed. Not a wallet: keys stay out.
 */
import { MamoriError } from '../../shared/errors.js';
import type { ChainAdapter, ChainTx } from '../core/chain.js';

interface RpcTxJson {
  txid: string;
  vin: { txid?: string; vout?: number; coinbase?: string }[];
  vout: { n: number; value: number; scriptPubKey: { hex: string } }[];
}

function toChainTx(j: RpcTxJson): ChainTx {
  return {
    txid: j.txid,
    vin: j.vin.filter((v) => v.txid).map((v) => ({ txid: v.txid!, vout: v.vout! })),
    vout: j.vout.map((o) => ({
      n: o.n,
      value: Math.round(o.value * 1e8),
      script: o.scriptPubKey.hex,
    })),
  };
}

export class RpcError extends Error {
  constructor(
    readonly rpcCode: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * @example const chain = coreRpc('http://x:key@127.0.0.1:18443/'); await chain.tipHeight()
 */
export function coreRpc(url: string, opts: { fetch?: typeof fetch; timeoutMs?: number } = {}) {
  const u = new URL(url);
  const auth =
    u.username || u.password
      ? `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`
      : undefined;
  u.username = '';
  u.password = '';
  const endpoint = u.toString();
  const doFetch = opts.fetch ?? globalThis.fetch;
  let id = 0;
  let bcoinStyle: boolean | undefined;

  async function call<T>(method: string, params: unknown[] = []): Promise<T> {
    let res: Response;
    try {
      res = await doFetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
        body: JSON.stringify({ jsonrpc: '1.0', id: ++id, method, params }),
        signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
      });
    } catch (e) {
      throw new MamoriError('E_NETWORK', `node at ${u.host} is unreachable`, {
        cause: e,
        hint: 'start one with: mamori custody node start --regtest',
      });
    }
    if (res.status === 401 || res.status === 403) {
      throw new MamoriError('E_AUTH', `node at ${u.host} refused the RPC credentials`);
    }
    const text = await res.text();
    let body: { result?: T; error?: { code: number; message: string } | null };
    try {
      body = JSON.parse(text);
    } catch {
      throw new MamoriError(
        'E_DEPENDENCY',
        `node at ${u.host} answered ${res.status} without JSON`,
      );
    }
    if (body.error) throw new RpcError(body.error.code, body.error.message);
    return body.result as T;
  }

  const adapter: ChainAdapter & { call: typeof call } = {
    kind: 'core-rpc',
    call,
    tipHeight: () => call<number>('getblockcount'),
    blockHash: (height) => call<string>('getblockhash', [height]),
    async blockAt(height) {
      const hash = await call<string>('getblockhash', [height]);
      // Core: verbosity 2 gives transactions; bcoin: (verbose, details).
      if (bcoinStyle !== true) {
        try {
          const b = await call<{ tx: RpcTxJson[] }>('getblock', [hash, 2]);
          if (typeof b.tx[0] === 'object') {
            bcoinStyle = false;
            return { hash, txs: b.tx.map(toChainTx) };
          }
        } catch (e) {
          if (!(e instanceof RpcError)) throw e;
        }
        bcoinStyle = true;
      }
      const b = await call<{ tx: RpcTxJson[] }>('getblock', [hash, true, true]);
      return { hash, txs: b.tx.map(toChainTx) };
    },
    mempoolTxids: () => call<string[]>('getrawmempool'),
    async tx(txid) {
      return toChainTx(await call<RpcTxJson>('getrawtransaction', [txid, true]));
    },
    async broadcast(hex) {
      try {
        return await call<string>('sendrawtransaction', [hex]);
      } catch (e) {
        if (e instanceof RpcError) {
          throw new MamoriError('E_INPUT', `the node rejected the transaction: ${e.message}`, {
            details: { rpcCode: e.rpcCode },
          });
        }
        throw e;
      }
    },
    async feeRate() {
      try {
        const r = await call<{ feerate?: number; fee?: number }>('estimatesmartfee', [6]);
        const btcPerKvb = r.feerate ?? r.fee;
        return btcPerKvb && btcPerKvb > 0
          ? Math.max(1, Math.ceil((btcPerKvb * 1e8) / 1000))
          : undefined;
      } catch {
        return undefined;
      }
    },
  };
  return adapter;
}
