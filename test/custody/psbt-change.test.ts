/**
 * What an offline signer is shown: change verification. A forged "change" output that lists
 * the right fingerprints and threshold but an attacker's keys fools the fingerprint heuristic;
 * with the wallet descriptor (`psbt sign --descriptor`) it is caught, and so are foreign inputs.
 */
import { HDKey } from '@scure/bip32';
import { mnemonicToSeedSync } from '@scure/bip39';
import { describe, expect, it } from 'vitest';
import { makeDeriver, parseMultisigDescriptor } from '../../src/custody/core/descriptor.js';
import { cosignerPublic, mnemonicFromEntropy } from '../../src/custody/core/keys.js';
import { network } from '../../src/custody/core/network.js';
import { buildWithdrawal, decodePsbt, inspectPsbt, signPsbt } from '../../src/custody/core/psbt.js';

const net = network('regtest');
function wallet(seedByte: number) {
  const keys = [0, 1, 2].map((i) => {
    const m = HDKey.fromMasterSeed(
      mnemonicToSeedSync(mnemonicFromEntropy(new Uint8Array(16).fill(seedByte + i))),
      net.bip32,
    );
    return { master: m, pub: cosignerPublic(m, net) };
  });
  const desc = parseMultisigDescriptor(
    `wsh(sortedmulti(2,${keys.map((k) => `${k.pub.originXpub}/<0;1>/*`).join(',')}))`,
  );
  return { keys, deriver: makeDeriver(desc, net) };
}

describe('PSBT change verification', () => {
  const ours = wallet(1);
  const attacker = wallet(100);
  const utxos = [0, 1].map((i) => ({
    txid: String(i + 1).padStart(64, '0'),
    vout: 0,
    value: 50_000_000,
    derived: ours.deriver.derive(i, 0),
  }));
  const payees = [{ address: attacker.deriver.derive(0, 0).address, amount: 10_000_000 }];

  it("genuine change is verified both ways; inputs are the wallet's", () => {
    const b = buildWithdrawal({
      utxos,
      payees,
      change: ours.deriver.derive(3, 1),
      feeRate: 2,
      threshold: 2,
      cosigners: 3,
      net,
    });
    const tx = decodePsbt(b.psbt);
    const weak = inspectPsbt(tx, net);
    const strong = inspectPsbt(tx, net, { wallet: ours.deriver });
    for (const v of [weak, strong]) {
      expect(v.outputs.filter((o) => o.changeVerified)).toHaveLength(1);
      expect(v.sending).toBe(10_000_000);
    }
    expect(strong.inputsOfWallet).toBe(true);
    expect(inspectPsbt(tx, net, { wallet: attacker.deriver }).inputsOfWallet).toBe(false);
  });

  it("forged change (our fingerprints and paths, the attacker's keys) is caught with the descriptor", () => {
    const real = ours.deriver.derive(3, 1);
    const fake = attacker.deriver.derive(3, 1);
    const forgedChange = {
      ...fake,
      // relabel the attacker's keys with our cosigners' fingerprints and paths
      bip32: fake.bip32.map((k, i) => ({
        ...k,
        fingerprint: real.bip32[i]!.fingerprint,
        path: real.bip32[i]!.path,
      })),
    };
    const b = buildWithdrawal({
      utxos,
      payees,
      change: forgedChange,
      feeRate: 2,
      threshold: 2,
      cosigners: 3,
      net,
    });
    const tx = decodePsbt(b.psbt);
    const weak = inspectPsbt(tx, net);
    expect(weak.outputs.find((o) => o.change)!.changeVerified).toBe(true); // the heuristic is fooled
    const strong = inspectPsbt(tx, net, { wallet: ours.deriver });
    const change = strong.outputs.find((o) => o.change)!;
    expect(change.changeVerified).toBe(false);
    expect(change.note).toMatch(/descriptor does not derive/);
    expect(strong.sending).toBe(b.inputs.reduce((s, i) => s + i.value, 0) - b.fee);
    // signing still works mechanically: the guard is in `psbt sign`, which refuses unverified change
    expect(signPsbt(decodePsbt(b.psbt), ours.keys[0]!.master)).toBe(b.inputs.length);
  });
});
