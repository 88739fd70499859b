/**
 * Passkey approvals end to end, in Debian's Chromium (playwright-core) with a CDP virtual
 * authenticator, the built CLI and a bcoin regtest node: sign in with a password, register a
 * passkey in the console, list its custody identity in a genesis beside an identity-file
 * approver, request a withdrawal, approve it in the browser with the passkey and with the
 * identity file on the CLI, build with --sign-hot, and the offline cosigner (`psbt sign
 * --trust`, no store) accepts: the node takes the transaction. A forged assertion, a viewer
 * and a token are refused; no console errors; axe finds no serious or critical violation.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../src/access/index.js';
import { identityId, type RegtestNode, startRegtestNode } from '../../src/custody/index.js';
import { type RunningServer, startServer } from '../../src/web/index.js';
import { type CliResult, runMamori } from '../helpers/cli.js';
import { freshStore, type TestStore } from '../helpers/db.js';

const CHROMIUM = process.env.MAMORI_TEST_CHROMIUM ?? '/usr/bin/chromium';
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const PASSWORD = 'correct horse battery staple';
const KEY_PASS = 'correct horse battery';
const payee = 'bcrt1qft5p2uhsdcdc3l2ua4ap5qqfg4pjaqlp250x7us7a8qqhrxrxfsqseac85';

describe('passkey approvals in Chromium, accepted by the offline cosigner', () => {
  let browser: Browser;
  let server: RunningServer;
  let node: RegtestNode;
  let t: TestStore;
  let dir: string;
  let base: string;
  const f = (n: string) => join(dir, n);
  const run = (
    args: string[],
    extra: Record<string, string | undefined> = {},
  ): Promise<CliResult> =>
    runMamori(['custody', ...args], {
      env: {
        MAMORI_DB: t.spec,
        MAMORI_KEY_PASSPHRASE: KEY_PASS,
        MAMORI_CONFIG: undefined,
        XDG_CONFIG_HOME: dir,
        ...extra,
      },
      timeoutMs: 90_000,
    });
  const json = async (args: string[], extra: Record<string, string | undefined> = {}) => {
    const r = await run([...args, '--json'], extra);
    if (r.code !== 0) throw new Error(`mamori custody ${args.join(' ')} → ${r.code}\n${r.stderr}`);
    return JSON.parse(r.stdout);
  };

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install chromium)`);
    dir = mkdtempSync(join(tmpdir(), 'mamori-passkey-'));
    t = await freshStore('sqlite');
    node = await startRegtestNode({ port: 0 });
    await addUser(t.store, { name: 'aiko', role: 'approver', password: PASSWORD });
    await addUser(t.store, { name: 'vera', role: 'viewer', password: PASSWORD });
    server = await startServer({ store: t.store, host: '127.0.0.1', port: 0, version: 'test' });
    // WebAuthn needs a domain, not an IP address: the console on loopback answers to localhost.
    base = `http://localhost:${new URL(server.url).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await node?.close();
    await t?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function signedIn(name: string) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${base}/login`);
    await page.getByLabel('User name').fill(name);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/`);
    return { page, context, problems };
  }

  async function axe(page: Page) {
    await page.evaluate(AXE);
    const r = (await page.evaluate(
      'axe.run(document, { resultTypes: ["violations"] }).then(r => r.violations.map(v => ({ id: v.id, impact: v.impact, target: v.nodes[0] && v.nodes[0].target })))',
    )) as { id: string; impact: string }[];
    return r.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  }

  async function virtualAuthenticator(context: BrowserContext, page: Page) {
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
      },
    });
    return { cdp, authenticatorId };
  }

  let aiko: Awaited<ReturnType<typeof signedIn>>;
  let passkeyId: string;

  it('registers a passkey; the console shows its custody identity id and document', async () => {
    aiko = await signedIn('aiko');
    const { page, context } = aiko;
    const { cdp, authenticatorId } = await virtualAuthenticator(context, page);
    await page.goto(`${base}/account/passkeys`);
    expect(await axe(page)).toEqual([]);
    await page.getByLabel('Name').fill('laptop');
    await page.getByRole('button', { name: 'Register a passkey' }).click();
    await expect.poll(() => page.locator('[data-identity]').count(), { timeout: 30_000 }).toBe(1);
    passkeyId = (await page.locator('[data-identity]').getAttribute('data-identity'))!;
    expect(passkeyId).toMatch(/^mpk1[02-9ac-hj-np-z]+$/);
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(credentials).toHaveLength(1);
    expect(credentials[0]!.rpId).toBe('localhost');
    // the identity document: custody's id of the P-256 key, the RP id, kind webauthn
    const href = (await page.locator('a[download]').getAttribute('href'))!;
    const doc = await (await context.request.get(`${base}${href}`)).json();
    expect(doc).toMatchObject({ id: passkeyId, kind: 'webauthn', rpId: 'localhost' });
    expect(doc.publicKey).toMatch(/^04[0-9a-f]{128}$/);
    expect(identityId('webauthn', Buffer.from(doc.publicKey, 'hex'))).toBe(passkeyId);
    writeFileSync(f('aiko.passkey.json'), JSON.stringify(doc));
    const api = await (await context.request.get(`${base}/api/v1/passkeys`)).json();
    expect(api.passkeys.map((p: { id: string }) => p.id)).toEqual([passkeyId]);
    expect(await axe(page)).toEqual([]);
    expect(aiko.problems).toEqual([]);
  }, 120_000);

  it('approves a withdrawal with the passkey; the offline cosigner accepts it; the node takes it', async () => {
    const { page, context } = aiko;
    for (const n of ['a1', 'a2', 'p2', 'op']) await json(['id', 'new', n, '--out', f(`${n}.id`)]);
    await json([
      'trust',
      'init',
      '--admins',
      `${f('a1.id')},${f('a2.id')}`,
      '--admin-threshold',
      '2',
      '--approvers',
      `${f('aiko.passkey.json')},${f('p2.id')}`,
      '--operators',
      f('op.id'),
      '--out',
      f('genesis.json'),
    ]);
    await json(['trust', 'sign', f('genesis.json'), '--as', f('a1.id')]);
    await json(['trust', 'sign', f('genesis.json'), '--as', f('a2.id')]);
    const xpubs: string[] = [];
    for (const n of ['h1', 'h2', 'h3'])
      xpubs.push(
        (await json(['key', 'new', '--network', 'regtest', '--out', f(`${n}.key`)])).originXpub,
      );
    await json([
      'wallet',
      'create',
      'hot',
      '--tier',
      'hot',
      '--threshold',
      '2',
      '--network',
      'regtest',
      '--hot-key',
      f('h1.key'),
      '--trust',
      f('genesis.json'),
      ...xpubs.flatMap((x) => ['--xpub', x]),
    ]);
    const approvers = (await json(['id', 'list']))
      .filter((x: { roles: string[] }) => x.roles.includes('approver'))
      .map((x: { id: string }) => x.id);
    expect(approvers).toContain(passkeyId);
    await json([
      'policy',
      'propose',
      'hot',
      '--whitelist',
      payee,
      '--activation-hours',
      '0',
      '--limit',
      '1',
      '--approvers',
      approvers.join(','),
      '--quorum',
      '2',
      '--out',
      f('p1.json'),
    ]);
    await json(['policy', 'sign', f('p1.json'), '--as', f('a1.id')]);
    await json(['policy', 'sign', f('p1.json'), '--as', f('a2.id')]);
    await json(['policy', 'apply', f('p1.json')]);
    const addr = await json(['address', 'new', 'hot']);
    await node.fund(addr.address, 150_000_000);
    await node.mine(1);
    await json(['balance', 'hot', '--node', node.url, '--from-height', '430']);
    const req = await json([
      'withdraw',
      'request',
      'hot',
      '--to',
      payee,
      '--amount',
      '0.25',
      '--as',
      f('op.id'),
    ]);
    expect(req.status).toBe('pending');

    // The queue: outputs, who still has to approve, and the passkey's button for aiko.
    await page.goto(`${base}/custody`);
    expect(await axe(page)).toEqual([]);
    const row = page.locator(`tr[data-withdrawal="${req.id}"]`);
    expect(await row.textContent()).toContain(payee);
    expect(await row.locator('[data-waiting] li').count()).toBe(2);
    const queue = await (await context.request.get(`${base}/api/v1/custody/approvals`)).json();
    expect(queue.withdrawals[0]).toMatchObject({
      id: req.id,
      required: 2,
      approvedBy: [],
      outputs: [{ address: payee, amount: 25_000_000 }],
    });
    expect(queue.withdrawals[0].waitingFor.sort()).toEqual([...approvers].sort());

    // A forged assertion (right shape, wrong signature) is refused by custody's verifier.
    // (Sent from the test, not the page, so that the page's console stays clean.)
    const csrf = await page.locator('input[name=_csrf]').first().inputValue();
    const ch = await (
      await context.request.get(`${base}/api/v1/custody/withdrawals/${req.id}/challenge`)
    ).json();
    const clientDataJSON = Buffer.from(
      JSON.stringify({ type: 'webauthn.get', challenge: ch.options.challenge, origin: base }),
    ).toString('base64url');
    const forgedRes = await context.request.post(
      `${base}/api/v1/custody/withdrawals/${req.id}/approve`,
      {
        headers: { origin: base, 'x-csrf-token': csrf },
        data: {
          at: ch.at,
          credentialId: ch.options.allowCredentials[0].id,
          authenticatorData: 'SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2MFAAAAAQ',
          clientDataJSON,
          signature:
            'MEUCIQDvbUDEkKx3hA9AzaAgjEv_OlDlOmEDE56aTzcu6YRHSgIgA6oWj7rLh2lW5bfE2QkWGdkUHnomtdV6JQEXHpWFmLk',
        },
      },
    );
    const forged = { status: forgedRes.status(), body: await forgedRes.json() };
    expect(forged.status).toBe(403);
    expect(forged.body.error.details.reason).toBe('bad-signature');

    await page.getByRole('button', { name: 'Approve with passkey' }).click();
    await expect
      .poll(() => page.locator(`tr[data-withdrawal="${req.id}"] [data-approved]`).textContent(), {
        timeout: 30_000,
      })
      .toBe('1');
    expect(await page.locator(`tr[data-withdrawal="${req.id}"] [data-waiting] li`).count()).toBe(1);
    // the second approver signs with an identity file
    const second = await json(['withdraw', 'approve', String(req.id), '--as', f('p2.id')]);
    expect(second.status).toBe('approved');
    const built = await json([
      'withdraw',
      'build',
      '--fee-rate',
      '2',
      '--sign-hot',
      '--out',
      f('w.psbt'),
    ]);
    expect(built).toMatchObject({ hotSigned: 1 });
    const evidence = JSON.parse(readFileSync(`${f('w.psbt')}.evidence.json`, 'utf8'));
    const passkeySig = evidence.withdrawals[0].approvals.find(
      (a: { by: string }) => a.by === passkeyId,
    );
    expect(passkeySig.webauthn.clientDataJSON).toBeTruthy();
    // the offline cosigner: pinned genesis, the evidence, its own ledger, no store
    const cos = await run(
      [
        'psbt',
        'sign',
        f('w.psbt'),
        '--key',
        f('h2.key'),
        '--trust',
        f('genesis.json'),
        '--ledger',
        f('ledger.jsonl'),
        '--out',
        f('w2.psbt'),
        '--yes',
        '--json',
      ],
      { MAMORI_DB: '/nonexistent/dir/never.db' },
    );
    expect(cos.code, cos.stderr).toBe(0);
    expect(JSON.parse(cos.stdout)).toMatchObject({ signed: 1, withdrawals: [req.id] });
    // the same evidence with the passkey's signature altered: the cosigner refuses (exit 4)
    const altered = structuredClone(evidence);
    const sig = altered.withdrawals[0].approvals.find((a: { by: string }) => a.by === passkeyId);
    const s0 = sig.webauthn.signature as string;
    sig.webauthn.signature = `${s0.slice(0, -3)}${s0.at(-3) === 'A' ? 'B' : 'A'}${s0.slice(-2)}`;
    writeFileSync(f('altered.evidence.json'), JSON.stringify(altered));
    const refused = await run([
      'psbt',
      'sign',
      f('w.psbt'),
      '--key',
      f('h3.key'),
      '--trust',
      f('genesis.json'),
      '--evidence',
      f('altered.evidence.json'),
      '--out',
      f('x.psbt'),
      '--yes',
      '--json',
    ]);
    expect(refused.code, refused.stderr).toBe(4);
    expect(existsSync(f('x.psbt'))).toBe(false);
    const sent = await json(['broadcast', f('w2.psbt'), '--node', node.url]);
    expect(sent).toMatchObject({ txid: built.txid, ours: true });
    await node.mine(2);
    await json(['balance', 'hot', '--node', node.url]);
    withdrawalId = req.id;
    expect(aiko.problems).toEqual([]);
  }, 400_000);

  let withdrawalId: number;

  it('the pipeline and the balance history on the Custody page equal the API', async () => {
    const { page, context } = aiko;
    const api = async (path: string) => (await context.request.get(`${base}${path}`)).json();
    await page.goto(`${base}/custody`);
    expect(await axe(page)).toEqual([]);
    const pipeline = await api('/api/v1/custody/pipeline');
    const row = pipeline.rows.find((r: { id: number }) => r.id === withdrawalId);
    expect(row.status).toBe('broadcast');
    for (const stage of ['requested', 'approved', 'built', 'signed', 'broadcast'])
      expect(row.stages[stage], stage).toMatch(/^\d{4}-/);
    expect(row.confirmations).toBe(2);
    const drawn = page.locator(`tr[data-pipeline="${withdrawalId}"]`);
    expect(await drawn.locator('[data-stage-done]').count()).toBe(5);
    expect(await drawn.locator('[data-confirmations]').getAttribute('data-confirmations')).toBe(
      '2',
    );
    // balances: funded 1.5 BTC, then 0.25 out plus the fee; each point equals the API's
    const history = await api('/api/v1/custody/balance-history');
    const hot = history.tiers.find((x: { tier: string }) => x.tier === 'hot');
    expect(hot.points[0].total).toBe(150_000_000);
    expect(hot.points.at(-1).total).toBeLessThan(150_000_000 - 25_000_000);
    const points = await page
      .locator('svg[data-chart="custody-balance"] g[data-series="hot"] g[data-value]')
      .evaluateAll((gs) =>
        gs.map((g) => ({
          at: g.getAttribute('data-label'),
          total: Number(g.getAttribute('data-value')),
        })),
      );
    expect(points).toEqual(
      hot.points.map((p: { at: string; total: number }) => ({ at: p.at, total: p.total })),
    );
    const tiers = await api('/api/v1/custody/tiers');
    expect(hot.points.at(-1).total).toBe(tiers.hotFloat);
    expect(aiko.problems).toEqual([]);
  }, 120_000);

  it('votes to unfreeze with the passkey; the second approver vote lifts the freeze', async () => {
    const { page, context } = aiko;
    const { freeze } = await import('../../src/custody/index.js');
    const f0 = await freeze({ store: t.store, actor: 'test' }, 'drill: an unknown spend');
    await page.goto(`${base}/custody`);
    expect(await axe(page)).toEqual([]);
    expect(await page.locator('[data-freeze-votes] [data-needed]').textContent()).toBe('2');
    await page.getByRole('button', { name: 'Vote to unfreeze with a passkey' }).click();
    await expect
      .poll(() => page.locator('[data-freeze-votes] [data-votes]').textContent(), {
        timeout: 30_000,
      })
      .toBe('1');
    const state = await (await context.request.get(`${base}/api/v1/custody/freeze`)).json();
    expect(state).toMatchObject({ frozen: true, id: f0.id, votes: [passkeyId] });
    // a frozen custody builds nothing; the identity-file approver's vote lifts it
    const lifted = await json(['unfreeze', '--as', f('p2.id')]);
    expect(lifted.frozen).toBe(false);
    const after = await (await context.request.get(`${base}/api/v1/custody/freeze`)).json();
    expect(after.frozen).toBe(false);
    expect(after.lifted.votes.map((v: { by: string }) => v.by)).toContain(passkeyId);
    expect(
      after.lifted.votes.find((v: { by: string }) => v.by === passkeyId).webauthn,
    ).toBeTruthy();
    expect(aiko.problems).toEqual([]);
    await context.close();
  }, 120_000);

  it('a viewer gets 403 on approve, with a clear body', async () => {
    const { page, context } = await signedIn('vera');
    await page.goto(`${base}/custody`);
    expect(await page.locator('button[data-approve]').count()).toBe(0);
    const r = await page.evaluate(async () => {
      const csrf = (document.querySelector('input[name=_csrf]') as HTMLInputElement).value;
      const res = await fetch('/api/v1/custody/withdrawals/1/approve', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
        body: '{}',
      });
      return { status: res.status, body: await res.json() };
    });
    expect(r).toMatchObject({
      status: 403,
      body: { error: { code: 'E_POLICY', details: { reason: 'role', needs: 'approve' } } },
    });
    await context.close();
  }, 60_000);
});
