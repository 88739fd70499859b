/**
 * The Bitcoin networks custody knows (mainnet, testnet, regtest): address prefixes, BIP32
 * version bytes and the BIP44 coin type. Not a chain adapter: see `../chain/`.
 */
import { NETWORK, TEST_NETWORK } from '@scure/btc-signer';
import { MamoriError } from '../../shared/errors.js';

export type NetworkName = 'mainnet' | 'testnet' | 'regtest';

export interface BtcNetwork {
  bech32: string;
  pubKeyHash: number;
  scriptHash: number;
  wif: number;
}

export interface NetworkInfo {
  name: NetworkName;
  btc: BtcNetwork;
  /** BIP32 extended key versions (xpub/xprv or tpub/tprv). */
  bip32: { public: number; private: number };
  /** BIP44 coin type: 0 on mainnet, 1 on every test network. */
  coinType: number;
}

const MAIN_BIP32 = { public: 0x0488b21e, private: 0x0488ade4 };
const TEST_BIP32 = { public: 0x043587cf, private: 0x04358394 };

export const NETWORKS: Record<NetworkName, NetworkInfo> = {
  mainnet: { name: 'mainnet', btc: NETWORK, bip32: MAIN_BIP32, coinType: 0 },
  testnet: { name: 'testnet', btc: TEST_NETWORK, bip32: TEST_BIP32, coinType: 1 },
  regtest: {
    name: 'regtest',
    btc: { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef },
    bip32: TEST_BIP32,
    coinType: 1,
  },
};

/** @example network('regtest').btc.bech32 // 'bcrt' */
export function network(name: string | undefined): NetworkInfo {
  const n = (name ?? 'mainnet') as NetworkName;
  const info = NETWORKS[n];
  if (!info) {
    throw new MamoriError('E_INPUT', `unknown network "${name}"`, {
      hint: 'use mainnet, testnet or regtest',
    });
  }
  return info;
}
