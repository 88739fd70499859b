/**
 * Passkey registration in the console (WebAuthn through @simplewebauthn/server, and the
 * @simplewebauthn/browser bundle served as a static file: no inline script). A registered
 * passkey belongs to the signed-in user and is one custody identity: the page shows its id
 * (`mpk1…`, custody's `identityId('webauthn', key)`) and offers its identity document, which
 * admins list in the genesis (`mamori custody trust init --approvers passkey.json,…`). Only
 * ES256 (P-256) keys, the kind the custody verifier and the offline cosigner check.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Context, Hono } from 'hono';
import { html } from 'hono/html';
import {
  addPasskey,
  listPasskeys,
  type PasskeyRow,
  savePasskeyChallenge,
  takePasskeyChallenge,
} from '../../access/index.js';
import { MamoriError } from '../../shared/errors.js';
import type { Store } from '../../storage/index.js';
import { type GateEnv, principalOf } from '../guard.js';
import { t } from '../ui/i18n.js';
import { type Frame, pageCtx, renderPage } from '../ui/render.js';
import { PASSKEYS_JS } from './passkeys-script.js';

const custody = () => import('../../custody/index.js');
const ES256 = -7;

let browserBundle: string | undefined;
/** The UMD bundle of @simplewebauthn/browser, as the package ships it (global SimpleWebAuthnBrowser). */
function simpleWebAuthnBrowser(): string {
  if (browserBundle === undefined) {
    const main = createRequire(import.meta.url).resolve('@simplewebauthn/browser');
    browserBundle = readFileSync(
      join(dirname(main), '..', 'dist', 'bundle', 'index.umd.min.js'),
      'utf8',
    );
  }
  return browserBundle;
}

/** The passkey identity document that `custody trust init --approvers` reads. */
export function passkeyIdentityDoc(p: PasskeyRow, userName: string) {
  return {
    id: p.identityId,
    name: `${userName} (${p.label})`,
    kind: 'webauthn' as const,
    publicKey: p.publicKey,
    rpId: p.rpId,
  };
}

/** The session's user: passkeys belong to people, not to tokens. */
export function userOf(c: Context) {
  const p = principalOf(c);
  if (p.kind !== 'user') {
    throw new MamoriError('E_POLICY', 'passkeys belong to signed-in users, not to tokens', {
      details: { reason: 'not-a-user' },
    });
  }
  return p;
}

/** The origin the browser is on (the gate has checked it against the allow-list). */
export function originOf(c: Context): string {
  const origin = c.req.header('origin');
  if (!origin) {
    throw new MamoriError('E_POLICY', 'a passkey ceremony needs the Origin header', {
      details: { reason: 'origin' },
    });
  }
  return origin;
}

async function jsonBody(c: Context): Promise<Record<string, unknown>> {
  const body = (await c.req.json()) as unknown;
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new MamoriError('E_INPUT', 'the request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export function passkeyRoutes(app: Hono<GateEnv>, deps: { store: Store; frame: Frame }) {
  const { store, frame } = deps;

  app.get('/static/simplewebauthn-browser.js', (c) => {
    c.header('content-type', 'text/javascript; charset=utf-8');
    c.header('cache-control', 'public, max-age=3600');
    return c.body(simpleWebAuthnBrowser());
  });
  app.get('/static/passkeys.js', (c) => {
    c.header('content-type', 'text/javascript; charset=utf-8');
    c.header('cache-control', 'public, max-age=3600');
    return c.body(PASSKEYS_JS);
  });

  app.get('/api/v1/passkeys', async (c) => {
    const p = userOf(c);
    const keys = await listPasskeys(store, p.id);
    return c.json({
      passkeys: keys.map((k) => ({
        ...passkeyIdentityDoc(k, p.name),
        label: k.label,
        createdAt: k.createdAt,
        credentialId: k.credentialId,
        row: k.id,
      })),
    });
  });

  app.get('/api/v1/passkeys/:id/identity.json', async (c) => {
    const p = userOf(c);
    const k = (await listPasskeys(store, p.id)).find((x) => String(x.id) === c.req.param('id'));
    if (!k) throw new MamoriError('E_NOT_FOUND', 'no such passkey of yours');
    c.header('content-disposition', `attachment; filename="${k.identityId.slice(0, 16)}.json"`);
    return c.json(passkeyIdentityDoc(k, p.name));
  });

  app.post('/api/v1/passkeys/options', async (c) => {
    const p = userOf(c);
    const rpID = new URL(originOf(c)).hostname;
    const { generateRegistrationOptions } = await import('@simplewebauthn/server');
    const existing = await listPasskeys(store, p.id);
    const options = await generateRegistrationOptions({
      rpName: 'Mamori',
      rpID,
      userName: p.name,
      userID: new TextEncoder().encode(`mamori-user-${p.id}`),
      attestationType: 'none',
      excludeCredentials: existing.map((k) => ({ id: k.credentialId })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'required' },
      supportedAlgorithmIDs: [ES256],
      timeout: 120_000,
    });
    await savePasskeyChallenge(store, p.id, options.challenge);
    return c.json(options);
  });

  app.post('/api/v1/passkeys/register', async (c) => {
    const p = userOf(c);
    const origin = originOf(c);
    const body = await jsonBody(c);
    const label = typeof body.label === 'string' ? body.label.trim().slice(0, 64) : '';
    if (!/^[\p{L}\p{N} ._-]{1,64}$/u.test(label)) {
      throw new MamoriError('E_INPUT', 'name the passkey: 1-64 letters, digits, space . _ -');
    }
    const expectedChallenge = await takePasskeyChallenge(store, p.id);
    if (!expectedChallenge) {
      throw new MamoriError('E_INPUT', 'no registration in progress (or it expired): start again');
    }
    const { verifyRegistrationResponse } = await import('@simplewebauthn/server');
    const { convertCOSEtoPKCS } = await import('@simplewebauthn/server/helpers');
    const rpId = new URL(origin).hostname;
    let v: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
    try {
      v = await verifyRegistrationResponse({
        // biome-ignore lint/suspicious/noExplicitAny: checked by the library
        response: body.response as any,
        expectedChallenge,
        expectedOrigin: origin,
        expectedRPID: rpId,
        requireUserVerification: true,
        supportedAlgorithmIDs: [ES256],
      });
    } catch (e) {
      throw new MamoriError(
        'E_INPUT',
        `the passkey registration does not verify: ${(e as Error).message}`,
      );
    }
    if (!v.verified) throw new MamoriError('E_INPUT', 'the passkey registration does not verify');
    const cred = v.registrationInfo.credential;
    const publicKey = convertCOSEtoPKCS(cred.publicKey);
    const cu = await custody();
    const identityId = cu.identityId('webauthn', publicKey);
    const entry = {
      userId: p.id,
      label,
      credentialId: cred.id,
      publicKeyCose: Buffer.from(cred.publicKey).toString('base64url'),
      publicKey: hex(publicKey),
      identityId,
      rpId,
      signCount: cred.counter,
    };
    // Custody's own check of the document it will read from the genesis, before it is kept.
    cu.checkIdentityDoc(passkeyIdentityDoc({ ...entry, id: 0, createdAt: '' }, p.name));
    const row = await addPasskey(store, entry);
    return c.json({ ...passkeyIdentityDoc(row, p.name), row: row.id }, 201);
  });

  app.get('/account/passkeys', async (c) => {
    const ctx = pageCtx(c);
    const p = userOf(c);
    const lang = ctx.lang;
    const keys = await listPasskeys(store, p.id);
    return renderPage(
      c,
      frame,
      'Passkeys',
      'none',
      html`<h1>${t(lang, 'Passkeys')}</h1>
<p class="lead">${t(lang, 'A passkey signs custody approvals on your device. Its custody identity id goes into the signed genesis, and the offline cosigner verifies every approval it signs.')}</p>
<section aria-labelledby="pk-h"><h2 id="pk-h">${t(lang, 'Your passkeys')} (<span data-passkey-count>${keys.length}</span>)</h2>
${
  keys.length
    ? html`<div class="table-wrap"><table data-table="passkeys"><thead><tr><th scope="col">${t(lang, 'Name')}</th><th scope="col">${t(lang, 'Custody identity')}</th><th scope="col">RP ID</th><th scope="col">${t(lang, 'Registered')}</th><th scope="col">${t(lang, 'Identity document')}</th></tr></thead><tbody>
${keys.map((k) => html`<tr><td>${k.label}</td><td><code data-identity="${k.identityId}">${k.identityId}</code></td><td>${k.rpId}</td><td>${k.createdAt}</td><td><a href="/api/v1/passkeys/${k.id}/identity.json" download>${k.identityId.slice(0, 12)}….json</a></td></tr>`)}
</tbody></table></div>
<p class="muted">${t(lang, 'An admin lists it as an approver:')} <code>mamori custody trust init --approvers &lt;identity document&gt;,… </code></p>`
    : html`<p>${t(lang, 'No passkey yet.')}</p>`
}
</section>
<section aria-labelledby="pk-new-h"><h2 id="pk-new-h">${t(lang, 'Register a passkey')}</h2>
<form data-passkey-register>
<label for="pk-label">${t(lang, 'Name')}</label><input id="pk-label" name="label" value="passkey" maxlength="64" required>
<p><button class="primary" type="submit">${t(lang, 'Register a passkey')}</button></p>
</form>
<p role="status" aria-live="polite" data-passkey-status></p>
</section>
<script src="/static/simplewebauthn-browser.js" defer></script>
<script src="/static/passkeys.js" defer></script>`,
    );
  });
}
