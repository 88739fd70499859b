/**
 * Pure parser for Bitcoin Core block files (`blk*.dat`: network magic, 4-byte length, a
 * serialized block, repeated) and for raw transactions in legacy and segwit serialization.
 * Not a validator: no script or proof-of-work checks, only structure. Fields are decoded by
 * @scure/btc-signer's `RawTx`; hashes come from @noble/hashes. No IO here: bytes in, blocks out.
 */

import { sha256 } from '@noble/hashes/sha2.js';
import { hex } from '@scure/base';
import { Address, OutScript, RawTx } from '@scure/btc-signer';
import { MamoriError } from '../../shared/errors.js';

/** Network magic bytes as they appear in the file. */
export const MAGIC = {
  mainnet: Uint8Array.of(0xf9, 0xbe, 0xb4, 0xd9),
  testnet: Uint8Array.of(0x0b, 0x11, 0x09, 0x07),
  regtest: Uint8Array.of(0xfa, 0xbf, 0xb5, 0xda),
  signet: Uint8Array.of(0x0a, 0x03, 0xcf, 0x40),
} as const;

export type ChainName = keyof typeof MAGIC;

const ADDRESS_NETWORKS = {
  mainnet: { bech32: 'bc', pubKeyHash: 0x00, scriptHash: 0x05, wif: 0x80 },
  testnet: { bech32: 'tb', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef },
  signet: { bech32: 'tb', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef },
  regtest: { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef },
} as const;

export interface OutPointRef {
  txid: string;
  vout: number;
}

export interface ParsedInput {
  /** Null for a coinbase input. */
  prevout: OutPointRef | null;
}

export interface ParsedOutput {
  /** Satoshi. A JS number is exact: 21e14 < 2^53. */
  value: number;
  scriptHex: string;
  /** Address on the block file's network, or null (P2PK, bare multisig, OP_RETURN, unknown). */
  address: string | null;
  /** False for provably unspendable scripts (OP_RETURN): taint that lands there is burned. */
  spendable: boolean;
}

export interface ParsedTx {
  txid: string;
  coinbase: boolean;
  segwit: boolean;
  inputs: ParsedInput[];
  outputs: ParsedOutput[];
}

export interface ParsedBlock {
  hash: string;
  prevHash: string;
  /** Header time as ISO-8601 UTC. */
  time: string;
  txs: ParsedTx[];
  /** Byte offset of the block in its file (for error messages and progress). */
  offset: number;
}

/** Bitcoin's display order: double SHA-256, byte-reversed hex. */
export function hash256Hex(bytes: Uint8Array): string {
  const h = sha256(sha256(bytes));
  return hex.encode(h.reverse());
}

function bad(message: string, offset: number): MamoriError {
  return new MamoriError('E_INPUT', `${message} at byte ${offset}`, {
    hint: 'the block file is truncated or not a Bitcoin Core blk*.dat file',
    details: { offset },
  });
}

/** A cursor over bytes that throws E_INPUT instead of reading past the end. */
class Cursor {
  constructor(
    readonly bytes: Uint8Array,
    public pos: number,
    readonly end: number,
  ) {}
  need(n: number): void {
    if (this.pos + n > this.end) throw bad(`unexpected end of data (need ${n} bytes)`, this.pos);
  }
  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }
  u8(): number {
    this.need(1);
    return this.bytes[this.pos++]!;
  }
  u32(): number {
    this.need(4);
    const b = this.bytes;
    const p = this.pos;
    this.pos += 4;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
  }
  varint(): number {
    const first = this.u8();
    if (first < 0xfd) return first;
    if (first === 0xfd) {
      this.need(2);
      const v = this.bytes[this.pos]! | (this.bytes[this.pos + 1]! << 8);
      this.pos += 2;
      return v;
    }
    if (first === 0xfe) return this.u32();
    const lo = this.u32();
    const hi = this.u32();
    const v = hi * 2 ** 32 + lo;
    if (v > this.end) throw bad('impossible length', this.pos);
    return v;
  }
}

/**
 * Find where one transaction ends, and the byte ranges of its non-witness serialization
 * (what the txid hashes). Structure only; the fields are decoded by `RawTx`.
 */
function scanTx(c: Cursor): {
  start: number;
  end: number;
  ioStart: number;
  ioEnd: number;
  segwit: boolean;
} {
  const start = c.pos;
  c.skip(4);
  let segwit = false;
  let ioStart = c.pos;
  if (c.pos + 2 <= c.end && c.bytes[c.pos] === 0x00 && c.bytes[c.pos + 1] === 0x01) {
    segwit = true;
    c.skip(2);
    ioStart = c.pos;
  }
  const nIn = c.varint();
  for (let i = 0; i < nIn; i++) {
    c.skip(36);
    c.skip(c.varint());
    c.skip(4);
  }
  const nOut = c.varint();
  for (let i = 0; i < nOut; i++) {
    c.skip(8);
    c.skip(c.varint());
  }
  const ioEnd = c.pos;
  if (segwit) {
    for (let i = 0; i < nIn; i++) {
      const items = c.varint();
      for (let k = 0; k < items; k++) c.skip(c.varint());
    }
  }
  c.skip(4);
  return { start, end: c.pos, ioStart, ioEnd, segwit };
}

function addressOf(script: Uint8Array, chain: ChainName): string | null {
  try {
    const decoded = OutScript.decode(script);
    if (decoded.type === 'pk' || decoded.type === 'ms' || decoded.type === 'unknown') return null;
    return Address(ADDRESS_NETWORKS[chain]).encode(decoded);
  } catch {
    return null;
  }
}

const ZERO_TXID = '0'.repeat(64);

function decodeTx(
  raw: Uint8Array,
  txid: string,
  segwit: boolean,
  chain: ChainName,
  at: number,
): ParsedTx {
  let tx: ReturnType<typeof RawTx.decode>;
  try {
    tx = RawTx.decode(raw);
  } catch (cause) {
    throw new MamoriError('E_INPUT', `transaction ${txid} does not decode at byte ${at}`, {
      cause,
      details: { txid, offset: at },
    });
  }
  const inputs: ParsedInput[] = tx.inputs.map((input) => {
    const prevTxid = hex.encode(input.txid);
    const coinbase = prevTxid === ZERO_TXID && input.index === 0xffffffff;
    return { prevout: coinbase ? null : { txid: prevTxid, vout: input.index } };
  });
  const outputs: ParsedOutput[] = tx.outputs.map((o) => ({
    value: Number(o.amount),
    scriptHex: hex.encode(o.script),
    address: addressOf(o.script, chain),
    spendable: !(o.script.length > 0 && o.script[0] === 0x6a),
  }));
  return {
    txid,
    coinbase: inputs.length === 1 && inputs[0]!.prevout === null,
    segwit,
    inputs,
    outputs,
  };
}

/** Parse one raw transaction (hex or bytes), legacy or segwit. @example parseRawTx('0200…') */
export function parseRawTx(raw: Uint8Array | string, chain: ChainName = 'mainnet'): ParsedTx {
  const bytes = typeof raw === 'string' ? hexBytes(raw) : raw;
  const c = new Cursor(bytes, 0, bytes.length);
  const r = scanTx(c);
  if (r.end !== bytes.length) throw bad('trailing bytes after the transaction', r.end);
  const txid = txidOf(bytes, r);
  return decodeTx(bytes, txid, r.segwit, chain, 0);
}

function hexBytes(s: string): Uint8Array {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(s)) throw new MamoriError('E_INPUT', 'not hex');
  return hex.decode(s.toLowerCase());
}

function txidOf(
  bytes: Uint8Array,
  r: { start: number; end: number; ioStart: number; ioEnd: number; segwit: boolean },
): string {
  if (!r.segwit) return hash256Hex(bytes.subarray(r.start, r.end));
  const ioLen = r.ioEnd - r.ioStart;
  const legacy = new Uint8Array(4 + ioLen + 4);
  legacy.set(bytes.subarray(r.start, r.start + 4), 0);
  legacy.set(bytes.subarray(r.ioStart, r.ioEnd), 4);
  legacy.set(bytes.subarray(r.end - 4, r.end), 4 + ioLen);
  return hash256Hex(legacy);
}

/** Parse one serialized block (header and transactions). */
export function parseBlock(
  bytes: Uint8Array,
  chain: ChainName,
  offset = 0,
  end = bytes.length,
): ParsedBlock {
  const c = new Cursor(bytes, offset, end);
  c.need(80);
  const header = bytes.subarray(offset, offset + 80);
  const hash = hash256Hex(header);
  const prevHash = hex.encode(header.slice(4, 36).reverse());
  const t = header[68]! | (header[69]! << 8) | (header[70]! << 16) | (header[71]! << 24);
  c.skip(80);
  const n = c.varint();
  const txs: ParsedTx[] = [];
  for (let i = 0; i < n; i++) {
    const r = scanTx(c);
    const txid = txidOf(bytes, r);
    txs.push(decodeTx(bytes.subarray(r.start, r.end), txid, r.segwit, chain, r.start));
  }
  if (c.pos !== end) throw bad('block length does not match its transactions', c.pos);
  if (txs.length === 0 || !txs[0]!.coinbase) throw bad('block without a coinbase', offset);
  return { hash, prevHash, time: new Date((t >>> 0) * 1000).toISOString(), txs, offset };
}

/**
 * Parse a whole blk*.dat file. Zero padding at the end (Core preallocates) is ignored; a wrong
 * magic or a truncated record is an E_INPUT error with the byte offset, so nothing half-read
 * is ever returned.
 * @example const blocks = parseBlockFile(readFileSync('blk00000.dat'));
 */
export function parseBlockFile(
  bytes: Uint8Array,
  chain?: ChainName,
): { chain: ChainName; blocks: ParsedBlock[] } {
  let net: ChainName | undefined = chain;
  const blocks: ParsedBlock[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    if (bytes[pos] === 0 && bytes.subarray(pos).every((b) => b === 0)) break;
    if (pos + 8 > bytes.length) throw bad('truncated record header', pos);
    const magic = bytes.subarray(pos, pos + 4);
    const found = (Object.keys(MAGIC) as ChainName[]).find((k) =>
      MAGIC[k].every((b, i) => magic[i] === b),
    );
    if (!found || (net && found !== net))
      throw new MamoriError('E_INPUT', `wrong magic bytes ${hex.encode(magic)} at byte ${pos}`, {
        hint: net
          ? `expected the ${net} magic ${hex.encode(MAGIC[net])}`
          : 'not a Bitcoin Core blk*.dat file',
        details: { offset: pos },
      });
    net = found;
    const len =
      (bytes[pos + 4]! |
        (bytes[pos + 5]! << 8) |
        (bytes[pos + 6]! << 16) |
        (bytes[pos + 7]! << 24)) >>>
      0;
    const start = pos + 8;
    if (start + len > bytes.length) throw bad(`truncated block (declared ${len} bytes)`, pos);
    blocks.push(parseBlock(bytes, found, start, start + len));
    pos = start + len;
  }
  if (!net) throw new MamoriError('E_INPUT', 'empty block file', { hint: 'no blocks found' });
  return { chain: net, blocks };
}
