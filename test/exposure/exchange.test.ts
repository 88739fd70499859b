import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  diffScans,
  exportRows,
  formatExport,
  importResults,
  parseMasscanJson,
  parseNmapXml,
} from '../../src/exposure/index.js';
import { addScope } from '../../src/exposure/scope-store.js';
import { freshStore, type TestStore, testBackends } from '../helpers/db.js';
import { testApp } from '../helpers/web.js';

const NMAP = `<?xml version="1.0" encoding="UTF-8"?>
<nmaprun scanner="nmap" args="nmap -sV -oX - 192.0.2.0/30" start="1764000000" version="7.94" xmloutputversion="1.05">
<host><status state="up"/><address addr="192.0.2.1" addrtype="ipv4"/><ports>
<port protocol="tcp" portid="22"><state state="open" reason="syn-ack"/><service name="ssh" product="OpenSSH" version="9.2p1 Debian 2" method="probed"/></port>
<port protocol="tcp" portid="25"><state state="closed" reason="reset"/><service name="smtp"/></port>
<port protocol="tcp" portid="80"><state state="open" reason="syn-ack"/><service name="http" product="nginx" version="1.22.1"/></port>
</ports></host>
<host><status state="up"/><address addr="192.0.2.2" addrtype="ipv4"/><address addr="00:11:22:33:44:55" addrtype="mac"/><ports>
<port protocol="tcp" portid="554"><state state="open" reason="syn-ack"/><service name="rtsp"/></port>
</ports></host>
</nmaprun>`;

const MASSCAN = `[
{   "ip": "192.0.2.1",   "timestamp": "1764000000", "ports": [ {"port": 22, "proto": "tcp", "status": "open", "reason": "syn-ack", "ttl": 64} ] },
{   "ip": "192.0.2.3",   "timestamp": "1764000000", "ports": [ {"port": 8080, "proto": "tcp", "status": "open", "reason": "syn-ack", "ttl": 64} ] },
]`;

describe('import parsers', () => {
  it('reads open ports from nmap XML and masscan JSON (trailing comma and all)', () => {
    expect(
      parseNmapXml(NMAP).map((s) => `${s.ip}:${s.port} ${s.protocol} ${s.product ?? ''}`),
    ).toEqual(['192.0.2.1:22 ssh OpenSSH', '192.0.2.1:80 http nginx', '192.0.2.2:554 rtsp ']);
    expect(parseMasscanJson(MASSCAN).map((s) => `${s.ip}:${s.port}`)).toEqual([
      '192.0.2.1:22',
      '192.0.2.3:8080',
    ]);
    expect(() => parseNmapXml('<html/>')).toThrow(expect.objectContaining({ code: 'E_INPUT' }));
    expect(() => parseMasscanJson('{')).toThrow(expect.objectContaining({ code: 'E_INPUT' }));
  });
});

for (const backend of testBackends()) {
  describe(`import, export, diff, web (${backend})`, () => {
    let t: TestStore;
    beforeEach(async () => {
      t = await freshStore(backend);
    });
    afterEach(() => t.cleanup());
    it('imports, diffs, exports (json/csv/nmap-xml round trip) and serves the API and page', async () => {
      const a = await importResults(t.store, NMAP, 'a.xml');
      const b = await importResults(t.store, MASSCAN, 'b.json');
      expect(a).toMatchObject({ services: 3, hosts: 2 });
      // b's targets are 192.0.2.1 and .3: only .1 is compared, .3 appeared; masscan's JSON
      // does not say it probed :80 (only its open ports), so :80 is not reported as gone
      const d = await diffScans(t.store);
      expect(d).toMatchObject({ from: a.scan, to: b.scan });
      expect(d.appeared.map((x) => `${x.ip}:${x.port}`)).toEqual(['192.0.2.3:8080']);
      expect(d.disappeared.map((x) => `${x.ip}:${x.port}`)).toEqual([]);
      await expect(diffScans(t.store, 999)).rejects.toMatchObject({ code: 'E_NOT_FOUND' });

      const rows = await exportRows(t.store);
      expect(rows).toHaveLength(4);
      const xml = formatExport(rows, 'nmap-xml');
      expect(
        parseNmapXml(xml)
          .map((s) => `${s.ip}:${s.port}/${s.transport}`)
          .sort(),
      ).toEqual(rows.map((r) => `${r.ip}:${r.port}/${r.transport}`).sort());
      expect(JSON.parse(formatExport(rows, 'json'))).toEqual(rows);
      const csv = formatExport(
        [{ ...rows[0]!, title: '=HYPERLINK("http://x")', product: 'a,b' }],
        'csv',
      );
      expect(csv.split('\r\n')[1]).toContain(`"'=HYPERLINK(""http://x"")"`);
      expect(csv).toContain('"a,b"');
      expect(() => formatExport(rows, 'xls')).toThrow(expect.objectContaining({ code: 'E_USAGE' }));

      const app = await testApp(t.store, 'test');
      const api = await app.request('/api/v1/exposure/search?q=port:554&facet=port');
      expect(api.status).toBe(200);
      const body = (await api.json()) as {
        total: number;
        matches: { ip: string }[];
        facets: Record<string, unknown>;
      };
      expect(body.total).toBe(1);
      expect(body.matches[0]?.ip).toBe('192.0.2.2');
      expect(body.facets.port).toEqual([{ value: 554, count: 1 }]);
      const bad = await app.request('/api/v1/exposure/search?q=port:x');
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('E_INPUT');

      const empty = await app.request('/exposure');
      expect(await empty.text()).toContain('data-empty="true"');
      await addScope(t.store, {
        cidr: '192.0.2.0/24',
        owner: '<script>alert(1)</script>',
        allowCredentials: false,
      });
      const page = await (await app.request('/exposure')).text();
      expect(page).toContain('192.0.2.2:554/tcp');
      expect(page).not.toContain('<script>alert(1)</script>');
      expect(page).toContain('&lt;script&gt;');
    });
  });
}
