/**
 * Esplora REST adapter (Blockstream/mempool.space API shape): tip, blocks' transactions,
 * mempool txids, broadcast, fee estimates. Tested against a local HTTP server; any base URL
 * works, including 127.0.0.1. Not a wallet and not a websocket follower.
 */
import { MamoriError } from '../../shared/errors.js';
import type { ChainAdapter, ChainTx } from '../core/chain.js';

interface EsploraTx {
  txid: string;
  vin: { txid: string; vout: number; is_coinbase?: boolean }[];
  vout: { scriptpubkey: string; value: number }[];
}

function toChainTx(t: EsploraTx): ChainTx {
  return {
    txid: t.txid,
    vin: t.vin.filter((v) => !v.is_coinbase).map((v) => ({ txid: v.txid, vout: v.vout })),
    vout: t.vout.map((o, n) => ({ n, value: o.value, script: o.scriptpubkey })),
  };
}

/** @example const chain = esplora('http://127.0.0.1:3000/api'); await chain.tipHeight() */
export function esplora(base: string, opts: { fetch?: typeof fetch } = {}): ChainAdapter {
  const root = base.replace(/\/+$/, '');
  const doFetch = opts.fetch ?? globalThis.fetch;
  async function get(path: string, init?: RequestInit): Promise<Response> {
    let res: Response;
    try {
      res = await doFetch(`${root}${path}`, { ...init, signal: AbortSignal.timeout(30_000) });
    } catch (e) {
      throw new MamoriError('E_NETWORK', `esplora at ${new URL(root).host} is unreachable`, {
        cause: e,
      });
    }
    if (!res.ok) {
      const text = (await res.text()).slice(0, 200);
      if (init?.method === 'POST')
        throw new MamoriError('E_INPUT', `esplora rejected the transaction: ${text}`);
      throw new MamoriError('E_DEPENDENCY', `esplora ${path}: HTTP ${res.status} ${text}`);
    }
    return res;
  }
  return {
    kind: 'esplora',
    tipHeight: async () => Number(await (await get('/blocks/tip/height')).text()),
    blockHash: async (height) => (await (await get(`/block-height/${height}`)).text()).trim(),
    async blockAt(height) {
      const hash = (await (await get(`/block-height/${height}`)).text()).trim();
      const txs: ChainTx[] = [];
      for (let start = 0; ; start += 25) {
        const page = (await (await get(`/block/${hash}/txs/${start}`)).json()) as EsploraTx[];
        txs.push(...page.map(toChainTx));
        if (page.length < 25) break;
      }
      return { hash, txs };
    },
    mempoolTxids: async () => (await (await get('/mempool/txids')).json()) as string[],
    tx: async (txid) => toChainTx((await (await get(`/tx/${txid}`)).json()) as EsploraTx),
    broadcast: async (hex) =>
      (
        await (
          await get('/tx', { method: 'POST', body: hex, headers: { 'content-type': 'text/plain' } })
        ).text()
      ).trim(),
    async feeRate() {
      const est = (await (await get('/fee-estimates')).json()) as Record<string, number>;
      const r = est['6'] ?? est['3'] ?? est['1'];
      return r ? Math.max(1, Math.ceil(r)) : undefined;
    },
  };
}
