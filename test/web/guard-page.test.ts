/**
 * The Guard page and /api/v1/guard in process (createApp + a real token): the page's numbers
 * and chart bars equal the API's, attacker text is escaped, bad queries are 400, an unknown
 * match is 404, Japanese strings, and an honest empty state.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freshStore, type TestStore } from '../helpers/db.js';
import { HOSTILE, seedGuardMatches } from '../helpers/guard.js';
import { type TestApp, testApp } from '../helpers/web.js';

describe('Guard page and API', () => {
  let t: TestStore;
  let a: TestApp;
  beforeEach(async () => {
    t = await freshStore('sqlite');
    a = await testApp(t.store);
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('shows an honest empty state with no matches', async () => {
    const res = await a.request('/guard');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('data-empty="true"');
    const s = await (await a.request('/api/v1/guard/summary')).json();
    expect(s.matches).toBe(0);
  });

  it('renders numbers and bars equal to the API, with attacker text escaped', async () => {
    await seedGuardMatches(t);
    const s = await (await a.request('/api/v1/guard/summary?since=7d')).json();
    expect(s).toMatchObject({ matches: 50, requests: 30, blockedRequests: 20, loggedRequests: 10 });
    const page = await (await a.request('/guard')).text();
    expect(page).not.toContain(HOSTILE);
    expect(page).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    const n = (k: string) => Number(new RegExp(`data-n="${k}">(\\d+)<`).exec(page)?.[1]);
    expect([n('matches'), n('requests'), n('blocked'), n('logged')]).toEqual([50, 30, 20, 10]);
    const bars = [
      ...page
        .split('data-chart="guard-hour"')[1]!
        .split('</svg>')[0]!
        .matchAll(/data-label="([^"]+)" data-value="(\d+)"/g),
    ].map((m) => ({ hour: m[1], n: Number(m[2]) }));
    expect(bars).toEqual(
      s.perHour.map((h: { hour: string; blocked: number; logged: number }) => ({
        hour: h.hour,
        n: h.blocked + h.logged,
      })),
    );
    expect(bars.reduce((x, b) => x + b.n, 0)).toBe(50);
    expect(s.topRules.map((r: { ruleId: number }) => r.ruleId)).toEqual([941100, 949110]);
    expect(page).toContain('data-table="rules"');

    const list = await (await a.request('/api/v1/guard/matches?rule=949110&limit=5')).json();
    expect(list.rows).toHaveLength(5);
    const id = list.rows[0].id as number;
    const d = await (await a.request(`/api/v1/guard/matches/${id}`)).json();
    expect(d.match.id).toBe(id);
    expect(d.request.map((x: { rule_id: number }) => x.rule_id)).toEqual([941100, 949110]);
    const detail = await (await a.request(`/guard?match=${id}`)).text();
    expect(detail).toContain('data-guard="detail"');
    expect(detail).toContain('Inbound Anomaly Score Exceeded');
    expect(detail).not.toContain(HOSTILE);

    const filtered = await (await a.request('/guard?client=198.51.100.1&since=all')).text();
    expect(filtered).toContain('data-table="matches"');
  });

  it('refuses bad queries with 400 and unknown matches with 404', async () => {
    expect((await a.request('/api/v1/guard/summary?since=yesterday')).status).toBe(400);
    expect((await a.request('/api/v1/guard/matches?rule=abc')).status).toBe(400);
    expect((await a.request('/api/v1/guard/matches?action=dropped')).status).toBe(400);
    expect((await a.request('/api/v1/guard/matches/123456')).status).toBe(404);
    expect((await a.request('/api/v1/guard/matches/1e9')).status).toBe(400);
  });

  it('speaks Japanese', async () => {
    await seedGuardMatches(t);
    const page = await (await a.request('/guard?lang=ja')).text();
    expect(page).toContain('ガード');
    expect(page).toContain('検知の多いルール');
  });

  it('needs a credential', async () => {
    const res = await a.app.request('/api/v1/guard/summary');
    expect(res.status).toBe(401);
  });
});
