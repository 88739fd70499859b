/**
 * The cosigner's evidence inside the PSBT itself, so one file carries everything to an air-gapped
 * signer: a BIP174 global proprietary field (type 0xFC) with identifier "mamori" and subtype 1,
 * no key data, whose value is the evidence document as UTF-8 JSON. Other tools keep the field
 * (BIP174 says signers and combiners preserve what they do not know), and Mamori does too.
 * Not the check of what it holds (`cosign.ts`).
 */
import type { Transaction } from '@scure/btc-signer';
import { refuse } from './trust.js';

const IDENTIFIER = new TextEncoder().encode('mamori');
const SUBTYPE_EVIDENCE = 1;
/** compact-size length ‖ identifier ‖ compact-size subtype (no key data) */
export const EVIDENCE_KEY = new Uint8Array([IDENTIFIER.length, ...IDENTIFIER, SUBTYPE_EVIDENCE]);

type Global = { proprietary?: [Uint8Array, Uint8Array][] };
/** btc-signer keeps the PSBT's global map private; its proprietary list is what BIP174 calls it. */
const globalOf = (tx: Transaction) => (tx as unknown as { global: Global }).global;

const isKey = (k: Uint8Array) =>
  k.length === EVIDENCE_KEY.length && k.every((b, i) => b === EVIDENCE_KEY[i]);

/**
 * Put the evidence into the PSBT, replacing any evidence already there.
 * @example embedEvidence(tx, evidence); encodePsbt(tx)
 */
export function embedEvidence(tx: Transaction, evidence: unknown): void {
  const g = globalOf(tx);
  const others = (g.proprietary ?? []).filter(([k]) => !isKey(k));
  g.proprietary = [...others, [EVIDENCE_KEY, new TextEncoder().encode(JSON.stringify(evidence))]];
}

/**
 * The evidence embedded in the PSBT, or undefined when there is none. An embedded value that is
 * not JSON is `evidence-malformed`.
 * @example const ev = embeddedEvidence(decodePsbt(text))
 */
export function embeddedEvidence(tx: Transaction): unknown {
  const hit = (globalOf(tx).proprietary ?? []).find(([k]) => isKey(k));
  if (!hit) return undefined;
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(hit[1]));
  } catch {
    throw refuse('evidence-malformed', 'the evidence in the PSBT is not a JSON document');
  }
}
