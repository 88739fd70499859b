/**
 * The evidence inside the PSBT (BIP174 global proprietary field "mamori", subtype 1): it round
 * trips, replaces an older one, leaves other tools' proprietary fields alone, survives a signer,
 * and refuses a value that is not JSON. And Mamori keeps fields it does not know, as BIP174 asks
 * of signers and combiners: Bitcoin Core's valid PSBTv0 vectors, unknown and proprietary keys
 * included, re-encode byte for byte.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { net, wallet } from '../../bench/custody-fixture.js';
import { makeDeriver } from '../../src/custody/core/descriptor.js';
import {
  EVIDENCE_KEY,
  embeddedEvidence,
  embedEvidence,
} from '../../src/custody/core/evidence-field.js';
import { buildWithdrawal, decodePsbt, encodePsbt, signPsbt } from '../../src/custody/core/psbt.js';
import { vector } from '../helpers/vectors.js';

type G = { global: { proprietary?: [Uint8Array, Uint8Array][] } };
const props = (tx: unknown) => (tx as G).global.proprietary ?? [];

function psbtOfFixture() {
  const w = wallet();
  const d = makeDeriver(w.desc, net);
  const built = buildWithdrawal({
    utxos: [{ txid: '11'.repeat(32), vout: 0, value: 1_000_000, derived: d.derive(0, 0) }],
    payees: [{ address: d.derive(9, 0).address, amount: 10_000 }],
    change: d.derive(0, 1),
    feeRate: 2,
    threshold: 2,
    cosigners: 3,
    net,
  });
  return { w, psbt: encodePsbt(decodePsbt(built.psbt)) };
}

describe('evidence in the PSBT', () => {
  it('round trips through encoding and a signer, replaces, and keeps other proprietary fields', () => {
    const { w, psbt } = psbtOfFixture();
    const tx = decodePsbt(psbt);
    expect(embeddedEvidence(tx)).toBeUndefined();
    const theirs: [Uint8Array, Uint8Array] = [
      new Uint8Array([5, ...new TextEncoder().encode('other'), 7]),
      new Uint8Array([1, 2, 3]),
    ];
    (tx as unknown as G).global.proprietary = [theirs];
    embedEvidence(tx, { format: 'x', n: 1 });
    embedEvidence(tx, { format: 'x', n: 2 });
    const back = decodePsbt(encodePsbt(tx));
    expect(embeddedEvidence(back)).toEqual({ format: 'x', n: 2 });
    expect(props(back)).toHaveLength(2);
    expect(signPsbt(back, w.keys[1]!.master)).toBe(1);
    const signed = decodePsbt(encodePsbt(back));
    expect(embeddedEvidence(signed)).toEqual({ format: 'x', n: 2 });
    expect(props(signed).some(([k]) => k[1] === 'o'.charCodeAt(0))).toBe(true);
  });

  it('a value that is not JSON is evidence-malformed', () => {
    const tx = decodePsbt(psbtOfFixture().psbt);
    (tx as unknown as G).global.proprietary = [[EVIDENCE_KEY, new Uint8Array([0x7b, 0xff])]];
    expect(() => embeddedEvidence(decodePsbt(encodePsbt(tx)))).toThrow(
      expect.objectContaining({
        details: expect.objectContaining({ reason: 'evidence-malformed' }),
      }),
    );
  });

  it("keeps unknown and proprietary fields: Core's PSBTv0 vectors re-encode byte for byte", () => {
    const doc = JSON.parse(readFileSync(vector('bitcoin/psbt/rpc_psbt.json'), 'utf8')) as {
      valid: string[];
    };
    // v0 without an explicit global version field (scure writes v2 and that field its own way)
    const v0 = doc.valid.filter((p) => !decodePsbtVersioned(p));
    expect(v0.length).toBeGreaterThanOrEqual(15);
    for (const p of v0) expect(encodePsbt(decodePsbt(p))).toBe(p);
  });
});

/** Whether the PSBT has a global version field (0xFB): a one-byte key 0xfb in the global map. */
function decodePsbtVersioned(b64: string): boolean {
  const b = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  let i = 5; // magic
  while (i < b.length && b[i] !== 0) {
    const [klen, kat] = compact(b, i);
    const keyType = b[kat];
    const [vlen, vat] = compact(b, kat + klen);
    if (keyType === 0xfb) return true;
    i = vat + vlen;
  }
  return false;
}

function compact(b: Uint8Array, i: number): [number, number] {
  const x = b[i]!;
  if (x < 0xfd) return [x, i + 1];
  if (x === 0xfd) return [b[i + 1]! | (b[i + 2]! << 8), i + 3];
  return [new DataView(b.buffer).getUint32(i + 1, true), i + 5];
}
