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

/**
 * A batch payout list: CSV lines `address,amount` (BTC, as `parseBtc`; `#` comments and blank
 * lines skipped, an optional `address,amount` header), or a JSON object `{address: amount}` as
 * Bitcoin Core's `sendmany` takes. A bad line is E_INPUT naming it.
 * @example parsePayees('bcrt1q…,0.5\nbcrt1q…,0.25') // [{ address, amount: 50000000n }, …]
 */
export function parsePayees(text: string): { address: string; amount: bigint }[] {
  const body = text.trim();
  if (body.startsWith('{')) {
    let doc: unknown;
    try {
      doc = JSON.parse(body);
    } catch (e) {
      throw new MamoriError('E_INPUT', 'the payee list is not valid JSON', { cause: e });
    }
    return Object.entries(doc as Record<string, unknown>).map(([address, v]) => {
      if (typeof v !== 'string' && typeof v !== 'number') {
        throw new MamoriError('E_INPUT', `payee ${address}: the amount is not a number`);
      }
      // a JSON number as written (0.123456789 is refused, not rounded); 1e-8 as 0.00000001
      const t = String(v);
      return {
        address,
        amount: parseBtc(typeof v === 'number' && /e/i.test(t) ? v.toFixed(8) : t),
      };
    });
  }
  const out: { address: string; amount: bigint }[] = [];
  for (const [n, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const cells = line.split(',').map((c) => c.trim());
    if (out.length === 0 && /^address$/i.test(cells[0] ?? '')) continue;
    if (cells.length !== 2 || !cells[0]) {
      throw new MamoriError('E_INPUT', `payee line ${n + 1} is not "address,amount": ${line}`);
    }
    try {
      out.push({ address: cells[0], amount: parseBtc(cells[1]!) });
    } catch (e) {
      throw new MamoriError('E_INPUT', `payee line ${n + 1}: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }
  return out;
}
