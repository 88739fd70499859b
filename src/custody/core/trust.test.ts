/**
 * The passkey verifier on real WebAuthn assertion structures made with a P-256 key: authenticator
 * data (rpId hash, flags, counter), clientDataJSON with the statement's challenge, a DER ES256
 * signature over authenticatorData ‖ sha256(clientDataJSON); and each way one can be wrong.
 */
import { p256 } from '@noble/curves/nist.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { base64urlnopad } from '@scure/base';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { APPROVE_DOMAIN } from './cosign.js';
import { bytesToHex } from './descriptor.js';
import {
  canonicalBody,
  canonicalStatement,
  checkIdentityDoc,
  identityId,
  statementDigest,
  verifySignature,
  verifyWebAuthn,
  type WebAuthnAssertion,
  webauthnChallenge,
} from './trust.js';

const enc = new TextEncoder();
const rpId = 'custody.example';
const sk = p256.utils.randomSecretKey();
const pub = p256.getPublicKey(sk, false);
const statement = { withdrawal: 7, outputs: [{ address: 'bcrt1q…', amount: 1000 }] };
const at = '2026-12-04T00:00:00.000Z';

function assertion(
  o: { type?: string; challenge?: string; rp?: string; flags?: number; key?: Uint8Array } = {},
): WebAuthnAssertion {
  const authData = new Uint8Array(37);
  authData.set(sha256(enc.encode(o.rp ?? rpId)));
  authData[32] = o.flags ?? 0x05; // UP | UV
  authData.set([0, 0, 0, 9], 33);
  const clientDataJSON = enc.encode(
    JSON.stringify({
      type: o.type ?? 'webauthn.get',
      challenge: o.challenge ?? webauthnChallenge(APPROVE_DOMAIN, at, statement),
      origin: `https://${rpId}`,
      crossOrigin: false,
    }),
  );
  const signed = new Uint8Array([...authData, ...sha256(clientDataJSON)]);
  const sig = p256.sign(signed, o.key ?? sk, { prehash: true, format: 'der' });
  return {
    authenticatorData: base64urlnopad.encode(authData),
    clientDataJSON: base64urlnopad.encode(clientDataJSON),
    signature: base64urlnopad.encode(sig),
  };
}

describe('WebAuthn ES256 passkey approvals', () => {
  const digest = statementDigest(APPROVE_DOMAIN, at, statement);
  it('verifies a real assertion over the statement challenge', () => {
    expect(verifyWebAuthn(assertion(), digest, pub, rpId)).toBe(true);
    const doc = checkIdentityDoc({
      id: identityId('webauthn', pub),
      name: 'carol-passkey',
      kind: 'webauthn',
      publicKey: bytesToHex(pub),
      rpId,
    });
    expect(
      verifySignature({ by: doc.id, at, webauthn: assertion() }, doc, APPROVE_DOMAIN, statement),
    ).toBe(true);
    // the same assertion for another statement (amount changed) does not verify
    expect(
      verifySignature({ by: doc.id, at, webauthn: assertion() }, doc, APPROVE_DOMAIN, {
        ...statement,
        outputs: [{ address: 'bcrt1q…', amount: 1001 }],
      }),
    ).toBe(false);
  });
  it('refuses a wrong type, challenge, rpId, missing user presence or another key', () => {
    const other = base64urlnopad.encode(sha256(enc.encode('other')));
    expect(verifyWebAuthn(assertion({ type: 'webauthn.create' }), digest, pub, rpId)).toBe(false);
    expect(verifyWebAuthn(assertion({ challenge: other }), digest, pub, rpId)).toBe(false);
    expect(verifyWebAuthn(assertion({ rp: 'evil.example' }), digest, pub, rpId)).toBe(false);
    expect(verifyWebAuthn(assertion({ flags: 0x04 }), digest, pub, rpId)).toBe(false);
    const k2 = p256.utils.randomSecretKey();
    expect(verifyWebAuthn(assertion({ key: k2 }), digest, pub, rpId)).toBe(false);
    expect(verifyWebAuthn({ ...assertion(), signature: 'AAAA' }, digest, pub, rpId)).toBe(false);
  });
  it('an identity whose id does not match its key is refused', () => {
    expect(() =>
      checkIdentityDoc({
        id: identityId('webauthn', p256.getPublicKey(p256.utils.randomSecretKey(), false)),
        name: 'x',
        kind: 'webauthn',
        publicKey: bytesToHex(pub),
        rpId,
      }),
    ).toThrow(/does not match/);
  });
});

describe('canonicalBody', () => {
  it('gives the digest of the statement itself, for any JSON body and signing time', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string(), fc.string(), (body, domain, at2) => {
        expect(bytesToHex(statementDigest(domain, at2, canonicalBody(body)))).toBe(
          bytesToHex(statementDigest(domain, at2, body)),
        );
      }),
      { numRuns: 500 },
    );
    const big = { ...statement, outputs: Array.from({ length: 100 }, (_, i) => ({ a: i })) };
    expect(canonicalStatement(APPROVE_DOMAIN, at, canonicalBody(big))).toBe(
      canonicalStatement(APPROVE_DOMAIN, at, big),
    );
  });
});
