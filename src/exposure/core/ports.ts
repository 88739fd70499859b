/**
 * Port lists for `scan --ports`: named sets (camera, top100) and lists of ports and ranges
 * (`22,80,8000-8100`). Errors point at the character that is wrong. Pure.
 */
import { MamoriError } from '../../shared/errors.js';

/** Ports where cameras, DVRs/NVRs and their routers are commonly reachable (public vendor docs). */
export const CAMERA_PORTS = [
  21, 22, 23, 80, 81, 82, 88, 443, 554, 1935, 2000, 3702, 5000, 7001, 8000, 8001, 8080, 8081, 8088,
  8181, 8443, 8554, 8899, 9000, 10554, 34567, 37777, 37778,
] as const;

/** The 100 most common TCP ports (the order nmap's public services frequencies give). */
export const TOP100_PORTS = [
  7, 9, 13, 21, 22, 23, 25, 26, 37, 53, 79, 80, 81, 88, 106, 110, 111, 113, 119, 135, 139, 143, 144,
  179, 199, 389, 427, 443, 444, 445, 465, 513, 514, 515, 543, 544, 548, 554, 587, 631, 646, 873,
  990, 993, 995, 1025, 1026, 1027, 1028, 1029, 1110, 1433, 1720, 1723, 1755, 1900, 2000, 2001, 2049,
  2121, 2717, 3000, 3128, 3306, 3389, 3986, 4899, 5000, 5009, 5051, 5060, 5101, 5190, 5357, 5432,
  5631, 5666, 5800, 5900, 6000, 6001, 6646, 7070, 8000, 8008, 8009, 8080, 8081, 8443, 8888, 9100,
  9999, 10000, 32768, 49152, 49153, 49154, 49155, 49156, 49157,
] as const;

function bad(input: string, pos: number, why: string): never {
  throw new MamoriError(
    'E_INPUT',
    `--ports: ${why} at position ${pos + 1}: "${input}"\n  ${' '.repeat(pos + 1)}^`,
    {
      hint: 'use camera, top100, or a list such as 22,80,8000-8100 (ports 1-65535)',
      details: { input, position: pos + 1 },
    },
  );
}

/**
 * @example parsePorts('22,80-82') → [22, 80, 81, 82]
 */
export function parsePorts(input: string): number[] {
  const s = input.trim();
  if (s === 'camera') return [...CAMERA_PORTS];
  if (s === 'top100') return [...TOP100_PORTS];
  if (s === '') bad(input, 0, 'empty port list');
  const out = new Set<number>();
  let pos = 0;
  for (const item of input.split(',')) {
    if (item === '') bad(input, pos, 'empty item');
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(item);
    if (!m) {
      const i = item.search(/[^\d-]/);
      bad(input, pos + (i >= 0 ? i : item.length - 1), 'not a port or range');
    }
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (lo < 1 || lo > 65535) bad(input, pos, `port ${lo} out of 1-65535`);
    if (hi < 1 || hi > 65535) bad(input, pos + m[1]!.length + 1, `port ${hi} out of 1-65535`);
    if (hi < lo) bad(input, pos + m[1]!.length, `range ${lo}-${hi} runs backwards`);
    for (let p = lo; p <= hi; p++) out.add(p);
    pos += item.length + 1;
  }
  return [...out].sort((a, b) => a - b);
}
