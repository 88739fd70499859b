/**
 * Which coins a withdrawal may spend: a coinbase only once it is mature (100 confirmations, the
 * consensus rule — a spend before that is `bad-txns-premature-spend-of-coinbase`), a deposit
 * from a third party only with `minConf` confirmations, our own change at once (it is our own
 * transaction; Bitcoin Core's `-spendzeroconfchange` does the same). Pure: the tip and the coins
 * come in. Not the coin selection itself: see `psbt.ts`.
 */

/** Consensus: a coinbase output may be spent in a block 100 blocks after its own. */
export const COINBASE_MATURITY = 100;

/**
 * Confirmations third-party deposits need before they are spent, as Bitcoin Core's coin
 * selection requires of coins it did not send itself (at least 1).
 */
export const DEFAULT_MIN_CONF = 1;

export interface CoinState {
  /** Block height, null while in the mempool. */
  height: number | null;
  /** 1 a coinbase, 0 not, null not known (recorded before Mamori kept it): treated as coinbase. */
  coinbase: number | null;
  /** The transaction that made it spent one of our own coins (our change). */
  own: boolean;
}

/** Confirmations of a coin at a tip height (0 in the mempool). */
export function confirmations(height: number | null, tip: number): number {
  return height === null || height > tip ? 0 : tip - height + 1;
}

/**
 * Why a coin may not be spent yet, or undefined when it may.
 * @example notSpendable({ height: 500, coinbase: 1, own: false }, 540, 1) // 'immature coinbase…'
 */
export function notSpendable(c: CoinState, tip: number, minConf: number): string | undefined {
  const conf = confirmations(c.height, tip);
  if (c.coinbase !== 0 && conf < COINBASE_MATURITY) {
    return `${c.coinbase === null ? 'possibly a coinbase (recorded before Mamori noted it)' : 'immature coinbase'}: ${conf} of ${COINBASE_MATURITY} confirmations`;
  }
  if (!c.own && conf < minConf) return `deposit with ${conf} of ${minConf} confirmations`;
  return undefined;
}
