/**
 * Zip archives read the way unzip(1) reads them: through the central directory at the end of
 * the file, which gives every entry's offset, method, sizes and CRC-32 (APPNOTE 6.3, with
 * ZIP64). A reader that streams from the front cannot know where an entry written with a data
 * descriptor ends (Go's archive/zip writes them so) except by scanning its compressed bytes for
 * the next header's signature, which compressed data holds by chance about once per 1.4 GB;
 * fflate's streaming `Unzip` also kept some state per entry, which on a 600,000-entry zip made
 * each entry slower than the last. Entries are inflated one at a time into one reused buffer,
 * so an entry's bytes are valid only until the next is asked for.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { inflateSync } from 'fflate';
import { MamoriError } from '../shared/errors.js';

export interface ZipFileEntry {
  /** The entry's path inside the archive. */
  name: string;
  /** Its bytes: a view of a reused buffer, valid until the next entry is asked for. */
  bytes: Uint8Array;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX_COMMENT = 0xffff;

/** Bytes read ahead from the file at a time. */
const WINDOW = 1 << 20;
/** Entries up to this size are inflated into one reused buffer; larger ones get their own. */
const SCRATCH_MAX = 1 << 20;
/**
 * The largest entry read. A record file is at most tens of MB (a JVN yearly detail feed is
 * about 70 MB); a size past this is a damaged or hostile header, not something to allocate.
 */
export const MAX_ENTRY_BYTES = 512 * 2 ** 20;

const u16 = (b: Uint8Array, at: number) => b[at]! | (b[at + 1]! << 8);
const u32 = (b: Uint8Array, at: number) =>
  (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
const u64 = (b: Uint8Array, at: number) => u32(b, at) + u32(b, at + 4) * 2 ** 32;

/** Reads of one file through a read-ahead window: sequential small reads cost one read(2). */
class FileWindow {
  private buf = new Uint8Array(0);
  private start = 0;
  private end = 0;
  constructor(
    private readonly fd: number,
    readonly size: number,
  ) {}

  /** `length` bytes at `offset`, or undefined past the end of the file. A view: copy to keep. */
  read(offset: number, length: number): Uint8Array | undefined {
    if (offset < 0 || length < 0 || offset + length > this.size) return undefined;
    if (offset >= this.start && offset + length <= this.end)
      return this.buf.subarray(offset - this.start, offset - this.start + length);
    if (length > WINDOW) return this.fill(new Uint8Array(length), offset);
    if (this.buf.length < WINDOW) this.buf = new Uint8Array(WINDOW);
    const got = this.fill(this.buf.subarray(0, Math.min(WINDOW, this.size - offset)), offset);
    this.start = offset;
    this.end = offset + got.length;
    return got.subarray(0, length);
  }

  private fill(into: Uint8Array, offset: number): Uint8Array {
    let got = 0;
    while (got < into.length) {
      const n = readSync(this.fd, into, got, into.length - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    return into.subarray(0, got);
  }
}

/** Inflates entries one at a time into one reused buffer (see the module comment). */
class EntryInflater {
  private scratch = new Uint8Array(64 << 10);

  /** Inflate `data`, which the central directory says inflates to `size` bytes. */
  inflate(data: Uint8Array, size: number): Uint8Array {
    // One byte of room more than the size shows a stream that runs past it.
    const cap = size + 1;
    if (cap > SCRATCH_MAX) return inflateSync(data, { out: new Uint8Array(cap) });
    if (this.scratch.length < cap) this.scratch = new Uint8Array(Math.min(SCRATCH_MAX, cap * 2));
    return inflateSync(data, { out: this.scratch.subarray(0, cap) });
  }
}

interface CentralEntry {
  name: string;
  method: number;
  encrypted: boolean;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

const utf8 = new TextDecoder('utf-8');
const latin1 = new TextDecoder('latin1');

/**
 * The entries of the zip file at `path`, in central-directory order, directories left out.
 * `wanted` filters by name before anything is read or inflated. A cut, garbled or encrypted
 * archive, an unknown compression method or a CRC mismatch is an `E_INPUT` error naming the
 * file as `shownAs` (a downloaded zip's URL) and the entry.
 */
export function* zipFileEntries(
  path: string,
  wanted: (name: string) => boolean = () => true,
  shownAs = path,
): Generator<ZipFileEntry> {
  const corrupt = (why: string) => new MamoriError('E_INPUT', `${shownAs}: corrupt zip: ${why}`);
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const data = new FileWindow(fd, size);
    const central = new FileWindow(fd, size);
    const { offset, end } = centralDirectory(central, corrupt);
    const inflater = new EntryInflater();
    let pos = offset;
    let index = 0;
    while (pos < end) {
      index++;
      const e = centralEntry(central, pos, index, corrupt);
      pos = e.next;
      if (e.entry.name.endsWith('/') || !wanted(e.entry.name)) continue;
      yield { name: e.entry.name, bytes: entryBytes(data, e.entry, inflater, corrupt) };
    }
    if (index === 0) throw corrupt('the central directory lists no entries');
  } finally {
    closeSync(fd);
  }
}

/** Where the central directory is: from the end record, or its ZIP64 form when present. */
function centralDirectory(
  file: FileWindow,
  corrupt: (why: string) => MamoriError,
): { offset: number; end: number } {
  const tailLength = Math.min(file.size, 22 + MAX_COMMENT);
  const tailStart = file.size - tailLength;
  const tail = file.read(tailStart, tailLength)?.slice();
  if (!tail) throw corrupt('unreadable');
  let at = -1;
  for (let i = tail.length - 22; i >= 0; i--)
    if (u32(tail, i) === EOCD && i + 22 + u16(tail, i + 20) <= tail.length) {
      at = i;
      break;
    }
  if (at < 0) throw corrupt('no end of central directory record (cut short, or not a zip file?)');
  let count = u16(tail, at + 10);
  let cdSize = u32(tail, at + 12);
  let cdOffset = u32(tail, at + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const locator = file.read(tailStart + at - 20, 20);
    if (locator && u32(locator, 0) === ZIP64_LOCATOR) {
      const z = file.read(u64(locator, 8), 56);
      if (!z || u32(z, 0) !== ZIP64_EOCD) throw corrupt('ZIP64 end record missing');
      count = u64(z, 32);
      cdSize = u64(z, 40);
      cdOffset = u64(z, 48);
    }
  }
  if (cdOffset + cdSize > file.size)
    throw corrupt(
      `central directory (${cdSize} bytes at ${cdOffset}) lies past the end of the file`,
    );
  return { offset: cdOffset, end: cdOffset + cdSize };
}

function centralEntry(
  central: FileWindow,
  pos: number,
  index: number,
  corrupt: (why: string) => MamoriError,
): { entry: CentralEntry; next: number } {
  const h = central.read(pos, 46);
  if (!h || u32(h, 0) !== CENTRAL) throw corrupt(`central directory entry ${index} is damaged`);
  const flags = u16(h, 8);
  const method = u16(h, 10);
  const crc = u32(h, 16);
  let compressedSize = u32(h, 20);
  let size = u32(h, 24);
  const nameLength = u16(h, 28);
  const extraLength = u16(h, 30);
  const commentLength = u16(h, 32);
  let localOffset = u32(h, 42);
  const rest = central.read(pos + 46, nameLength + extraLength);
  if (!rest) throw corrupt(`central directory entry ${index} is cut short`);
  // Bit 11: the name is UTF-8; without it, IBM 437, whose ASCII half is all a record name uses.
  const name = (flags & 0x800 ? utf8 : latin1).decode(rest.subarray(0, nameLength));
  if (size === 0xffffffff || compressedSize === 0xffffffff || localOffset === 0xffffffff) {
    // The ZIP64 extra field holds, in this order, only the values the header left at ~0.
    for (let x = nameLength; x + 4 <= rest.length; ) {
      const id = u16(rest, x);
      const len = u16(rest, x + 2);
      if (id === 0x0001) {
        let f = x + 4;
        if (size === 0xffffffff) {
          size = u64(rest, f);
          f += 8;
        }
        if (compressedSize === 0xffffffff) {
          compressedSize = u64(rest, f);
          f += 8;
        }
        if (localOffset === 0xffffffff) localOffset = u64(rest, f);
        break;
      }
      x += 4 + len;
    }
  }
  return {
    entry: { name, method, encrypted: (flags & 1) === 1, crc, compressedSize, size, localOffset },
    next: pos + 46 + nameLength + extraLength + commentLength,
  };
}

function entryBytes(
  data: FileWindow,
  e: CentralEntry,
  inflater: EntryInflater,
  corrupt: (why: string) => MamoriError,
): Uint8Array {
  const bad = (why: string) => corrupt(`${e.name}: ${why}`);
  if (e.encrypted) throw bad('encrypted entries are not supported');
  if (e.size > MAX_ENTRY_BYTES)
    throw bad(`its header says ${e.size} bytes; entries over ${MAX_ENTRY_BYTES} bytes are refused`);
  const local = data.read(e.localOffset, 30);
  if (!local || u32(local, 0) !== LOCAL) throw bad(`no local header at offset ${e.localOffset}`);
  // The local header's name and extra field may differ in length from the central copy's.
  const start = e.localOffset + 30 + u16(local, 26) + u16(local, 28);
  const raw = data.read(start, e.compressedSize);
  if (!raw) throw bad('data cut short');
  let bytes: Uint8Array;
  if (e.method === 0) {
    if (e.compressedSize !== e.size) throw bad('stored entry whose two sizes differ');
    bytes = raw;
  } else if (e.method === 8) {
    try {
      bytes = inflater.inflate(raw, e.size);
    } catch (err) {
      throw bad((err as Error).message);
    }
    if (bytes.length !== e.size)
      throw bad(
        `inflates to ${bytes.length > e.size ? 'more than' : bytes.length} bytes, its header says ${e.size}`,
      );
  } else throw bad(`unsupported compression method ${e.method}`);
  if (crc32(bytes) >>> 0 !== e.crc) throw bad('CRC-32 mismatch');
  return bytes;
}
