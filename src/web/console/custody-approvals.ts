/**
 * The Custody page's approvals queue and freeze votes, signed with a passkey. The challenge is
 * custody's `webauthnChallenge` of the statement (`approvalChallenge`, `unfreezeChallenge`);
 * the assertion goes to custody's `approveWithdrawal` / `unfreeze`, which verify it like any
 * other signature, and so does the offline cosigner later. The console decides nothing: it
 * only refuses early what custody would refuse (a passkey that is not the user's, a stale
 * signing time) so that the message is clear.
 */
import type { Context, Hono } from 'hono';
import { html } from 'hono/html';
import {
  can,
  listPasskeys,
  type PasskeyRow,
  passkeyOf,
  passkeysOfUser,
} from '../../access/index.js';
import { createAlertSink } from '../../alerts/index.js';
import { MamoriError } from '../../shared/errors.js';
import type { Store } from '../../storage/index.js';
import type { GateEnv } from '../guard.js';
import type { PageCtx, WebDeps } from '../types.js';
import { t } from '../ui/i18n.js';
import { custodyHistoryRoutes, pipelineAndBalances } from './custody-history.js';
import type { ConsoleExtra } from './extras.js';
import { userOf } from './passkeys.js';

const custody = () => import('../../custody/index.js');

/** A signing time the console accepts: ISO-8601, within 10 minutes of its clock. */
const MAX_AT_AGE_MS = 10 * 60_000;
const B64U = /^[A-Za-z0-9_-]{1,8192}={0,2}$/;

const btc = (sats: number) => `${Math.floor(sats / 1e8)}.${String(sats % 1e8).padStart(8, '0')}`;

function custodyCtx(store: Store, user: string) {
  return { store, actor: `console:${user}`, alerts: createAlertSink({ store }) };
}

/** Refuse a session that is no approver, with the same body as the gate's role refusal. */
function mustApprove(c: Context) {
  const p = userOf(c);
  if (!can(p.role, 'approve')) {
    throw new MamoriError('E_POLICY', `role ${p.role} may not approve`, {
      details: { reason: 'role', role: p.role, needs: 'approve', allowedRoles: ['approver'] },
    });
  }
  return p;
}

function challengeOptions(challenge: string, keys: PasskeyRow[]) {
  return {
    challenge,
    rpId: keys[0]!.rpId,
    allowCredentials: keys.map((k) => ({ id: k.credentialId, type: 'public-key' })),
    userVerification: 'required',
    timeout: 120_000,
  };
}

/** The signature custody verifies, from the browser's assertion of one of the user's passkeys. */
async function signatureOf(store: Store, userId: number, body: unknown, nowMs: number) {
  const b = (body ?? {}) as Record<string, unknown>;
  const str = (k: string) => {
    const v = b[k];
    if (typeof v !== 'string' || !B64U.test(v)) {
      throw new MamoriError('E_INPUT', `${k} must be base64url text`);
    }
    return v;
  };
  const at = typeof b.at === 'string' ? b.at : '';
  const atMs = Date.parse(at);
  if (!/^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(at) || Number.isNaN(atMs)) {
    throw new MamoriError('E_INPUT', 'at must be the ISO-8601 signing time the challenge gave');
  }
  if (Math.abs(nowMs - atMs) > MAX_AT_AGE_MS) {
    throw new MamoriError('E_INPUT', 'the challenge is stale: ask for a new one');
  }
  const key = await passkeyOf(store, userId, str('credentialId'));
  if (!key) {
    throw new MamoriError('E_POLICY', 'that passkey is not one of yours', {
      details: { reason: 'passkey' },
    });
  }
  return {
    by: key.identityId,
    at,
    webauthn: {
      authenticatorData: str('authenticatorData'),
      clientDataJSON: str('clientDataJSON'),
      signature: str('signature'),
    },
  };
}

export function custodyApprovalRoutes(app: Hono<GateEnv>, deps: { store: Store }) {
  const { store } = deps;
  app.get('/api/v1/custody/approvals', async (c) => {
    const cu = await custody();
    return c.json({ withdrawals: await cu.approvalQueue({ store }) });
  });

  app.get('/api/v1/custody/withdrawals/:id/challenge', async (c) => {
    const p = mustApprove(c);
    const cu = await custody();
    const id = Number(c.req.param('id'));
    const w = (await cu.approvalQueue({ store })).find((x) => x.id === id);
    if (!w) throw new MamoriError('E_NOT_FOUND', `withdrawal ${c.req.param('id')} is not pending`);
    if (!w.statement) {
      throw new MamoriError('E_POLICY', `withdrawal ${id} has no signed statement to approve`, {
        details: { reason: 'unbound' },
        hint: 'its wallet has no trust root: approve with mamori custody withdraw approve',
      });
    }
    const keys = (await listPasskeys(store, p.id)).filter((k) =>
      w.waitingFor.includes(k.identityId),
    );
    if (!keys.length) {
      throw new MamoriError('E_POLICY', `none of your passkeys may approve withdrawal ${id}`, {
        details: { reason: 'not-an-approver', waitingFor: w.waitingFor },
      });
    }
    const at = new Date().toISOString();
    return c.json({
      at,
      statement: w.statement,
      options: challengeOptions(cu.approvalChallenge(w.statement, at), keys),
    });
  });

  app.post('/api/v1/custody/withdrawals/:id/approve', async (c) => {
    const p = mustApprove(c);
    const id = Number(c.req.param('id'));
    if (!Number.isSafeInteger(id) || id <= 0)
      throw new MamoriError('E_INPUT', 'no such withdrawal id');
    const sig = await signatureOf(store, p.id, await c.req.json(), Date.now());
    const cu = await custody();
    const w = await cu.approveWithdrawal(custodyCtx(store, p.name), id, sig);
    return c.json({
      withdrawal: w,
      message:
        w.status === 'approved'
          ? `withdrawal ${id} is approved`
          : `approval recorded: withdrawal ${id} waits for more approvals`,
    });
  });

  app.get('/api/v1/custody/unfreeze-votes/challenge', async (c) => {
    const p = mustApprove(c);
    const cu = await custody();
    const f = await cu.freezeVotes({ store });
    if (!f.frozen || !f.id) throw new MamoriError('E_INPUT', 'custody is not frozen');
    const keys = (await listPasskeys(store, p.id)).filter(
      (k) => f.approvers.includes(k.identityId) && !f.votes.includes(k.identityId),
    );
    if (!keys.length) {
      throw new MamoriError('E_POLICY', 'none of your passkeys is an approver who has not voted', {
        details: { reason: 'not-an-approver' },
      });
    }
    const at = new Date().toISOString();
    return c.json({
      at,
      freeze: f.id,
      options: challengeOptions(cu.unfreezeChallenge(f.id, at), keys),
    });
  });

  app.post('/api/v1/custody/unfreeze-votes', async (c) => {
    const p = mustApprove(c);
    const sig = await signatureOf(store, p.id, await c.req.json(), Date.now());
    const cu = await custody();
    const r = await cu.unfreeze(custodyCtx(store, p.name), sig);
    return c.json({
      freeze: { frozen: r.frozen, votes: r.votes ?? [], needed: r.needed },
      message: r.frozen
        ? `vote recorded: ${r.votes?.length ?? 0} of ${r.needed} votes`
        : 'the freeze is lifted: withdrawals resume',
    });
  });
}

function idCell(id: string, mine: Set<string>, lang: PageCtx['lang']) {
  return html`<code>${id}</code>${mine.has(id) ? html` <strong>(${t(lang, 'you')})</strong>` : ''}`;
}

/** The approvals queue and freeze votes on the Custody page. */
export const custodyApprovalsExtra: ConsoleExtra = {
  routes: (app, deps) => {
    custodyApprovalRoutes(app, deps);
    custodyHistoryRoutes(app, deps);
  },
  async before(deps: WebDeps, ctx: PageCtx) {
    const cu = await custody();
    const c = { store: deps.store };
    const [queue, freeze, pipeline, history] = await Promise.all([
      cu.approvalQueue(c),
      cu.freezeVotes(c),
      cu.withdrawalPipeline(c),
      cu.balanceHistory(c),
    ]);
    const lang = ctx.lang;
    const approver = ctx.role === 'approver';
    const keys = approver ? await passkeysOfUser(deps.store, ctx.user) : [];
    const mine = new Set(keys.map((k) => k.identityId));
    const canVote = freeze.approvers.some((a) => mine.has(a) && !freeze.votes.includes(a));
    return html`${
      freeze.frozen
        ? html`<section aria-labelledby="freeze-h" class="alert" data-freeze-votes><h2 id="freeze-h">${t(lang, 'Freeze')}: FROZEN</h2>
<p>${t(lang, 'Since')} ${freeze.since}: ${freeze.reason}. ${t(lang, 'Freeze id')} <code>${freeze.id}</code></p>
<p>${t(lang, 'Unfreeze votes')}: <span data-votes>${freeze.votes.length}</span> / <span data-needed>${freeze.needed ?? '—'}</span>${freeze.votes.length ? html` (${freeze.votes.map((v) => idCell(v, mine, lang))})` : ''}</p>
${approver && canVote ? html`<p><button type="button" data-unfreeze-vote>${t(lang, 'Vote to unfreeze with a passkey')}</button></p><p role="status" aria-live="polite" data-unfreeze-status></p>` : ''}
</section>`
        : ''
    }<section aria-labelledby="approvals-h"><h2 id="approvals-h">${t(lang, 'Approvals queue')} (<span data-pending>${queue.length}</span>)</h2>
<p class="muted">${t(lang, 'An approval is a passkey signature over the withdrawal statement; the offline cosigner verifies it again before it signs.')}${approver && !keys.length ? html` <a href="/account/passkeys">${t(lang, 'Register a passkey')}</a>.` : ''}</p>
${
  queue.length
    ? html`<div class="table-wrap"><table data-table="approvals"><thead><tr><th scope="col">id</th><th scope="col">${t(lang, 'Wallet')}</th><th scope="col">${t(lang, 'Outputs')}</th><th scope="col">${t(lang, 'Requested')}</th><th scope="col">${t(lang, 'Approvals')}</th><th scope="col">${t(lang, 'Waiting for')}</th><th scope="col">${t(lang, 'Action')}</th></tr></thead><tbody>
${queue.map(
  (w) =>
    html`<tr data-withdrawal="${w.id}"><td>${w.id}</td><td>${w.wallet}</td><td><ul class="plain">${w.outputs.map((o) => html`<li><code>${o.address}</code> ${btc(o.amount)} BTC</li>`)}</ul></td><td>${w.requestedAt}<br><span class="muted">${w.requestedBy}</span>${w.expires ? html`<br><span class="muted">${t(lang, 'expires')} ${w.expires}</span>` : ''}</td><td><span data-approved>${w.approvedBy.length}</span> / <span data-required>${w.required}</span></td><td>${w.waitingFor.length ? html`<ul class="plain" data-waiting>${w.waitingFor.map((a) => html`<li>${idCell(a, mine, lang)}</li>`)}</ul>` : '—'}</td><td>${
      approver && w.statement && w.waitingFor.some((a) => mine.has(a))
        ? html`<button type="button" data-approve="${w.id}">${t(lang, 'Approve with passkey')}</button>`
        : html`<span class="muted">${w.statement ? '—' : t(lang, 'CLI only (no trust root)')}</span>`
    }</td></tr>`,
)}
</tbody></table></div><p role="status" aria-live="polite" data-approve-status></p>`
    : html`<p>${t(lang, 'Nothing waits for approval.')}</p>`
}
</section>${pipelineAndBalances(pipeline, history, ctx)}${approver ? html`<script src="/static/simplewebauthn-browser.js" defer></script><script src="/static/passkeys.js" defer></script>` : ''}`;
  },
};
