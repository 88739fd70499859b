/**
 * Zip input as `vuln sync` streams it: every entry comes out byte for byte, whether the zip
 * gives sizes in its local headers (zipSync) or only in data descriptors after each entry
 * (streaming Zip, as large archives are written), whether an entry is stored or deflated, and
 * when an entry spans many of the reader's 1 MiB chunks. Entries are inflated into one reused
 * buffer, so each is copied here before the next is read; one whose header gives another size
 * than its data inflates to is a corrupt zip.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Zip, ZipDeflate, ZipPassThrough, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inputEntries } from '../../src/vuln/input.js';
import { vector } from '../helpers/vectors.js';

const pypa = vector('vuln/osv/pypa');

function sources(): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  for (const pkg of readdirSync(pypa, { withFileTypes: true }).filter((d) => d.isDirectory()))
    for (const f of readdirSync(join(pypa, pkg.name)).sort())
      files.set(`PyPI/${pkg.name}/${f}`, new Uint8Array(readFileSync(join(pypa, pkg.name, f))));
  // one entry of ~3 MB that compresses poorly: it spans several 1 MiB read chunks
  let x = 1;
  const big = new Uint8Array(3_000_000);
  for (let i = 0; i < big.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    big[i] = 97 + ((x >>> 16) % 26);
  }
  files.set('PyPI/big/BIG-1.json', big);
  return files;
}

function streamed(files: Map<string, Uint8Array>): Uint8Array {
  const out: Uint8Array[] = [];
  const zip = new Zip((err, chunk) => {
    if (err) throw err;
    out.push(chunk);
  });
  let i = 0;
  for (const [name, bytes] of files) {
    // every third entry stored, the rest deflated; sizes only in data descriptors
    const entry = i++ % 3 === 0 ? new ZipPassThrough(name) : new ZipDeflate(name, { level: 6 });
    zip.add(entry);
    entry.push(bytes, true);
  }
  zip.end();
  const all = new Uint8Array(out.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of out) {
    all.set(c, off);
    off += c.length;
  }
  return all;
}

describe('zip input', () => {
  let dir: string;
  let files: Map<string, Uint8Array>;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mamori-zip-'));
    files = sources();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const [kind, make] of [
    ['sizes in the local headers', (f: Map<string, Uint8Array>) => zipSync(Object.fromEntries(f))],
    ['sizes in data descriptors, stored and deflated entries', streamed],
  ] as const)
    it(`yields every entry byte for byte (${kind})`, async () => {
      const path = join(dir, `${kind.length}.zip`);
      writeFileSync(path, make(files));
      const seen = new Map<string, Uint8Array>();
      for await (const e of inputEntries(path))
        seen.set(e.name.slice(path.length + 1), e.bytes.slice());
      expect([...seen.keys()]).toEqual([...files.keys()]);
      for (const [name, bytes] of files) expect(Buffer.compare(seen.get(name)!, bytes)).toBe(0);
    });

  it('reports an entry that inflates to other than its header size as a corrupt zip', async () => {
    const bytes = new TextEncoder().encode(
      JSON.stringify({ id: 'PYSEC-0-0', text: 'x'.repeat(500) }),
    );
    const zip = zipSync({ 'a.json': bytes }, { level: 6 });
    const view = new DataView(zip.buffer, zip.byteOffset);
    expect(view.getUint32(0, true)).toBe(0x04034b50);
    expect(view.getUint32(22, true)).toBe(bytes.length);
    for (const [told, says] of [
      [bytes.length - 1, /inflates to more than .* its header says/],
      [bytes.length + 1, new RegExp(`inflates to ${bytes.length} bytes, its header says`)],
    ] as const) {
      const copy = zip.slice();
      new DataView(copy.buffer).setUint32(22, told, true);
      const path = join(dir, `told-${told}.zip`);
      writeFileSync(path, copy);
      const err = await (async () => {
        for await (const _ of inputEntries(path));
      })().catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'E_INPUT', message: expect.stringMatching(says) });
      expect((err as Error).message).toMatch(/corrupt zip/);
    }
  });
});
