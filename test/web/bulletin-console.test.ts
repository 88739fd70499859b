/**
 * The console's Bulletin pages in process on both backends: source health (last fetch, status,
 * failures) and its chart equal /api/v1/bulletin/sources, reading an issue, an operator editing
 * the commentary and publishing (files written), a viewer refused with 403, bad ids refused
 * with 400/404, and hostile feed text and commentary escaped.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken, type Role } from '../../src/access/index.js';
import { createApp } from '../../src/web/index.js';
import { HOSTILE, seedBulletin } from '../helpers/console-seed.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';

function dataValues(page: string, chart: string) {
  const svg = page.slice(page.indexOf(`data-chart="${chart}"`));
  const end = svg.indexOf('</svg>');
  return [...svg.slice(0, end).matchAll(/data-label="([^"]*)" data-value="(\d+)"/g)].map((m) => ({
    label: m[1],
    value: Number(m[2]),
  }));
}

const fromHtml = (s: string) =>
  s
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&amp;', '&');

for (const backend of testBackends()) {
  describe(`console bulletin pages (${backend})`, () => {
    let t: TestStore;
    let dir: string;
    let issueId: number;
    let as: (role: Role) => Promise<(path: string, init?: RequestInit) => Promise<Response>>;

    beforeAll(async () => {
      t = await freshStore(backend);
      dir = mkdtempSync(join(tmpdir(), 'mamori-cbulletin-'));
      ({ issueId } = await seedBulletin(t.store, dir));
      const app = createApp({ store: t.store, version: 'test', bulletinDir: join(dir, 'out') });
      as = async (role) => {
        const { token } = await createToken(t.store, { role, ttlMs: 3_600_000, label: role });
        return async (path, init = {}) => {
          const headers = new Headers(init.headers);
          headers.set('authorization', `Bearer ${token}`);
          return app.request(path, { ...init, headers });
        };
      };
    }, 60_000);
    afterAll(async () => {
      await t?.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it('shows source health and a chart equal to the sources API', async () => {
      const viewer = await as('viewer');
      const { sources } = await (await viewer('/api/v1/bulletin/sources')).json();
      expect(sources).toHaveLength(2);
      const gone = sources.find((s: { name: string }) => s.name === 'Gone desk');
      expect(gone).toMatchObject({ lastStatus: 'error', failCount: 1 });
      expect(gone.lastFetchAt).toBeTruthy();
      const page = await (await viewer('/bulletin')).text();
      expect(page).toContain('data-table="bulletin-sources"');
      expect(
        dataValues(page, 'bulletin-sources').map((b) => ({ ...b, label: fromHtml(b.label!) })),
      ).toEqual(
        sources.map((s: { name: string; articleCount: number }) => ({
          label: s.name,
          value: s.articleCount,
        })),
      );
      expect(
        sources.reduce((a: number, s: { articleCount: number }) => a + s.articleCount, 0),
      ).toBe(2);
      expect(page).toContain(`href="/bulletin/issues/${issueId}"`);
      expect(page).not.toContain(HOSTILE.img);
      expect(page).not.toContain(HOSTILE.script);
      expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;');
    });

    it('reads an issue; a viewer sees no editor and gets 403 on edit and publish', async () => {
      const viewer = await as('viewer');
      const r = await viewer(`/bulletin/issues/${issueId}`);
      expect(r.status).toBe(200);
      const page = await r.text();
      expect(page).toContain('data-issue-status="draft"');
      expect(page).not.toContain('<textarea');
      expect(page).not.toContain(HOSTILE.script);
      expect(page).not.toContain('<img src=x');
      const edit = await viewer(`/api/v1/bulletin/issues/${issueId}/commentary`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ storyId: 1, commentary: 'mine' }),
      });
      expect(edit.status).toBe(403);
      expect((await edit.json()).error.details).toMatchObject({ reason: 'role', role: 'viewer' });
      const pub = await viewer(`/api/v1/bulletin/issues/${issueId}/publish`, { method: 'POST' });
      expect(pub.status).toBe(403);
    });

    it('an operator edits the commentary (escaped) and publishes; a published issue is not edited', async () => {
      const op = await as('operator');
      const page = await (await op(`/bulletin/issues/${issueId}`)).text();
      expect(page).toContain('<textarea');
      const storyIds = [...page.matchAll(/data-story="(\d+)"/g)].map((m) => Number(m[1]));
      expect(storyIds).toHaveLength(2);
      const commentary = `Patch now. ${HOSTILE.script} ${HOSTILE.img}`;
      const r = await op(`/api/v1/bulletin/issues/${issueId}/commentary`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ storyId: storyIds[0], commentary }),
      });
      expect(r.status).toBe(200);
      const saved = await r.json();
      expect(saved.items.find((i: { storyId: number }) => i.storyId === storyIds[0])).toEqual({
        storyId: storyIds[0],
        commentary,
      });
      const after = await (await op(`/bulletin/issues/${issueId}`)).text();
      expect(after).toContain('Patch now. &lt;script&gt;');
      expect(after).not.toContain(HOSTILE.script);
      // bad input
      const bad = async (path: string, body: unknown) =>
        (
          await op(path, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body),
          })
        ).status;
      expect(await bad(`/api/v1/bulletin/issues/0/commentary`, { storyId: 1 })).toBe(400);
      expect(await bad(`/api/v1/bulletin/issues/${issueId}/commentary`, { storyId: 'x' })).toBe(
        400,
      );
      expect(await bad(`/api/v1/bulletin/issues/${issueId}/commentary`, { storyId: 999999 })).toBe(
        404,
      );
      expect(await bad(`/api/v1/bulletin/issues/999999/commentary`, { storyId: 1 })).toBe(404);
      expect(
        await bad(`/api/v1/bulletin/issues/${issueId}/commentary`, {
          storyId: storyIds[0],
          commentary: 'x'.repeat(20_001),
        }),
      ).toBe(400);
      expect((await op('/bulletin/issues/abc')).status).toBe(400);
      // publish
      const pub = await op(`/api/v1/bulletin/issues/${issueId}/publish`, { method: 'POST' });
      expect(pub.status).toBe(200);
      const body = await pub.json();
      expect(body).toMatchObject({ id: issueId, status: 'published' });
      expect(existsSync(body.files.html)).toBe(true);
      const published = readFileSync(body.files.html, 'utf8');
      expect(published).toContain('Patch now.');
      expect(published).not.toContain(HOSTILE.script);
      const read = await (await op(`/bulletin/issues/${issueId}`)).text();
      expect(read).toContain('data-issue-status="published"');
      expect(read).not.toContain('<textarea');
      expect(read).toContain('data-commentary');
      expect(
        await bad(`/api/v1/bulletin/issues/${issueId}/commentary`, {
          storyId: storyIds[0],
          commentary: 'late',
        }),
      ).toBe(400);
    });
  });
}
