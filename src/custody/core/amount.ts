/**
 * BTC amounts as exact integers (satoshi, bigint): parsing "0.1" and printing 10000000n back.
 * Never floats. Not a fiat converter.
 */
import { MamoriError } from '../../shared/errors.js';

export const SAT_PER_BTC = 100_000_000n;

/**
 * Parse a decimal BTC amount; more than 8 decimals, signs or junk are E_INPUT.
 * @example parseBtc('0.00010000') // 10000n
 */
export function parseBtc(text: string): bigint {
  const m = /^(\d{1,8})(?:\.(\d{1,}))?$/.exec(text.trim());
  if (!m) {
    throw new MamoriError('E_INPUT', `not a BTC amount: "${text}"`, {
      hint: 'write a positive decimal such as 0.015',
    });
  }
  const frac = m[2] ?? '';
  if (frac.length > 8) {
    throw new MamoriError('E_INPUT', `amount has more than 8 decimals: "${text}"`, {
      hint: 'one satoshi is 0.00000001 BTC',
    });
  }
  return BigInt(m[1]!) * SAT_PER_BTC + BigInt(frac.padEnd(8, '0'));
}

/** @example formatBtc(10000n) // '0.00010000' */
export function formatBtc(sats: bigint): string {
  const neg = sats < 0n;
  const v = neg ? -sats : sats;
  const s = `${v / SAT_PER_BTC}.${(v % SAT_PER_BTC).toString().padStart(8, '0')}`;
  return neg ? `-${s}` : s;
}
