/**
 * A tiny baseline JPEG encoder (greyscale, standard Annex K tables) and the camera's synthetic
 * test pattern with a clock: the only "video" the honeypot ever serves. Pure: pixels in,
 * bytes out. Not a general image library: one component, no subsampling, no options but quality.
 */

const ZIGZAG = [
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
  13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52,
  45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

const LUMA_Q = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
  14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113,
  92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

const DC_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_VALS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const AC_BITS = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d];
// biome-ignore format: the Annex K table reads best in rows of eight
const AC_VALS = [
  0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
  0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0,
  0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28,
  0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
  0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
  0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
  0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
  0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5,
  0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2,
  0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
  0xf9, 0xfa,
];

/** Canonical Huffman codes from (bits, vals): symbol → [code, length]. */
function huffCodes(bits: number[], vals: number[]): Map<number, [number, number]> {
  const out = new Map<number, [number, number]>();
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    for (let i = 0; i < bits[len - 1]!; i++) out.set(vals[k++]!, [code++, len]);
    code <<= 1;
  }
  return out;
}

const DC_CODES = huffCodes(DC_BITS, DC_VALS);
const AC_CODES = huffCodes(AC_BITS, AC_VALS);

const COS: number[] = [];
for (let x = 0; x < 8; x++)
  for (let u = 0; u < 8; u++) COS[x * 8 + u] = Math.cos(((2 * x + 1) * u * Math.PI) / 16);

class BitWriter {
  readonly bytes: number[] = [];
  #acc = 0;
  #n = 0;
  write(code: number, len: number): void {
    for (let i = len - 1; i >= 0; i--) {
      this.#acc = (this.#acc << 1) | ((code >> i) & 1);
      if (++this.#n === 8) {
        this.bytes.push(this.#acc);
        if (this.#acc === 0xff) this.bytes.push(0);
        this.#acc = 0;
        this.#n = 0;
      }
    }
  }
  flush(): void {
    if (this.#n > 0) this.write((1 << (8 - this.#n)) - 1, 8 - this.#n);
  }
}

function category(v: number): number {
  let a = Math.abs(v);
  let n = 0;
  while (a > 0) {
    n++;
    a >>= 1;
  }
  return n;
}

/**
 * Encode 8-bit greyscale pixels (row-major, width×height) as a baseline JPEG.
 * @example encodeGreyJpeg(new Uint8Array(64).fill(128), 8, 8)[0] === 0xff
 */
export function encodeGreyJpeg(
  pixels: Uint8Array,
  width: number,
  height: number,
  quality = 75,
): Uint8Array {
  if (width < 1 || height < 1 || width > 65535 || height > 65535 || pixels.length < width * height)
    throw new RangeError('bad image size');
  const scale = quality < 50 ? 5000 / quality : 200 - quality * 2;
  const q = LUMA_Q.map((v) => Math.min(255, Math.max(1, Math.floor((v * scale + 50) / 100))));
  const head: number[] = [0xff, 0xd8];
  head.push(0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0);
  head.push(0xff, 0xdb, 0, 67, 0);
  for (let i = 0; i < 64; i++) head.push(q[ZIGZAG[i]!]!);
  head.push(
    0xff,
    0xc0,
    0,
    11,
    8,
    height >> 8,
    height & 255,
    width >> 8,
    width & 255,
    1,
    1,
    0x11,
    0,
  );
  const dht = (cls: number, bits: number[], vals: number[]) => {
    const len = 3 + 16 + vals.length;
    head.push(0xff, 0xc4, len >> 8, len & 255, cls, ...bits, ...vals);
  };
  dht(0x00, DC_BITS, DC_VALS);
  dht(0x10, AC_BITS, AC_VALS);
  head.push(0xff, 0xda, 0, 8, 1, 1, 0, 0, 63, 0);

  const w = new BitWriter();
  const block = new Float64Array(64);
  const coef = new Int32Array(64);
  let prevDc = 0;
  for (let by = 0; by < height; by += 8) {
    for (let bx = 0; bx < width; bx += 8) {
      for (let y = 0; y < 8; y++) {
        const sy = Math.min(by + y, height - 1);
        for (let x = 0; x < 8; x++) {
          const sx = Math.min(bx + x, width - 1);
          block[y * 8 + x] = pixels[sy * width + sx]! - 128;
        }
      }
      for (let v = 0; v < 8; v++) {
        for (let u = 0; u < 8; u++) {
          let s = 0;
          for (let y = 0; y < 8; y++) {
            const cy = COS[y * 8 + v]!;
            for (let x = 0; x < 8; x++) s += block[y * 8 + x]! * COS[x * 8 + u]! * cy;
          }
          const cu = u === 0 ? Math.SQRT1_2 : 1;
          const cv = v === 0 ? Math.SQRT1_2 : 1;
          coef[v * 8 + u] = Math.round((0.25 * cu * cv * s) / q[v * 8 + u]!);
        }
      }
      const dc = coef[0]!;
      const diff = dc - prevDc;
      prevDc = dc;
      writeValue(w, DC_CODES, category(diff), diff);
      let run = 0;
      for (let i = 1; i < 64; i++) {
        const c = coef[ZIGZAG[i]!]!;
        if (c === 0) {
          run++;
          continue;
        }
        while (run > 15) {
          const [code, len] = AC_CODES.get(0xf0)!;
          w.write(code, len);
          run -= 16;
        }
        const cat = category(c);
        writeValue(w, AC_CODES, (run << 4) | cat, c, cat);
        run = 0;
      }
      if (run > 0) {
        const [code, len] = AC_CODES.get(0x00)!;
        w.write(code, len);
      }
    }
  }
  w.flush();
  const out = new Uint8Array(head.length + w.bytes.length + 2);
  out.set(head, 0);
  out.set(w.bytes, head.length);
  out[out.length - 2] = 0xff;
  out[out.length - 1] = 0xd9;
  return out;
}

function writeValue(
  w: BitWriter,
  codes: Map<number, [number, number]>,
  symbol: number,
  value: number,
  cat = symbol,
): void {
  const [code, len] = codes.get(symbol)!;
  w.write(code, len);
  if (cat > 0) w.write(value < 0 ? value + (1 << cat) - 1 : value, cat);
}

// 5×7 glyphs for the overlay text, one string per row.
const FONT: Record<string, string[]> = {
  '0': ['01110', '10001', '10011', '10101', '11001', '10001', '01110'],
  '1': ['00100', '01100', '00100', '00100', '00100', '00100', '01110'],
  '2': ['01110', '10001', '00001', '00010', '00100', '01000', '11111'],
  '3': ['11110', '00001', '00001', '01110', '00001', '00001', '11110'],
  '4': ['00010', '00110', '01010', '10010', '11111', '00010', '00010'],
  '5': ['11111', '10000', '11110', '00001', '00001', '10001', '01110'],
  '6': ['00110', '01000', '10000', '11110', '10001', '10001', '01110'],
  '7': ['11111', '00001', '00010', '00100', '01000', '01000', '01000'],
  '8': ['01110', '10001', '10001', '01110', '10001', '10001', '01110'],
  '9': ['01110', '10001', '10001', '01111', '00001', '00010', '01100'],
  '-': ['00000', '00000', '00000', '11111', '00000', '00000', '00000'],
  ':': ['00000', '01100', '01100', '00000', '01100', '01100', '00000'],
  ' ': ['00000', '00000', '00000', '00000', '00000', '00000', '00000'],
  C: ['01110', '10001', '10000', '10000', '10000', '10001', '01110'],
  A: ['01110', '10001', '10001', '11111', '10001', '10001', '10001'],
  M: ['10001', '11011', '10101', '10101', '10001', '10001', '10001'],
};

function drawText(
  px: Uint8Array,
  width: number,
  text: string,
  x0: number,
  y0: number,
  s: number,
): void {
  let x = x0;
  for (const ch of text) {
    const g = FONT[ch] ?? FONT[' ']!;
    for (let gy = 0; gy < 7; gy++)
      for (let gx = 0; gx < 5; gx++) {
        const on = g[gy]![gx] === '1';
        for (let dy = 0; dy < s; dy++)
          for (let dx = 0; dx < s; dx++) {
            const idx = (y0 + gy * s + dy) * width + x + gx * s + dx;
            if (idx >= 0 && idx < px.length) px[idx] = on ? 255 : 16;
          }
      }
    x += 6 * s;
  }
}

/**
 * The camera's synthetic frame: grey bars, a moving sweep and the time as `CAM 01 <iso>`.
 * @example testPattern(Date.UTC(2026, 10, 25), 320, 240).length > 1000
 */
export function testPattern(timeMs: number, width = 320, height = 240): Uint8Array {
  const px = new Uint8Array(width * height);
  const bars = 8;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      px[y * width + x] = 32 + Math.floor((x * bars) / width) * Math.floor(200 / (bars - 1));
  const sweep = Math.floor((timeMs / 1000) % 60) * Math.floor(width / 60);
  for (let y = height - 24; y < height - 16; y++)
    for (let x = 0; x < sweep && x < width; x++) px[y * width + x] = 240;
  const iso = new Date(timeMs).toISOString();
  const stamp = `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
  drawText(px, width, 'CAM 01', 8, 8, 2);
  drawText(px, width, stamp, 8, 30, 1);
  return encodeGreyJpeg(px, width, height);
}
