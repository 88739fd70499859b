/**
 * The access gate in process (createApp + app.request) on both backends: authentication by
 * session and token, roles, Host allow-list, Origin and CSRF, lockout, limits, the audit trail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addUser,
  createToken,
  ensureFirstAdmin,
  listAudit,
  revokeToken,
} from '../../src/access/index.js';
import { createAlertSink } from '../../src/alerts/index.js';
import { createApp, IN_PROCESS_ACCESS } from '../../src/web/index.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';

const ORIGIN = 'http://localhost';
const PASSWORD = 'correct horse battery staple';

function cookiesOf(r: Response): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of r.headers.getSetCookie()) {
    const [pair] = c.split(';');
    const i = pair!.indexOf('=');
    out[pair!.slice(0, i)] = pair!.slice(i + 1);
  }
  return out;
}

async function signIn(app: ReturnType<typeof createApp>, name: string, password: string) {
  const form = await app.request('/login');
  const loginCookie = cookiesOf(form).mamori_login!;
  const token = /name="_login" value="([^"]+)"/.exec(await form.text())![1]!;
  return app.request('/login', {
    method: 'POST',
    headers: {
      origin: ORIGIN,
      cookie: `mamori_login=${loginCookie}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ _login: token, name, password, next: '/' }).toString(),
  });
}

for (const backend of testBackends()) {
  describe(`access gate on ${backend}`, () => {
    let t: TestStore;
    let app: ReturnType<typeof createApp>;
    let viewer: string;
    let operator: string;
    let approver: string;
    beforeAll(async () => {
      t = await freshStore(backend);
      app = createApp({ store: t.store, version: 'test' });
      viewer = (await createToken(t.store, { role: 'viewer', ttlMs: 3_600_000 })).token;
      operator = (await createToken(t.store, { role: 'operator', ttlMs: 3_600_000 })).token;
      approver = (await createToken(t.store, { role: 'approver', ttlMs: 3_600_000 })).token;
      await addUser(t.store, { name: 'aiko', role: 'operator', password: PASSWORD });
      await createAlertSink({ store: t.store }).raise({
        area: 'custody',
        kind: 'custody.freeze',
        severity: 'high',
        message: 'custody frozen <script>alert(1)</script>',
      });
    });
    afterAll(async () => {
      await t.cleanup();
    });
    const bearer = (token: string, extra: Record<string, string> = {}) => ({
      authorization: `Bearer ${token}`,
      ...extra,
    });

    it('only /healthz is open: the API says 401, pages go to sign-in', async () => {
      expect((await app.request('/healthz')).status).toBe(200);
      const api = await app.request('/api/v1/status');
      expect(api.status).toBe(401);
      expect(await api.json()).toMatchObject({ error: { code: 'E_AUTH' } });
      for (const path of ['/', '/vuln', '/custody', '/api/v1/custody/wallets', '/exposure']) {
        const r = await app.request(path);
        expect([303, 401], path).toContain(r.status);
        if (r.status === 303) expect(r.headers.get('location')).toMatch(/^\/login\?next=/);
      }
    });

    it('malformed and unknown credentials are 401, never 500', async () => {
      for (const h of [
        { authorization: 'Bearer' },
        { authorization: 'Bearer mamori_x' },
        { authorization: `Bearer mamori_${'A'.repeat(43)}` },
        { authorization: 'Basic Zm9vOmJhcg==' },
        { cookie: 'mamori_session=%%%' },
        { cookie: `mamori_session=${'a'.repeat(43)}` },
        { cookie: 'mamori_session=' },
      ]) {
        const r = await app.request('/api/v1/status', { headers: h });
        expect(r.status, JSON.stringify(h)).toBe(401);
      }
    });

    it('a viewer reads but gets 403 with a clear body on upload and approve', async () => {
      const ok = await app.request('/api/v1/status', { headers: bearer(viewer) });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('cache-control')).toBe('no-store');
      const up = await app.request('/api/v1/vuln/check', {
        method: 'POST',
        headers: bearer(viewer, { 'content-type': 'text/plain' }),
        body: 'requests==2.0.0\n',
      });
      expect(up.status).toBe(403);
      expect(await up.json()).toMatchObject({
        error: { code: 'E_POLICY', details: { reason: 'role', role: 'viewer', needs: 'operate' } },
      });
      const approve = await app.request('/api/v1/custody/withdrawals/1/approve', {
        method: 'POST',
        headers: bearer(viewer),
      });
      expect(approve.status).toBe(403);
      expect(await approve.json()).toMatchObject({ error: { details: { needs: 'approve' } } });
      // an approver's token passes the gate, but an approval is a passkey signature, and
      // passkeys belong to signed-in users, not to tokens
      const byApprover = await app.request('/api/v1/custody/withdrawals/1/approve', {
        method: 'POST',
        headers: bearer(approver),
      });
      expect(byApprover.status).toBe(403);
      expect(await byApprover.json()).toMatchObject({
        error: { code: 'E_POLICY', details: { reason: 'not-a-user' } },
      });
      // an operator may run a check
      const check = await app.request('/api/v1/vuln/check?record=false', {
        method: 'POST',
        headers: bearer(operator, { 'content-type': 'text/plain' }),
        body: 'requests==2.0.0\n',
      });
      expect(check.status).toBe(200);
    });

    it('a forged Host gets 421 (DNS rebinding), even with a valid token', async () => {
      const r = await app.request('/api/v1/custody/wallets', {
        headers: bearer(viewer, { host: 'attacker.example:8080' }),
      });
      expect(r.status).toBe(421);
      expect(await r.json()).toMatchObject({ error: { details: { reason: 'host' } } });
    });

    it('a bearer request that claims a foreign Origin is refused', async () => {
      const r = await app.request('/api/v1/vuln/check?record=false', {
        method: 'POST',
        headers: bearer(operator, { origin: 'https://attacker.example' }),
        body: 'requests==2.0.0\n',
      });
      expect(r.status).toBe(403);
    });

    it('revoked and expired tokens are refused', async () => {
      const made = await createToken(t.store, { role: 'viewer', ttlMs: 3_600_000 });
      expect((await app.request('/api/v1/status', { headers: bearer(made.token) })).status).toBe(
        200,
      );
      await revokeToken(t.store, made.id);
      expect((await app.request('/api/v1/status', { headers: bearer(made.token) })).status).toBe(
        401,
      );
      const old = await createToken(t.store, {
        role: 'viewer',
        ttlMs: 60_000,
        now: Date.now() - 120_000,
      });
      expect((await app.request('/api/v1/status', { headers: bearer(old.token) })).status).toBe(
        401,
      );
    });

    it('sign-in sets an HttpOnly SameSite=Strict cookie; changes need Origin and the CSRF token', async () => {
      const r = await signIn(app, 'aiko', PASSWORD);
      expect(r.status).toBe(303);
      const setCookie = r.headers.getSetCookie().find((c) => c.startsWith('mamori_session='))!;
      expect(setCookie).toContain('HttpOnly');
      expect(setCookie).toContain('SameSite=Strict');
      expect(setCookie).not.toContain('Secure');
      const cookie = `mamori_session=${cookiesOf(r).mamori_session}`;
      const home = await app.request('/', { headers: { cookie } });
      expect(home.status).toBe(200);
      const html = await home.text();
      expect(html).toContain('aiko');
      expect(html).not.toContain('<script>alert(1)</script>');
      expect(html).toContain('&lt;script&gt;');
      const csrf = /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
      const alertId = /action="\/alerts\/(\d+)\/ack"/.exec(html)![1]!;
      const form = (extra: Record<string, string>) => ({
        'content-type': 'application/x-www-form-urlencoded',
        cookie,
        ...extra,
      });
      const noCsrf = await app.request(`/alerts/${alertId}/ack`, {
        method: 'POST',
        headers: form({ origin: ORIGIN }),
        body: '',
      });
      expect(noCsrf.status).toBe(403);
      const crossOrigin = await app.request(`/alerts/${alertId}/ack`, {
        method: 'POST',
        headers: form({ origin: 'https://attacker.example' }),
        body: `_csrf=${csrf}`,
      });
      expect(crossOrigin.status).toBe(403);
      const noOrigin = await app.request(`/alerts/${alertId}/ack`, {
        method: 'POST',
        headers: form({}),
        body: `_csrf=${csrf}`,
      });
      expect(noOrigin.status).toBe(403);
      const ok = await app.request(`/alerts/${alertId}/ack`, {
        method: 'POST',
        headers: form({ origin: ORIGIN }),
        body: `_csrf=${csrf}`,
      });
      expect(ok.status).toBe(303);
      const inbox = await (await app.request('/api/v1/alerts', { headers: { cookie } })).json();
      expect(inbox.alerts[0]).toMatchObject({ id: Number(alertId), acknowledgedBy: 'aiko' });
      const trail = await listAudit(t.store, 50);
      expect(trail.map((a) => [a.actor, a.action, a.outcome])).toEqual(
        expect.arrayContaining([
          ['user:aiko', 'sign-in', 'ok'],
          ['user:aiko', `POST /alerts/${alertId}/ack`, 'refused: csrf'],
          ['user:aiko', `POST /alerts/${alertId}/ack`, 'refused: origin'],
          ['user:aiko', `POST /alerts/${alertId}/ack`, '303'],
        ]),
      );
      const out = await app.request('/logout', {
        method: 'POST',
        headers: form({ origin: ORIGIN }),
        body: `_csrf=${csrf}`,
      });
      expect(out.status).toBe(303);
      expect((await app.request('/api/v1/status', { headers: { cookie } })).status).toBe(401);
    });

    it('a sign-in from another origin or without the form token is refused', async () => {
      const r = await app.request('/login', {
        method: 'POST',
        headers: {
          origin: 'https://attacker.example',
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ name: 'aiko', password: PASSWORD }).toString(),
      });
      expect(r.status).toBe(403);
      const noToken = await app.request('/login', {
        method: 'POST',
        headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ name: 'aiko', password: PASSWORD }).toString(),
      });
      expect(noToken.status).toBe(403);
      expect(noToken.headers.getSetCookie().some((c) => c.startsWith('mamori_session='))).toBe(
        false,
      );
    });

    it('five wrong passwords lock the name: the right one is then refused with 429', async () => {
      await addUser(t.store, { name: 'kenji', role: 'viewer', password: PASSWORD });
      for (let i = 0; i < 5; i++)
        expect((await signIn(app, 'kenji', 'wrong password!!')).status).toBe(403);
      const locked = await signIn(app, 'kenji', PASSWORD);
      expect(locked.status).toBe(429);
      expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
      const trail = await listAudit(t.store, 20);
      expect(trail.filter((a) => a.target === 'kenji' && a.outcome === 'locked')).toHaveLength(1);
    });

    it('a generated first-admin password must be changed before anything else', async () => {
      const s2 = await freshStore(backend);
      try {
        const app2 = createApp({ store: s2.store, version: 'test' });
        const first = await ensureFirstAdmin(s2.store);
        expect(first?.name).toBe('admin');
        expect(await ensureFirstAdmin(s2.store)).toBeUndefined();
        const r = await signIn(app2, 'admin', first!.password);
        expect(r.headers.get('location')).toBe('/account/password');
        const cookie = `mamori_session=${cookiesOf(r).mamori_session}`;
        const api = await app2.request('/api/v1/status', { headers: { cookie } });
        expect(api.status).toBe(403);
        expect(await api.json()).toMatchObject({
          error: { details: { reason: 'must_change_password' } },
        });
        const page = await app2.request('/account/password', { headers: { cookie } });
        const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]!;
        const changed = await app2.request('/account/password', {
          method: 'POST',
          headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            _csrf: csrf,
            current: first!.password,
            new: PASSWORD,
          }).toString(),
        });
        expect(changed.status).toBe(303);
        const again = await signIn(app2, 'admin', PASSWORD);
        expect(again.headers.get('location')).toBe('/');
      } finally {
        await s2.cleanup();
      }
    });

    it('a chunked body over the limit is 413, read no further than the limit', async () => {
      const small = createApp({
        store: t.store,
        version: 'test',
        access: { ...IN_PROCESS_ACCESS, maxBodyBytes: 64 * 1024 },
      });
      let pulled = 0;
      const chunk = new Uint8Array(16 * 1024);
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          pulled += chunk.length;
          if (pulled > 64 * 1024 * 1024) controller.close();
          else controller.enqueue(chunk);
        },
      });
      const r = await small.request('/api/v1/vuln/check', {
        method: 'POST',
        headers: bearer(operator, { 'transfer-encoding': 'chunked' }),
        body,
        duplex: 'half',
      } as RequestInit);
      expect(r.status).toBe(413);
      expect(await r.json()).toMatchObject({ error: { details: { reason: 'too_large' } } });
      expect(pulled).toBeLessThan(1024 * 1024);
    });
  });
}
