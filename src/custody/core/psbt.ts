/**
 * PSBT (BIP174) for our P2WSH multisig wallets on top of @scure/btc-signer: build one batched
 * withdrawal (coin selection, change back to the wallet, fee rate), describe what is being
 * signed (outputs, amounts, fee, change verified to belong to the same cosigners), sign with a
 * cosigner's master key, count valid signatures, finalize only with M of them, combine.
 * Pure: no store, no network — `psbt sign` runs on an air-gapped machine.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import type { HDKey } from '@scure/bip32';
import { Address, OutScript, p2wsh, Script, SigHash, Transaction } from '@scure/btc-signer';
import { MamoriError } from '../../shared/errors.js';
import { formatBtc } from './amount.js';
import { bytesToHex, compareBytes, type DerivedAddress, type Deriver } from './descriptor.js';
import { fingerprintHex } from './keys.js';
import type { NetworkInfo } from './network.js';

export interface Utxo {
  txid: string;
  vout: number;
  value: number;
  /** The derived address data (scripts, bip32 paths) of the output. */
  derived: DerivedAddress;
}

export interface Payee {
  address: string;
  amount: number;
}

export interface BuildInput {
  utxos: Utxo[];
  payees: Payee[];
  change: DerivedAddress;
  /** sat/vB */
  feeRate: number;
  threshold: number;
  cosigners: number;
  net: NetworkInfo;
}

export interface Built {
  psbt: Uint8Array;
  txid: string;
  fee: number;
  change: number;
  inputs: { txid: string; vout: number; value: number }[];
  vsize: number;
}

const DUST = 546;

/** Virtual size of one P2WSH M-of-N input, signed. */
export function wshMultisigInputVbytes(m: number, n: number): number {
  const witness = 1 + 1 + m * 73 + 1 + 3 + 34 * n;
  return 41 + Math.ceil(witness / 4);
}

function outputVbytes(script: Uint8Array): number {
  return 8 + 1 + script.length;
}

/**
 * Build a PSBT paying `payees`, largest coins first, change back to `change`.
 * @example buildWithdrawal({ utxos, payees: [{ address, amount: 10_000 }], change, feeRate: 2, threshold: 2, cosigners: 3, net })
 */
export function buildWithdrawal(b: BuildInput): Built {
  if (!b.payees.length) throw new MamoriError('E_INPUT', 'nothing to pay');
  if (!(b.feeRate > 0) || b.feeRate > 10_000) {
    throw new MamoriError('E_INPUT', `fee rate ${b.feeRate} sat/vB is not sensible`);
  }
  const addr = Address(b.net.btc);
  const payeeScripts = b.payees.map((p) => {
    if (!Number.isSafeInteger(p.amount) || p.amount < DUST) {
      throw new MamoriError('E_INPUT', `amount ${p.amount} sat to ${p.address} is below dust`);
    }
    try {
      return OutScript.encode(addr.decode(p.address));
    } catch (e) {
      throw new MamoriError('E_INPUT', `not a ${b.net.name} address: "${p.address}"`, { cause: e });
    }
  });
  const want = b.payees.reduce((s, p) => s + p.amount, 0);
  const base = 11 + payeeScripts.reduce((s, sc) => s + outputVbytes(sc), 0);
  const changeVb = outputVbytes(b.change.script);
  const inVb = wshMultisigInputVbytes(b.threshold, b.cosigners);
  const coins = [...b.utxos].sort((x, y) => y.value - x.value || (x.txid < y.txid ? -1 : 1));
  const picked: Utxo[] = [];
  let have = 0;
  let fee = 0;
  let change = 0;
  let done = false;
  for (const c of coins) {
    picked.push(c);
    have += c.value;
    const vbNoChange = base + picked.length * inVb;
    const feeNoChange = Math.ceil(vbNoChange * b.feeRate);
    const feeChange = Math.ceil((vbNoChange + changeVb) * b.feeRate);
    if (have >= want + feeChange + DUST) {
      fee = feeChange;
      change = have - want - feeChange;
      done = true;
      break;
    }
    if (have >= want + feeNoChange) {
      fee = have - want; // the remainder below dust goes to the fee
      change = 0;
      done = true;
      break;
    }
  }
  if (!done) {
    throw new MamoriError(
      'E_INPUT',
      `insufficient funds: need ${formatBtc(BigInt(want))} BTC plus fee, have ${formatBtc(BigInt(have))}`,
      { details: { reason: 'insufficient-funds' } },
    );
  }
  const tx = new Transaction({ allowUnknownOutputs: false });
  for (const c of picked) {
    tx.addInput({
      txid: c.txid,
      index: c.vout,
      witnessUtxo: { script: c.derived.script, amount: BigInt(c.value) },
      witnessScript: c.derived.witnessScript,
      bip32Derivation: c.derived.bip32.map((k) => [
        k.pubkey,
        { fingerprint: k.fingerprint, path: k.path },
      ]),
      sequence: 0xfffffffd,
    });
  }
  b.payees.forEach((p, i) => {
    tx.addOutput({ script: payeeScripts[i]!, amount: BigInt(p.amount) });
  });
  if (change > 0) {
    tx.addOutput({
      script: b.change.script,
      amount: BigInt(change),
      witnessScript: b.change.witnessScript,
      bip32Derivation: b.change.bip32.map((k) => [
        k.pubkey,
        { fingerprint: k.fingerprint, path: k.path },
      ]),
    });
  }
  return {
    psbt: tx.toPSBT(0),
    txid: tx.id,
    fee,
    change,
    inputs: picked.map((c) => ({ txid: c.txid, vout: c.vout, value: c.value })),
    vsize: base + picked.length * inVb + (change > 0 ? changeVb : 0),
  };
}

export function decodePsbt(data: Uint8Array | string): Transaction {
  let bytes: Uint8Array;
  if (typeof data === 'string') {
    const t = data.trim();
    try {
      bytes = /^[0-9a-fA-F]+$/.test(t)
        ? Uint8Array.from(t.match(/../g)!.map((h) => Number.parseInt(h, 16)))
        : Uint8Array.from(atob(t), (c) => c.charCodeAt(0));
    } catch (e) {
      throw new MamoriError('E_INPUT', 'not a PSBT: neither base64 nor hex', { cause: e });
    }
  } else bytes = data;
  try {
    return Transaction.fromPSBT(bytes, {
      allowUnknownOutputs: true,
      allowUnknownInputs: true,
      disableScriptCheck: true,
      // BIP174: a signer or combiner keeps the fields it does not know (and our evidence field)
      unknown: 'ignore',
    });
  } catch (e) {
    throw new MamoriError('E_INPUT', `not a valid PSBT: ${(e as Error).message}`, { cause: e });
  }
}

export function encodePsbt(tx: Transaction): string {
  const b = tx.toPSBT();
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
}

function multisigOf(ws: Uint8Array | undefined): { m: number; pubkeys: Uint8Array[] } | undefined {
  if (!ws) return undefined;
  // The shape m <key>… n CHECKMULTISIG, read without putting each key on the curve (a square
  // root each): whether a key is the wallet's is decided by deriving it from the descriptor.
  try {
    const ops = Script.decode(ws);
    if (ops.length < 4 || ops[ops.length - 1] !== 'CHECKMULTISIG') return undefined;
    // OP_1…OP_16 decode as numbers; 17–20 (P2WSH allows 20 keys) are one-byte pushes.
    const num = (o: (typeof ops)[number] | undefined) =>
      typeof o === 'number' ? o : o instanceof Uint8Array && o.length === 1 ? o[0]! : undefined;
    const [m, n] = [num(ops[0]), num(ops[ops.length - 2])];
    const pubkeys = ops.slice(1, -2);
    if (m === undefined || n === undefined || m < 1 || m > n) return undefined;
    if (pubkeys.length !== n) return undefined;
    if (!pubkeys.every((o): o is Uint8Array => o instanceof Uint8Array && o.length === 33)) {
      return undefined;
    }
    return { m, pubkeys };
  } catch {
    return undefined;
  }
}

export interface InputView {
  outpoint: string;
  value: number;
  threshold: number | undefined;
  cosigners: number | undefined;
  signatures: number;
  validSignatures: number;
  signedBy: string[];
  final: boolean;
}

export interface OutputView {
  index: number;
  address: string | undefined;
  amount: number;
  /** The output pays back to the same cosigner set and threshold as the inputs. */
  change: boolean;
  changeVerified: boolean;
  note?: string;
}

export interface PsbtView {
  txid: string;
  inputs: InputView[];
  outputs: OutputView[];
  inputTotal: number;
  outputTotal: number;
  fee: number;
  feeRate: number;
  /** Total sent to addresses that are not verified change. */
  sending: number;
  /** With a wallet descriptor: every input is the wallet's own script. */
  inputsOfWallet?: boolean;
  complete: boolean;
}

/** Count signatures that really verify against the BIP143 sighash. */
function validSigners(tx: Transaction, idx: number): { valid: string[]; all: number } {
  const inp = tx.getInput(idx);
  const sigs = inp.partialSig ?? [];
  const ws = inp.witnessScript;
  const wu = inp.witnessUtxo;
  if (!ws || !wu) return { valid: [], all: sigs.length };
  const valid: string[] = [];
  const preimage = (
    tx as unknown as {
      preimageWitnessV0(i: number, s: Uint8Array, h: number, a: bigint): Uint8Array;
    }
  ).preimageWitnessV0.bind(tx);
  for (const [pub, sig] of sigs) {
    const hashType = sig[sig.length - 1]!;
    try {
      const msg = preimage(idx, ws, hashType, wu.amount);
      if (
        secp256k1.verify(sig.subarray(0, -1), msg, pub, {
          prehash: false,
          format: 'der',
          lowS: false,
        })
      )
        valid.push(bytesToHex(pub));
    } catch {
      // an unparsable signature is not valid
    }
  }
  return { valid, all: sigs.length };
}

/**
 * The coin type the PSBT's key paths name (BIP44/48/84/86: m/purpose'/coin'/…): 0 for Bitcoin,
 * 1 for every test network (testnet, signet and regtest alike), undefined when the PSBT carries
 * no paths or they disagree.
 * @example coinTypeOf(decodePsbt(text)) === 1
 */
export function coinTypeOf(tx: Transaction): 0 | 1 | undefined {
  const seen = new Set<number>();
  for (let i = 0; i < tx.inputsLength; i++)
    for (const [, d] of tx.getInput(i).bip32Derivation ?? []) {
      const coin = d.path[1];
      if (coin !== undefined) seen.add(coin - 0x80000000);
    }
  if (seen.size !== 1) return undefined;
  const [coin] = [...seen];
  return coin === 0 || coin === 1 ? coin : undefined;
}

/**
 * Describe a PSBT: what it spends, where the money goes, the fee, and which output is change.
 * @example inspectPsbt(decodePsbt(text), network('regtest')).fee
 */
export function inspectPsbt(
  tx: Transaction,
  net: NetworkInfo,
  opts: { wallet?: Deriver } = {},
): PsbtView {
  /** With the wallet's descriptor: the script at the (branch, index) an entry's path ends in. */
  const walletScriptAt = (path: number[] | undefined) => {
    if (!opts.wallet || !path || path.length < 2) return undefined;
    const [branch, index] = path.slice(-2) as [number, number];
    if (branch > 1 || index >= 0x80000000) return undefined;
    try {
      return bytesToHex(opts.wallet.derive(index, branch).script);
    } catch {
      return undefined;
    }
  };
  const inputs: InputView[] = [];
  let inputTotal = 0;
  let cosignerSet: string | undefined;
  let threshold: number | undefined;
  let mixed = false;
  for (let i = 0; i < tx.inputsLength; i++) {
    const inp = tx.getInput(i);
    const value = inp.witnessUtxo ? Number(inp.witnessUtxo.amount) : 0;
    inputTotal += value;
    const ms = multisigOf(inp.witnessScript);
    const fps = (inp.bip32Derivation ?? [])
      .map(([, d]) => fingerprintHex(d.fingerprint))
      .sort()
      .join(',');
    if (ms) {
      if (cosignerSet === undefined) {
        cosignerSet = fps;
        threshold = ms.m;
      } else if (cosignerSet !== fps || threshold !== ms.m) mixed = true;
    }
    const { valid, all } = validSigners(tx, i);
    inputs.push({
      outpoint: `${bytesToHex(inp.txid!)}:${inp.index}`,
      value,
      threshold: ms?.m,
      cosigners: ms?.pubkeys.length,
      signatures: all,
      validSignatures: valid.length,
      signedBy: (inp.bip32Derivation ?? [])
        .filter(([pk]) => valid.includes(bytesToHex(pk)))
        .map(([, d]) => fingerprintHex(d.fingerprint)),
      final: Boolean(inp.finalScriptWitness?.length),
    });
  }
  const outputs: OutputView[] = [];
  let outputTotal = 0;
  let sending = 0;
  for (let i = 0; i < tx.outputsLength; i++) {
    const o = tx.getOutput(i);
    const amount = Number(o.amount ?? 0n);
    outputTotal += amount;
    let address: string | undefined;
    try {
      address = Address(net.btc).encode(OutScript.decode(o.script!));
    } catch {
      address = undefined;
    }
    let change = false;
    let changeVerified = false;
    let note: string | undefined;
    if (o.witnessScript && o.bip32Derivation?.length) {
      change = true;
      const ms = multisigOf(o.witnessScript);
      const fps = o.bip32Derivation
        .map(([, d]) => fingerprintHex(d.fingerprint))
        .sort()
        .join(',');
      const derivedPubs = o.bip32Derivation.map(([pk]) => pk).sort(compareBytes);
      const scriptOk =
        !opts.wallet &&
        ms !== undefined &&
        bytesToHex(p2wsh({ type: 'ms', script: o.witnessScript }, net.btc).script) ===
          bytesToHex(o.script!) &&
        ms.pubkeys.length === derivedPubs.length &&
        ms.pubkeys.every((p) => derivedPubs.some((q) => compareBytes(p, q) === 0));
      changeVerified = Boolean(scriptOk && !mixed && fps === cosignerSet && ms?.m === threshold);
      if (opts.wallet) {
        // The strong check: the wallet's own descriptor derives exactly this script.
        changeVerified = walletScriptAt(o.bip32Derivation[0]?.[1].path) === bytesToHex(o.script!);
      }
      if (!changeVerified)
        note = opts.wallet
          ? 'claims to be change but the wallet descriptor does not derive this script'
          : "claims to be change but does not match the inputs' cosigners and threshold";
    }
    if (!changeVerified) sending += amount;
    outputs.push({ index: i, address, amount, change, changeVerified, ...(note ? { note } : {}) });
  }
  const inputsOfWallet = opts.wallet
    ? Array.from({ length: tx.inputsLength }, (_, i) => tx.getInput(i)).every(
        (inp) =>
          inp.witnessUtxo !== undefined &&
          walletScriptAt(inp.bip32Derivation?.[0]?.[1].path) === bytesToHex(inp.witnessUtxo.script),
      )
    : undefined;
  const fee = inputTotal - outputTotal;
  const vsize =
    tx.inputsLength * wshMultisigInputVbytes(threshold ?? 2, inputs[0]?.cosigners ?? 3) +
    11 +
    outputs.reduce((s, _o, i) => s + outputVbytes(tx.getOutput(i).script!), 0);
  return {
    txid: tx.id,
    inputs,
    outputs,
    inputTotal,
    outputTotal,
    fee,
    feeRate: Math.round((fee / vsize) * 100) / 100,
    sending,
    ...(inputsOfWallet === undefined ? {} : { inputsOfWallet }),
    complete: inputs.every(
      (x) => x.final || (x.threshold !== undefined && x.validSignatures >= x.threshold),
    ),
  };
}

/**
 * Sign every input where the master key is a cosigner (matched by fingerprint and path, then
 * by public key). A key that is a cosigner of no input is E_INPUT and nothing is signed.
 * @example signPsbt(tx, master) // number of inputs signed
 */
export function signPsbt(tx: Transaction, master: HDKey): number {
  const fp = master.fingerprint;
  // Inputs of one wallet share the account path: derive each prefix once.
  const cache = new Map<string, HDKey>();
  const derive = (path: number[]): HDKey => {
    let k = master;
    for (let i = 0; i < path.length; i++) {
      const id = path.slice(0, i + 1).join('/');
      let next = cache.get(id);
      if (!next) {
        next = k.deriveChild(path[i]!);
        cache.set(id, next);
      }
      k = next;
    }
    return k;
  };
  const plan: { idx: number; key: HDKey }[] = [];
  try {
    for (let i = 0; i < tx.inputsLength; i++) {
      const inp = tx.getInput(i);
      for (const [pk, d] of inp.bip32Derivation ?? []) {
        if (d.fingerprint !== fp) continue;
        const k = derive(d.path);
        if (k.publicKey && compareBytes(k.publicKey, pk) === 0) plan.push({ idx: i, key: k });
      }
    }
    if (!plan.length) {
      throw new MamoriError(
        'E_INPUT',
        'this key belongs to no cosigner of this PSBT: nothing signed',
        {
          hint: `key fingerprint ${fingerprintHex(fp)} is not in any input's derivation paths`,
        },
      );
    }
    let signed = 0;
    for (const p of plan) if (tx.signIdx(p.key.privateKey!, p.idx, [SigHash.ALL])) signed++;
    return signed;
  } finally {
    for (const k of cache.values()) k.wipePrivateData();
  }
}

/**
 * Finalize all inputs; refuses (E_AUTH) when any input has fewer than M valid signatures.
 * @example finalizePsbt(tx); bytesToHex(tx.extract())
 */
export function finalizePsbt(tx: Transaction): void {
  for (let i = 0; i < tx.inputsLength; i++) {
    const inp = tx.getInput(i);
    if (inp.finalScriptWitness?.length || inp.finalScriptSig?.length) continue;
    const ms = multisigOf(inp.witnessScript);
    if (!ms) throw new MamoriError('E_UNSUPPORTED', `input ${i} is not a P2WSH multisig input`);
    const { valid } = validSigners(tx, i);
    if (valid.length < ms.m) {
      throw new MamoriError(
        'E_AUTH',
        `input ${i} has ${valid.length} valid signature(s); ${ms.m} of ${ms.pubkeys.length} are required`,
        {
          hint: 'collect more cosigner signatures (psbt sign, then psbt combine)',
        },
      );
    }
    // Keep only valid signatures so an invalid one cannot make the final witness fail.
    const sigs = (inp.partialSig ?? []).filter(([pk]) => valid.includes(bytesToHex(pk)));
    tx.updateInput(i, { partialSig: sigs }, true);
    tx.finalizeIdx(i);
  }
}

/** Combine PSBTs of the same unsigned transaction. */
export function combinePsbts(txs: Transaction[]): Transaction {
  const [first, ...rest] = txs;
  if (!first) throw new MamoriError('E_INPUT', 'nothing to combine');
  const out = first.clone();
  for (const t of rest) {
    if (t.id !== out.id) {
      throw new MamoriError(
        'E_INPUT',
        `PSBTs are for different transactions (${out.id} vs ${t.id})`,
      );
    }
    out.combine(t);
  }
  return out;
}
