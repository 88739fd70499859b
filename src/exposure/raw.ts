/**
 * A raw IPv4 TCP socket for the SYN scan, through koffi (a C FFI with prebuilt binaries, already
 * used for SO_PEERNAME in the honeypot) calling libc: socket(AF_INET, SOCK_RAW|SOCK_NONBLOCK,
 * IPPROTO_TCP) with IP_HDRINCL, sendto, and recvfrom until EAGAIN. The same socket sends our SYNs
 * and receives a copy of every TCP packet the host gets; the caller sorts answers from noise.
 * Waiting for the socket to become readable is poll() on koffi's worker thread, so the event loop
 * never blocks. Linux only; without CAP_NET_RAW it refuses with E_DEPENDENCY (exit 3) and the
 * reason, and the caller never falls back to a connect scan.
 */
import { createRequire } from 'node:module';
import { MamoriError } from '../shared/errors.js';

const AF_INET = 2;
const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0x800;
const IPPROTO_TCP = 6;
const IPPROTO_IP = 0;
const IP_HDRINCL = 3;
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const SO_SNDBUF = 7;
const SO_RCVBUFFORCE = 33;
const SO_SNDBUFFORCE = 32;
const POLLIN = 1;
const EAGAIN = 11;
const ENOBUFS = 105;
const EPERM = 1;
const EACCES = 13;

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, val: Buffer, len: number): number;
  sendto(
    fd: number,
    buf: Uint8Array,
    len: number,
    flags: number,
    to: Buffer,
    tolen: number,
  ): number;
  recvfrom(fd: number, buf: Uint8Array, len: number, flags: number, a: null, b: null): number;
  poll: { async(fds: Buffer, n: number, ms: number, cb: (err: unknown, r: number) => void): void };
  close(fd: number): number;
  errno(): number;
  strerror(n: number): string;
}

let libc: Libc | undefined;

function load(): Libc {
  if (libc) return libc;
  if (process.platform !== 'linux')
    throw new MamoriError('E_DEPENDENCY', 'exposure scan --syn needs Linux raw sockets');
  let koffi: {
    load(lib: string): { func(sig: string): (...a: unknown[]) => unknown };
    errno(): number;
  };
  try {
    koffi = createRequire(import.meta.url)('koffi');
  } catch (err) {
    throw new MamoriError('E_DEPENDENCY', 'exposure scan --syn needs koffi, which did not load', {
      cause: err,
    });
  }
  const c = koffi.load('libc.so.6');
  const f = (sig: string) => c.func(sig);
  libc = {
    socket: f('int socket(int, int, int)') as Libc['socket'],
    setsockopt: f('int setsockopt(int, int, int, const void *, uint32_t)') as Libc['setsockopt'],
    sendto: f(
      'intptr_t sendto(int, const void *, uintptr_t, int, const void *, uint32_t)',
    ) as Libc['sendto'],
    recvfrom: f(
      'intptr_t recvfrom(int, _Out_ void *, uintptr_t, int, void *, void *)',
    ) as Libc['recvfrom'],
    poll: f('int poll(_Inout_ void *, uint64_t, int)') as unknown as Libc['poll'],
    close: f('int close(int)') as Libc['close'],
    errno: () => koffi.errno(),
    strerror: f('const char *strerror(int)') as Libc['strerror'],
  };
  return libc;
}

export interface RawTcpSocket {
  /** Send one IPv4 packet (IP header included) to `dst`; false when the kernel's queue is full. */
  send(packet: Uint8Array, length: number, dst: number): boolean;
  /** Read every packet waiting, calling `onPacket` with a reused buffer; returns the count. */
  drain(onPacket: (buf: Uint8Array, length: number) => void): number;
  /** Resolve when a packet is waiting or after `ms`. */
  readable(ms: number): Promise<void>;
  close(): void;
}

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n);
  return b;
}

/**
 * Open the raw socket, or refuse with the reason (exit 3): no CAP_NET_RAW, not Linux, no koffi.
 * @example const raw = openRawTcp(); raw.send(syn, SYN_LENGTH, 0xc6120005); raw.close();
 */
export function openRawTcp(): RawTcpSocket {
  const c = load();
  const fd = c.socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK, IPPROTO_TCP);
  if (fd < 0) {
    const e = c.errno();
    const why =
      e === EPERM || e === EACCES
        ? 'this process lacks CAP_NET_RAW (run as root, or grant it: setcap cap_net_raw+ep $(command -v node))'
        : c.strerror(e);
    throw new MamoriError('E_DEPENDENCY', `exposure scan --syn cannot open a raw socket: ${why}`, {
      hint: 'without --syn the scan uses TCP connect, which needs no privilege',
    });
  }
  if (c.setsockopt(fd, IPPROTO_IP, IP_HDRINCL, int32(1), 4) !== 0) {
    const e = c.errno();
    c.close(fd);
    throw new MamoriError('E_DEPENDENCY', `raw socket: IP_HDRINCL refused: ${c.strerror(e)}`);
  }
  // deep queues: answers wait here whenever the event loop is busy (a store write, a GC pause)
  const big = int32(64 << 20);
  if (c.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, big, 4) !== 0)
    c.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, big, 4);
  const sbuf = int32(8 << 20);
  if (c.setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, sbuf, 4) !== 0)
    c.setsockopt(fd, SOL_SOCKET, SO_SNDBUF, sbuf, 4);
  const to = Buffer.alloc(16);
  to.writeUInt16LE(AF_INET, 0);
  const rx = new Uint8Array(65536);
  const pfd = Buffer.alloc(8);
  pfd.writeInt32LE(fd, 0);
  let open = true;
  return {
    send(packet, length, dst) {
      to.writeUInt32BE(dst >>> 0, 4);
      const n = c.sendto(fd, packet, length, 0, to, 16);
      if (n >= 0) return true;
      const e = c.errno();
      if (e === EAGAIN || e === ENOBUFS) return false;
      throw new MamoriError('E_NETWORK', `raw socket send failed: ${c.strerror(e)}`);
    },
    drain(onPacket) {
      let count = 0;
      for (;;) {
        const n = c.recvfrom(fd, rx, rx.length, 0, null, null);
        if (n < 0) {
          const e = c.errno();
          if (e === EAGAIN) return count;
          throw new MamoriError('E_NETWORK', `raw socket receive failed: ${c.strerror(e)}`);
        }
        count++;
        onPacket(rx, n);
      }
    },
    readable(ms) {
      return new Promise((resolve) => {
        if (!open) return resolve();
        pfd.writeInt16LE(POLLIN, 4);
        pfd.writeInt16LE(0, 6);
        c.poll.async(pfd, 1, Math.max(0, Math.round(ms)), () => resolve());
      });
    },
    close() {
      if (!open) return;
      open = false;
      c.close(fd);
    },
  };
}

/** The local IPv4 source the kernel would use toward `dst` (a connected UDP socket, no packet). */
export async function sourceFor(dst: string): Promise<string> {
  const { createSocket } = await import('node:dgram');
  const s = createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.connect(9, dst, () => resolve());
    });
    return s.address().address;
  } finally {
    s.close();
  }
}
