/**
 * The custody area's dashboard page and JSON API: tiers and the hot float against its cap,
 * wallets, withdrawals with their policy decisions, freeze state and audit-chain status.
 * Read-only: every state change goes through the CLI (or the library) so it is audited.
 */
import { html } from 'hono/html';
import type { AreaWeb } from '../types.js';
import { emptyState } from '../ui/layout.js';

const lib = () => import('../../custody/index.js');
const btc = (sats: number) => `${Math.floor(sats / 1e8)}.${String(sats % 1e8).padStart(8, '0')}`;

export const custodyWeb: AreaWeb = {
  name: 'custody',
  title: 'Custody',
  summary: 'Multisig wallets in hot/warm/cold tiers, withdrawal policy and the watcher.',
  api(app, deps) {
    const ctx = { store: deps.store };
    app.get('/tiers', async (c) => c.json(await (await lib()).tiers(ctx)));
    app.get('/posture', async (c) => {
      const l = await lib();
      return c.json({
        ...(await l.custodyPosture(deps.store)),
        watcher: await l.watcherStatus(ctx),
      });
    });
    app.get('/wallets', async (c) => c.json(await (await lib()).listWallets(ctx)));
    app.get('/withdrawals', async (c) => {
      const status = c.req.query('status');
      return c.json(await (await lib()).listWithdrawals(ctx, status ? { status } : {}));
    });
    app.get('/policy', async (c) => c.json(await (await lib()).showPolicies(ctx)));
    app.get('/freeze', async (c) => c.json(await (await lib()).freezeState(ctx)));
    app.get('/audit', async (c) => c.json(await (await lib()).verifyAudit(ctx)));
  },
  async page(deps) {
    const c = await lib();
    const ctx = { store: deps.store };
    const t = await c.tiers(ctx);
    if (!t.wallets.length) return emptyState('No wallets yet.', 'mamori custody key new');
    const ws = await c.listWithdrawals(ctx);
    const audit = await c.verifyAudit(ctx);
    return html`
      ${t.frozen ? html`<p class="alert"><strong>FROZEN</strong>: all withdrawals are halted until the approvers' quorum lifts it.</p>` : ''}
      <h2>Tiers</h2>
      <table tabindex="0" aria-label="Tiers">
        <tr><th>tier</th><th>wallets</th><th>confirmed BTC</th><th>unconfirmed BTC</th></tr>
        ${t.tiers.map((x) => html`<tr><td>${x.tier}</td><td>${x.wallets}</td><td>${btc(x.confirmed)}</td><td>${btc(x.unconfirmed)}</td></tr>`)}
      </table>
      <p>Hot float ${btc(t.hotFloat)} BTC against a cap of ${t.hotFloatCap === null ? 'none' : `${btc(t.hotFloatCap)} BTC`}${t.overCap ? html` — <strong>over cap</strong>: run <code>mamori custody sweep</code>` : ''}.
      Policy coverage ${(t.policyCoverage * 100).toFixed(0)}%.</p>
      <h2>Withdrawals</h2>
      <table tabindex="0" aria-label="Withdrawals">
        <tr><th>id</th><th>wallet</th><th>to</th><th>BTC</th><th>status</th><th>decided by</th></tr>
        ${ws.slice(-50).map((w) => html`<tr><td>${w.id}</td><td>${w.wallet}</td><td><code>${w.to}</code>${w.outputs.length > 1 ? ` +${w.outputs.length - 1}` : ''}</td><td>${btc(w.amount)}</td><td>${w.status}</td><td title="${w.decision.reason}">${w.decision.rule}</td></tr>`)}
      </table>
      <p>Audit log: ${audit.ok ? `intact, ${audit.count} entries, head ${audit.head.slice(0, 16)}…` : html`<strong>BROKEN</strong> (${audit.problems.length} problems)`}</p>`;
  },
};
