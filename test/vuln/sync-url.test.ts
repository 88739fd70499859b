/**
 * OSV sync from a URL, as `mamori vuln sync --source osv` does online: a real HTTP server on
 * loopback serves the bucket's layout (`<ecosystem>/all.zip`) built from the real pypa records,
 * plus a gzipped single record, a cut zip and a missing path. A zip is downloaded to a temporary
 * file under TMPDIR (read from its end), which is gone afterwards, whether the sync worked or
 * not; the CLI reaches the mirror through MAMORI_OSV_URL.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MamoriError } from '../../src/shared/errors.js';
import { lookup, syncFrom } from '../../src/vuln/index.js';
import { runMamori } from '../helpers/cli.js';
import { freshSpec, freshStore, testBackends } from '../helpers/db.js';
import { vector } from '../helpers/vectors.js';

const pypa = vector('vuln/osv/pypa');
const packages = ['requests', 'flask', 'django', 'jinja2', 'urllib3'];

let server: Server;
let base: string;
let files = 0;
const requests: string[] = [];

beforeAll(async () => {
  const entries: Record<string, Uint8Array> = {};
  for (const p of packages)
    for (const f of readdirSync(join(pypa, p))) {
      entries[`${p}/${f}`] = new Uint8Array(readFileSync(join(pypa, p, f)));
      files++;
    }
  const zip = zipSync(entries);
  const one = gzipSync(readFileSync(join(pypa, 'requests/PYSEC-2018-28.yaml')));
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.url === '/PyPI/all.zip') {
      res.writeHead(200, { 'content-type': 'application/zip' });
      // in pieces, as a network delivers it
      let off = 0;
      const next = () => {
        if (off >= zip.length) return void res.end();
        res.write(zip.subarray(off, off + 16_384), next);
        off += 16_384;
      };
      next();
    } else if (req.url === '/cut/all.zip') {
      res.writeHead(200).end(zip.subarray(0, zip.length - 100));
    } else if (req.url === '/one.yaml.gz') {
      res.writeHead(200).end(one);
    } else res.writeHead(404).end('not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
});

describe('OSV from a URL', () => {
  for (const backend of testBackends())
    it(`a streamed all.zip, a .gz record and a 404 (${backend})`, async () => {
      const t = await freshStore(backend);
      try {
        expect(files).toBeGreaterThan(50);
        const s = await syncFrom(t.store, { source: 'osv', from: `${base}/PyPI/all.zip` });
        expect(s.errors).toEqual([]);
        expect(s).toMatchObject({ files, records: files, added: files });
        expect((await lookup(t.store, 'CVE-2018-18074'))?.records.map((r) => r.id)).toContain(
          'PYSEC-2018-28',
        );
        const gz = await syncFrom(t.store, { source: 'osv', from: `${base}/one.yaml.gz` });
        expect(gz).toMatchObject({ files: 1, records: 1, unchanged: 1 });
        // the download is deleted, also when the zip turns out to be cut short
        const tmp = mkdtempSync(join(tmpdir(), 'mamori-url-'));
        const before = process.env.TMPDIR;
        process.env.TMPDIR = tmp;
        try {
          const again = await syncFrom(t.store, { source: 'osv', from: `${base}/PyPI/all.zip` });
          expect(again).toMatchObject({ records: files, unchanged: files });
          expect(readdirSync(tmp)).toEqual([]);
          const cut = await syncFrom(t.store, { source: 'osv', from: `${base}/cut/all.zip` }).catch(
            (e: unknown) => e,
          );
          expect(cut).toMatchObject({ code: 'E_INPUT' });
          expect((cut as MamoriError).message).toContain(`${base}/cut/all.zip: corrupt zip`);
          expect(readdirSync(tmp)).toEqual([]);
        } finally {
          if (before === undefined) delete process.env.TMPDIR;
          else process.env.TMPDIR = before;
          rmSync(tmp, { recursive: true, force: true });
        }
        const missing = await syncFrom(t.store, {
          source: 'osv',
          from: `${base}/npm/all.zip`,
        }).catch((e: unknown) => e);
        expect(missing).toBeInstanceOf(MamoriError);
        expect((missing as MamoriError).code).toBe('E_NETWORK');
        expect((missing as MamoriError).message).toMatch(/HTTP 404/);
      } finally {
        await t.cleanup();
      }
    });

  it('the CLI downloads each --ecosystem from MAMORI_OSV_URL; a missing one is a network error', async () => {
    const { spec, cleanup } = await freshSpec('sqlite');
    try {
      requests.length = 0;
      const ok = await runMamori(
        ['vuln', 'sync', '--source', 'osv', '--ecosystem', 'PyPI', '--json', '--db', spec],
        { env: { MAMORI_OSV_URL: `${base}/` } },
      );
      expect(ok.stderr).toBe('');
      expect(ok.code).toBe(0);
      expect(JSON.parse(ok.stdout)).toMatchObject({ source: 'osv', records: files, added: files });
      expect(requests).toEqual(['/PyPI/all.zip']);
      const bad = await runMamori(
        ['vuln', 'sync', '--source', 'osv', '--ecosystem', 'Go', '--db', spec],
        { env: { MAMORI_OSV_URL: base } },
      );
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(/HTTP 404/);
    } finally {
      await cleanup();
    }
  });
});
