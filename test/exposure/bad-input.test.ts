/**
 * Hostile input to import and search gives E_INPUT (exit 2, HTTP 400), never an internal error:
 * malformed nmap XML, NUL and other control characters, queries nested without end.
 */
import { describe, expect, it } from 'vitest';
import { parseNmapXml, parseQuery } from '../../src/exposure/index.js';
import { freshStore, testBackends } from '../helpers/db.js';
import { testApp } from '../helpers/web.js';

const HOST = (ports: string) =>
  `<nmaprun><host><address addr="192.0.2.1" addrtype="ipv4"/><ports>${ports}</ports></host></nmaprun>`;

const MALFORMED_XML: [string, string][] = [
  ['unclosed', '<nmaprun><host><address addr="192.0.2.1" addrtype="ipv4"/>'],
  ['mismatched', '<nmaprun><host></nmaprun></host>'],
  ['deep', `<nmaprun><host>${'<a>'.repeat(50_000)}${'</a>'.repeat(50_000)}</host></nmaprun>`],
  ['bad port', HOST('<port protocol="tcp" portid="http"><state state="open"/></port>')],
  ['big port', HOST('<port protocol="tcp" portid="70000"><state state="open"/></port>')],
  [
    'bad address',
    '<nmaprun><host><address addr="999.1.1.1" addrtype="ipv4"/><ports/></host></nmaprun>',
  ],
  ['garbage', '\u0000\u0001<<>>'],
];

const HOSTILE_QUERIES = [
  'port:80\u0000',
  '"a\u0000b"',
  'title:\u001b[2J',
  `${'('.repeat(4000)}a${')'.repeat(4000)}`,
  `${'NOT '.repeat(1000)}a`,
  `${'('.repeat(100_000)}a`,
  'a '.repeat(10_000),
];

describe('bad input to import and search', () => {
  it('malformed nmap XML is E_INPUT', () => {
    for (const [name, xml] of MALFORMED_XML)
      expect(() => parseNmapXml(xml), name).toThrow(expect.objectContaining({ code: 'E_INPUT' }));
    // and a service element given twice is read, not a crash
    expect(
      parseNmapXml(
        HOST(
          '<port protocol="tcp" portid="80"><state state="open"/><service name="http"/><service name="x"/></port>',
        ),
      )[0],
    ).toMatchObject({ port: 80, protocol: 'http' });
  });
  it('a NUL, control characters or deep nesting in a query is E_INPUT, with a short message', () => {
    for (const q of HOSTILE_QUERIES) {
      let err: unknown;
      try {
        parseQuery(q);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(q.slice(0, 20))).toMatchObject({ code: 'E_INPUT' });
      expect((err as Error).message.length).toBeLessThan(400);
      expect((err as Error).message).not.toMatch(/[\u0000\u001b]/);
    }
    expect(() => parseQuery(`${'('.repeat(30)}a${')'.repeat(30)}`)).not.toThrow();
  });
  for (const backend of testBackends()) {
    it(`the search API answers 400, never 500 (${backend})`, async () => {
      const t = await freshStore(backend);
      try {
        const app = await testApp(t.store, 'test', 'viewer');
        for (const q of HOSTILE_QUERIES) {
          const r = await app.request(`/api/v1/exposure/search?q=${encodeURIComponent(q)}`);
          expect(r.status, JSON.stringify(q.slice(0, 20))).toBe(400);
          expect(((await r.json()) as { error: { code: string } }).error.code).toBe('E_INPUT');
        }
        const ok = await app.request('/api/v1/exposure/search?q=port:80');
        expect(ok.status).toBe(200);
      } finally {
        await t.cleanup();
      }
    });
  }
});
