/**
 * Zip input as `vuln sync` streams it: every entry comes out byte for byte, whether the zip
 * gives sizes in its local headers (zipSync) or only in data descriptors after each entry
 * (streaming Zip, as large archives are written), whether an entry is stored or deflated, and
 * when an entry is larger than the reader's 1 MiB window; entries written with data descriptors
 * whose bytes hold header signatures; ZIP64 records. Entries are inflated into one reused
 * buffer, so each is copied here before the next is read. A central directory whose size, CRC
 * or method does not fit the data makes a corrupt zip.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import zlib from 'node:zlib';
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

  it('reads a data-descriptor entry whose bytes hold zip header signatures', async () => {
    // A reader that streams from the front finds the end of such an entry by scanning for the
    // next signature, and cut this one short; the central directory gives its real size.
    const text = `{"id":"PYSEC-0-1","details":"PK\u0003\u0004 PK\u0007\u0008 PK\u0001\u0002 end"}`;
    const bytes = new TextEncoder().encode(text);
    const out: Uint8Array[] = [];
    const zip = new Zip((err, chunk) => {
      if (err) throw err;
      out.push(chunk);
    });
    const entry = new ZipPassThrough('PyPI/sig.json');
    zip.add(entry);
    entry.push(bytes, true);
    const after = new ZipPassThrough('PyPI/after.json');
    zip.add(after);
    after.push(new TextEncoder().encode('{}'), true);
    zip.end();
    const path = join(dir, 'sig.zip');
    writeFileSync(path, Buffer.concat(out));
    const got: [string, string][] = [];
    for await (const e of inputEntries(path))
      got.push([e.name.slice(path.length + 1), Buffer.from(e.bytes).toString()]);
    expect(got).toEqual([
      ['PyPI/sig.json', text],
      ['PyPI/after.json', '{}'],
    ]);
  });

  it('reads ZIP64 sizes, offsets and end records', async () => {
    const path = join(dir, 'zip64.zip');
    const body = new TextEncoder().encode('{"id":"PYSEC-0-64"}');
    writeFileSync(path, zip64Stored('PyPI/z.json', body));
    const got: string[] = [];
    for await (const e of inputEntries(path)) got.push(Buffer.from(e.bytes).toString());
    expect(got).toEqual(['{"id":"PYSEC-0-64"}']);
  });

  it('reports a size or CRC that does not match the data as a corrupt zip', async () => {
    const bytes = new TextEncoder().encode(
      JSON.stringify({ id: 'PYSEC-0-0', text: 'x'.repeat(500) }),
    );
    const zip = zipSync({ 'a.json': bytes }, { level: 6 });
    const eocd = zip.length - 22;
    const view = new DataView(zip.buffer, zip.byteOffset);
    expect(view.getUint32(eocd, true)).toBe(0x06054b50);
    const central = view.getUint32(eocd + 16, true);
    expect(view.getUint32(central, true)).toBe(0x02014b50);
    expect(view.getUint32(central + 24, true)).toBe(bytes.length);
    const cases: [string, (v: DataView) => void, RegExp][] = [
      ['short', (v) => v.setUint32(central + 24, bytes.length - 1, true), /inflates to more than/],
      [
        'long',
        (v) => v.setUint32(central + 24, bytes.length + 1, true),
        new RegExp(`inflates to ${bytes.length} bytes, its header says ${bytes.length + 1}`),
      ],
      [
        'crc',
        (v) => v.setUint32(central + 16, v.getUint32(central + 16, true) ^ 1, true),
        /CRC-32 mismatch/,
      ],
      ['method', (v) => v.setUint16(central + 10, 12, true), /unsupported compression method 12/],
      [
        'huge',
        (v) => v.setUint32(central + 24, 0xfffffff0, true),
        /entries over \d+ bytes are refused/,
      ],
    ];
    for (const [label, edit, says] of cases) {
      const copy = zip.slice();
      edit(new DataView(copy.buffer));
      const path = join(dir, `bad-${label}.zip`);
      writeFileSync(path, copy);
      const err = await (async () => {
        for await (const _ of inputEntries(path));
      })().catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'E_INPUT', message: expect.stringMatching(says) });
      expect((err as Error).message).toMatch(/corrupt zip: a\.json: /);
    }
  });
});

/**
 * A one-entry stored zip in ZIP64 form, as writers make it past 4 GiB or 65,535 entries: the
 * central header's sizes and offset at ~0 with the real ones in its ZIP64 extra field, and a
 * ZIP64 end record with its locator before an end record whose fields are all at ~0.
 */
function zip64Stored(name: string, body: Uint8Array): Buffer {
  const n = Buffer.from(name);
  const crc = zlib.crc32(body);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(45, 4);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(body.length, 18);
  local.writeUInt32LE(body.length, 22);
  local.writeUInt16LE(n.length, 26);
  const extra = Buffer.alloc(28);
  extra.writeUInt16LE(0x0001, 0);
  extra.writeUInt16LE(24, 2);
  extra.writeBigUInt64LE(BigInt(body.length), 4);
  extra.writeBigUInt64LE(BigInt(body.length), 12);
  extra.writeBigUInt64LE(0n, 20);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(45, 4);
  central.writeUInt16LE(45, 6);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(0xffffffff, 20);
  central.writeUInt32LE(0xffffffff, 24);
  central.writeUInt16LE(n.length, 28);
  central.writeUInt16LE(extra.length, 30);
  central.writeUInt32LE(0xffffffff, 42);
  const cdOffset = local.length + n.length + body.length;
  const cdSize = central.length + n.length + extra.length;
  const end64 = Buffer.alloc(56);
  end64.writeUInt32LE(0x06064b50, 0);
  end64.writeBigUInt64LE(44n, 4);
  end64.writeBigUInt64LE(1n, 24);
  end64.writeBigUInt64LE(1n, 32);
  end64.writeBigUInt64LE(BigInt(cdSize), 40);
  end64.writeBigUInt64LE(BigInt(cdOffset), 48);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(0x07064b50, 0);
  locator.writeBigUInt64LE(BigInt(cdOffset + cdSize), 8);
  locator.writeUInt32LE(1, 16);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(0xffff, 8);
  end.writeUInt16LE(0xffff, 10);
  end.writeUInt32LE(0xffffffff, 12);
  end.writeUInt32LE(0xffffffff, 16);
  return Buffer.concat([local, n, body, central, n, extra, end64, locator, end]);
}
