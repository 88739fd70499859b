/**
 * BIP380 output descriptor checksums (the 8-character `#…` suffix). This is an error-detecting
 * code over the descriptor text, not cryptography. Not a descriptor parser: see descriptor.ts.
 */

const INPUT_CHARSET =
  '0123456789()[],\'/*abcdefgh@:$%{}IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~ijklmnopqrstuvwxyzABCDEFGH`#"\\ ';
const CHECKSUM_CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATOR = [0xf5dee51989n, 0xa9fdca3312n, 0x1bab10e32dn, 0x3706b1677an, 0x644d626ffdn];

function polymod(c: bigint, val: number): bigint {
  const c0 = c >> 35n;
  let out = ((c & 0x7ffffffffn) << 5n) ^ BigInt(val);
  for (let i = 0; i < 5; i++) if ((c0 >> BigInt(i)) & 1n) out ^= GENERATOR[i]!;
  return out;
}

/**
 * The checksum of a descriptor without its `#` part; undefined if a character is not allowed.
 * @example descriptorChecksum('raw(deadbeef)') // '89f8spxm'
 */
export function descriptorChecksum(desc: string): string | undefined {
  let c = 1n;
  let cls = 0;
  let clscount = 0;
  for (const ch of desc) {
    const pos = INPUT_CHARSET.indexOf(ch);
    if (pos < 0) return undefined;
    c = polymod(c, pos & 31);
    cls = cls * 3 + (pos >> 5);
    if (++clscount === 3) {
      c = polymod(c, cls);
      cls = 0;
      clscount = 0;
    }
  }
  if (clscount > 0) c = polymod(c, cls);
  for (let j = 0; j < 8; j++) c = polymod(c, 0);
  c ^= 1n;
  let out = '';
  for (let j = 0; j < 8; j++) out += CHECKSUM_CHARSET[Number((c >> BigInt(5 * (7 - j))) & 31n)];
  return out;
}

/** `desc#checksum`. @example withChecksum('raw(deadbeef)') // 'raw(deadbeef)#89f8spxm' */
export function withChecksum(desc: string): string {
  const sum = descriptorChecksum(desc);
  if (sum === undefined) throw new Error('descriptor has characters outside the BIP380 set');
  return `${desc}#${sum}`;
}
