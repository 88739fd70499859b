/**
 * custody-derive: 2-of-3 P2WSH deposit addresses per second from a `wsh(sortedmulti)`
 * descriptor — Mamori (@scure) against @bitcoinerlab/descriptors (bitcoinjs-lib) deriving the
 * same addresses in the same run; the first addresses are checked to be identical.
 */
import { networks, Output } from '@bitcoinerlab/descriptors';
import { makeDeriver } from '../src/custody/core/descriptor.js';
import { net, wallet } from './custody-fixture.js';
import type { BenchFn } from './lib.js';

export const run: BenchFn = async (ctx) => {
  const w = wallet();
  const n = Math.max(200, Math.round(2000 * ctx.scale));
  const peerN = Math.max(100, Math.round(n / 4));
  // correctness first: the same 20 addresses
  const ours = makeDeriver(w.desc, net);
  for (let i = 0; i < 20; i++) {
    const a = ours.derive(i, 0).address;
    const b = new Output({
      descriptor: w.receive,
      index: i,
      network: networks.regtest,
    }).getAddress();
    if (a !== b) throw new Error(`address ${i} differs: ${a} vs ${b}`);
  }
  const fresh = makeDeriver(w.desc, net);
  let t0 = performance.now();
  for (let i = 0; i < n; i++) fresh.derive(i, 0).address;
  const oursRate = n / ((performance.now() - t0) / 1000);
  t0 = performance.now();
  for (let i = 0; i < peerN; i++) {
    new Output({ descriptor: w.receive, index: i, network: networks.regtest }).getAddress();
  }
  const peerRate = peerN / ((performance.now() - t0) / 1000);
  ctx.log(`ours ${oursRate.toFixed(0)}/s over ${n}, peer ${peerRate.toFixed(0)}/s over ${peerN}`);
  return {
    figures: [
      {
        name: '2-of-3 P2WSH addresses (wsh(sortedmulti))',
        value: oursRate,
        unit: 'addr/s',
        base: '@bitcoinerlab/descriptors 3.2 + bitcoinjs-lib 7',
        baseValue: peerRate,
        ratio: oursRate / peerRate,
      },
    ],
    notes: [
      `${n} addresses for Mamori, ${peerN} for the peer (one Output per address, its documented use); the first 20 are checked identical.`,
      'Mamori caches the per-branch parent key; both derive three child public keys and a P2WSH script per address.',
    ],
  };
};
