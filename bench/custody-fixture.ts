/**
 * Shared fixture of the custody benchmarks: three deterministic cosigners (fixed entropy, so
 * runs are comparable), a 2-of-3 regtest descriptor in Mamori's and in single-path form for
 * @bitcoinerlab/descriptors, and the master seeds. Not a benchmark itself.
 */
import { HDKey } from '@scure/bip32';
import { mnemonicToSeedSync } from '@scure/bip39';
import { formatDescriptor, parseMultisigDescriptor } from '../src/custody/core/descriptor.js';
import { cosignerPublic, mnemonicFromEntropy } from '../src/custody/core/keys.js';
import { network } from '../src/custody/core/network.js';

export const net = network('regtest');

export function cosigners(n = 3) {
  return Array.from({ length: n }, (_, i) => {
    const mnemonic = mnemonicFromEntropy(new Uint8Array(32).fill(i + 1));
    const seed = mnemonicToSeedSync(mnemonic);
    const master = HDKey.fromMasterSeed(seed, net.bip32);
    return { mnemonic, seed, master, pub: cosignerPublic(master, net) };
  });
}

export function wallet(m = 2, n = 3) {
  const keys = cosigners(n);
  const text = `wsh(sortedmulti(${m},${keys.map((k) => `${k.pub.originXpub}/<0;1>/*`).join(',')}))`;
  const desc = parseMultisigDescriptor(text);
  return {
    keys,
    desc,
    multipath: formatDescriptor(desc),
    receive: formatDescriptor(desc, 0),
    change: formatDescriptor(desc, 1),
  };
}
