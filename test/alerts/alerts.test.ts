/**
 * The shared alert sink: a JSON line, a row in the store, and a POST to a real local webhook.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createAlertSink, recentAlerts } from '../../src/alerts/index.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';

for (const backend of testBackends()) {
  describe(`alert sink on ${backend}`, () => {
    let t: TestStore | undefined;
    let server: Server | undefined;
    afterEach(async () => {
      await t?.cleanup();
      await new Promise((r) => (server ? server.close(r) : r(undefined)));
    });

    it('writes a JSON line, stores the alert and posts it to generic and Slack webhooks', async () => {
      t = await freshStore(backend);
      const received: { path: string; body: unknown }[] = [];
      server = createServer((req, res) => {
        let body = '';
        req.on('data', (d) => {
          body += d;
        });
        req.on('end', () => {
          received.push({ path: req.url ?? '', body: JSON.parse(body) });
          res.end('ok');
        });
      });
      await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
      const port = (server.address() as AddressInfo).port;
      const lines: string[] = [];
      const sink = createAlertSink({
        store: t.store,
        write: (l) => lines.push(l),
        webhooks: [
          { url: `http://127.0.0.1:${port}/generic` },
          { url: `http://127.0.0.1:${port}/slack`, format: 'slack' },
        ],
        now: () => Date.parse('2018-01-26T02:57:00Z'),
      });
      await sink.raise({
        area: 'custody',
        kind: 'custody.unapproved_outflow',
        severity: 'critical',
        message: 'unapproved spend of hot wallet coins',
        next: 'withdrawals are frozen; check the approvers',
        details: { txid: 'ab'.repeat(32) },
      });
      expect(JSON.parse(lines[0]!)).toMatchObject({
        type: 'alert',
        kind: 'custody.unapproved_outflow',
        time: '2018-01-26T02:57:00.000Z',
      });
      const stored = await recentAlerts(t.store);
      expect(stored).toHaveLength(1);
      expect(stored[0]).toMatchObject({
        area: 'custody',
        severity: 'critical',
        next_step: 'withdrawals are frozen; check the approvers',
      });
      expect(received.find((r) => r.path === '/generic')?.body).toMatchObject({
        kind: 'custody.unapproved_outflow',
      });
      expect((received.find((r) => r.path === '/slack')!.body as { text: string }).text).toMatch(
        /^\[CRITICAL\] custody: /,
      );
    });

    it('still records the alert when a webhook is down', async () => {
      t = await freshStore(backend);
      const sink = createAlertSink({
        store: t.store,
        webhooks: [{ url: 'http://127.0.0.1:1/down' }],
        webhookTimeoutMs: 2000,
      });
      await sink.raise({
        area: 'exposure',
        kind: 'exposure.open_camera',
        severity: 'high',
        message: 'camera without password',
      });
      expect(await recentAlerts(t.store)).toHaveLength(1);
    });
  });
}
