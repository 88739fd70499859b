/**
 * The source address of a connection that was reset before we read it. A connect scanner
 * (nmap -sT) completes the handshake and resets at once; by the time Node accepts the socket,
 * getpeername() fails (ENOTCONN) and `socket.remoteAddress` is undefined. Linux still answers
 * getsockopt(SO_PEERNAME), which asks for the peer as accept() does and so skips that check.
 * Node has no binding for it, so it is called through koffi (a C FFI with prebuilt binaries).
 * Not portable: elsewhere, or when koffi cannot load, the address stays unknown and the
 * caller records it as such.
 */
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';

type GetSockOpt = (fd: number, level: number, name: number, val: Buffer, len: number[]) => number;

const SOL_SOCKET = 1;
const SO_PEERNAME = 28;
const AF_INET = 2;
const AF_INET6 = 10;

let getsockopt: GetSockOpt | null | undefined;

function load(): GetSockOpt | null {
  if (getsockopt !== undefined) return getsockopt;
  getsockopt = null;
  if (process.platform !== 'linux') return null;
  try {
    const koffi = createRequire(import.meta.url)('koffi') as {
      load(lib: string): { func(sig: string): GetSockOpt };
    };
    getsockopt = koffi
      .load('libc.so.6')
      .func(
        'int getsockopt(int fd, int level, int name, _Out_ uint8_t *val, _Inout_ uint32_t *len)',
      );
  } catch {
    getsockopt = null;
  }
  return getsockopt;
}

/**
 * The peer of `socket` as `{ address, port }`, from the kernel even after a reset; undefined
 * when it cannot be known.
 * @example peerOf(socket) // { address: '127.0.0.9', port: 38477 }
 */
export function peerOf(socket: Socket): { address: string; port: number } | undefined {
  if (socket.remoteAddress) return { address: socket.remoteAddress, port: socket.remotePort ?? 0 };
  const fd = (socket as Socket & { _handle?: { fd?: number } })._handle?.fd;
  const call = load();
  if (call === null || typeof fd !== 'number' || fd < 0) return undefined;
  // SO_PEERNAME refuses a buffer longer than the address: ask with the family's exact size.
  const six = (socket.localAddress ?? '').includes(':');
  const buf = Buffer.alloc(six ? 28 : 16);
  try {
    if (call(fd, SOL_SOCKET, SO_PEERNAME, buf, [buf.length]) !== 0) return undefined;
  } catch {
    return undefined;
  }
  const family = buf.readUInt16LE(0);
  const port = buf.readUInt16BE(2);
  if (family === AF_INET) return { address: [...buf.subarray(4, 8)].join('.'), port };
  if (family === AF_INET6) {
    const words: string[] = [];
    for (let i = 8; i < 24; i += 2) words.push(buf.readUInt16BE(i).toString(16));
    const text = words.join(':');
    if (text.startsWith('0:0:0:0:0:ffff:'))
      return { address: [...buf.subarray(20, 24)].join('.'), port };
    // The WHATWG URL parser writes IPv6 in its canonical compressed form.
    return { address: new URL(`http://[${text}]/`).hostname.slice(1, -1), port };
  }
  return undefined;
}
