/**
 * custody-batch: one 100-payee withdrawal from a 2-of-3 P2WSH wallet — build the PSBT, add two
 * cosigner signatures, finalize, extract — by Mamori (@scure/btc-signer) and by
 * bitcoinjs-lib + @bitcoinerlab/descriptors doing the same work in the same run. Both spend the
 * same five coins to the same payees; both results are checked for 100 payee outputs.
 */
import { BIP32, networks, Output, Psbt, signers } from '@bitcoinerlab/descriptors';
import { Transaction } from '@scure/btc-signer';
import { bytesToHex, makeDeriver } from '../src/custody/core/descriptor.js';
import { buildWithdrawal, decodePsbt, finalizePsbt, signPsbt } from '../src/custody/core/psbt.js';
import { net, wallet } from './custody-fixture.js';
import type { BenchFn } from './lib.js';

export const run: BenchFn = async (ctx) => {
  const w = wallet();
  const d = makeDeriver(w.desc, net);
  const coins = Array.from({ length: 5 }, (_, i) => ({
    txid: (i + 1).toString(16).padStart(64, '0'),
    vout: i,
    value: 21_000_000, // all five are needed for the payees' 1.0000495 BTC
  }));
  const payees = Array.from({ length: 100 }, (_, i) => ({
    address: d.derive(1000 + i, 0).address, // any valid regtest P2WSH addresses
    amount: 1_000_000 + i,
  }));
  const rounds = Math.max(2, Math.round(6 * ctx.scale));

  const ours = () => {
    const built = buildWithdrawal({
      utxos: coins.map((c, i) => ({ ...c, derived: d.derive(i, 0) })),
      payees,
      change: d.derive(0, 1),
      feeRate: 2,
      threshold: 2,
      cosigners: 3,
      net,
    });
    const tx = decodePsbt(built.psbt);
    signPsbt(tx, w.keys[0]!.master);
    signPsbt(tx, w.keys[1]!.master);
    finalizePsbt(tx);
    return tx.extract();
  };
  const masters = w.keys.map((k) => BIP32.fromSeed(k.seed, networks.regtest));
  const peer = () => {
    const psbt = new Psbt({ network: networks.regtest });
    const finalizers = coins.map((c, i) =>
      new Output({ descriptor: w.receive, index: i, network: networks.regtest }).updatePsbtAsInput({
        psbt,
        txId: c.txid,
        vout: c.vout,
        value: BigInt(c.value),
      }),
    );
    for (const p of payees) psbt.addOutput({ address: p.address, value: BigInt(p.amount) });
    new Output({ descriptor: w.change, index: 0, network: networks.regtest }).updatePsbtAsOutput({
      psbt,
      value: 5n * 21_000_000n - payees.reduce((s, p) => s + BigInt(p.amount), 0n) - 20_000n,
    });
    signers.signBIP32({ psbt, masterNode: masters[0]! });
    signers.signBIP32({ psbt, masterNode: masters[1]! });
    for (const f of finalizers) f({ psbt });
    return psbt.extractTransaction().toHex();
  };
  // @bitcoinerlab warns on every segwit input added without its parent tx; both sides get the
  // same witness UTXO information, so the warning is silenced for the run.
  const warn = console.warn;
  console.warn = () => {};
  try {
    const rawA = ours();
    const rawB = peer();
    const a = Transaction.fromRaw(rawA);
    const b = Transaction.fromRaw(Buffer.from(rawB, 'hex'));
    if (
      a.outputsLength !== 101 ||
      b.outputsLength !== 101 ||
      a.inputsLength !== 5 ||
      b.inputsLength !== 5
    ) {
      throw new Error('the two batches do not do the same work');
    }
    ctx.log(`ours ${bytesToHex(rawA).length / 2} bytes, peer ${rawB.length / 2} bytes`);
    const time = (fn: () => unknown) => {
      fn(); // warm
      const t0 = performance.now();
      for (let i = 0; i < rounds; i++) fn();
      return (performance.now() - t0) / rounds;
    };
    const oursMs = time(ours);
    const peerMs = time(peer);
    return {
      figures: [
        {
          name: '100-payee batch: build + 2 signatures + finalize',
          value: oursMs,
          unit: 'ms/batch',
          base: 'bitcoinjs-lib 7 + @bitcoinerlab/descriptors 3.2',
          baseValue: peerMs,
          ratio: peerMs / oursMs,
        },
      ],
      notes: [
        `5 inputs (2-of-3 P2WSH), 100 payees + change, ${rounds} timed rounds after one warm-up each; ratio = peer time / Mamori time (higher is better).`,
        'Mamori also verifies every signature against its sighash before finalizing (the "M valid signatures" check).',
      ],
    };
  } finally {
    console.warn = warn;
  }
};
