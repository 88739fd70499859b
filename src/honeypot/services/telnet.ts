/**
 * The camera's telnet side: a BusyBox-like login that records every credential, then an
 * emulated shell (core/shell.ts) that records every command and every download attempt and
 * executes nothing. Option negotiation is answered once per option; an option storm, binary
 * garbage or an overlong line is recorded as `input.invalid` and ends the session.
 * Bounded: line length, pending input, login tries, commands per session, idle timeout.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { checkCredential } from '../core/credentials.js';
import { boundText, bytesPreview, looksBinary } from '../core/events.js';
import { runShellLine, SHELL_PROMPT } from '../core/shell.js';
import { SERVER_OFFER, TelnetFilter } from '../core/telnet-proto.js';
import { openSession, type ServiceOptions } from './session.js';

export const MAX_LINE = 1024;
const MAX_PENDING = 16 * 1024;
const MAX_LOGIN_TRIES = 3;
const MAX_COMMANDS = 500;
/** The login prompt's host name (BusyBox prints the device's hostname). */
const HOSTNAME = 'IPCAM';
/** A request line of another protocol, as scanners send to every open port. */
const PROBE_LINE = /^[A-Z][A-Z_-]{2,19} \S+ (HTTP|SIP|RTSP)\/\d\.\d$/;
/** Telnet commands per session before it is called a storm. */
export const MAX_TELNET_COMMANDS = 200;

/** @example createTelnet(opts).listen(2323, '127.0.0.1') */
export function createTelnet(opts: ServiceOptions): Server {
  return createServer((socket: Socket) => {
    const session = openSession(socket, 'telnet', opts);
    if (!session) return;
    const filter = new TelnetFilter();
    let state: 'user' | 'pass' | 'shell' | 'done' = 'user';
    let username = '';
    let tries = 0;
    let commands = 0;
    let pending = '';
    let echoing = true;
    let queue: Promise<void> = Promise.resolve();
    socket.setTimeout(opts.idleMs ?? 60_000, () => socket.destroy());
    socket.on('error', () => {});
    const say = (s: string | Uint8Array) => {
      if (socket.writable) socket.write(s);
    };
    // The banner goes out only once the connection is on record, as BusyBox telnetd sends
    // it: the option offer and the prompt in one segment.
    queue = session.emit('session.connect').then(() => {
      say(Buffer.concat([SERVER_OFFER, Buffer.from(`${HOSTNAME} login: `)]));
    });
    queue.catch(() => socket.destroy());
    socket.once('close', () => {
      state = 'done';
      void queue
        .catch(() => {})
        .then(() =>
          session.emit('session.closed', {
            durationMs: opts.clock.now() - session.started,
            commands,
            loginTries: tries,
          }),
        )
        .catch(() => {});
    });

    const end = (why: string, raw?: Uint8Array) => {
      state = 'done';
      socket.pause();
      queue = queue
        .then(() =>
          session.emit('input.invalid', {
            reason: why,
            bytes: raw ? bytesPreview(raw) : undefined,
          }),
        )
        .then(
          () => {
            socket.end();
          },
          () => {
            socket.destroy();
          },
        );
    };

    const line = async (text: string) => {
      if ((state === 'user' || state === 'pass') && PROBE_LINE.test(text)) {
        // A scanner's HTTP/SIP/RTSP request sent to every port is not a username: record it
        // as the probe it is and hang up, as the login program does on garbage.
        state = 'done';
        await session.emit('input.invalid', {
          reason: `protocol probe (${PROBE_LINE.exec(text)?.[1] ?? '?'})`,
          bytes: bytesPreview(Buffer.from(text.slice(0, 96), 'latin1')),
        });
        socket.end();
        return;
      }
      if (state === 'user') {
        username = text;
        state = 'pass';
        say('Password: ');
        return;
      }
      if (state === 'pass') {
        tries++;
        const ok = checkCredential(opts.auth, username, text);
        await session.emit(
          ok ? 'login.success' : 'login.failed',
          {},
          {
            username,
            password: text,
          },
        );
        echoing = true;
        if (ok) {
          state = 'shell';
          say(
            `\r\n\r\nBusyBox v1.20.2 (2016-05-17 14:27:11 CST) built-in shell (ash)\r\nEnter 'help' for a list of built-in commands.\r\n\r\n${SHELL_PROMPT}`,
          );
        } else if (tries >= MAX_LOGIN_TRIES) {
          say('\r\nLogin incorrect\r\n');
          state = 'done';
          socket.end();
        } else {
          state = 'user';
          say(`\r\nLogin incorrect\r\n${HOSTNAME} login: `);
        }
        return;
      }
      if (state !== 'shell') return;
      const result = runShellLine(text);
      const writes: Promise<void>[] = [];
      for (const eff of result.effects) {
        if (++commands > MAX_COMMANDS) {
          end('too many commands');
          return;
        }
        writes.push(
          session.emit('telnet.command', { command: boundText(eff.command), malware: eff.malware }),
        );
        if (eff.download)
          writes.push(
            session.emit('download.attempt', {
              tool: eff.download.tool,
              url: eff.download.url,
              executed: false,
            }),
          );
      }
      await Promise.all(writes);
      say(result.output.replace(/(?<!\r)\n/g, '\r\n'));
      if (result.exit) {
        state = 'done';
        socket.end();
      } else say(SHELL_PROMPT);
    };

    socket.on('data', (chunk: Buffer) => {
      if (state === 'done') return;
      const parsed = filter.push(chunk);
      if (parsed.replies.length) say(parsed.replies);
      if (filter.commands > MAX_TELNET_COMMANDS) return end('telnet option storm', chunk);
      if (parsed.data.length === 0) return;
      if (looksBinary(parsed.data)) return end('binary garbage', parsed.data);
      const typed = Buffer.from(parsed.data).toString('latin1');
      // We said WILL ECHO: echo what is typed, as a terminal expects, but never a password:
      // echo stops at the end of the username line and resumes once the password is judged.
      if (echoing) {
        const m = /\r\0|\r\n|\r|\n/.exec(typed);
        const cut = state !== 'shell' && m ? typed.slice(0, m.index + m[0].length) : typed;
        if (state !== 'shell' && m && pending + typed.slice(0, m.index) !== '') echoing = false;
        const echo = cut.replace(/\r\0|\r\n|\r|\n|\0/g, (x) => (x === '\0' ? '' : '\r\n'));
        if (echo) queue = queue.then(() => say(echo));
      }
      pending += typed;
      if (pending.length > MAX_PENDING) return end('input flood', parsed.data);
      for (;;) {
        const m = /\r\n|\r\0|\n|\r(?=[^\n\0])/.exec(pending);
        if (!m) break;
        const text = pending.slice(0, m.index);
        pending = pending.slice(m.index + m[0].length);
        if (text.length > MAX_LINE) return end('overlong line', Buffer.from(text.slice(0, 96)));
        // Empty lines at the login prompt are keep-alives from scanners; ignore them there.
        if (text === '' && state === 'user') continue;
        queue = queue.then(() => line(text));
        queue.catch(() => socket.destroy());
      }
      if (pending.length > MAX_LINE) end('overlong line', Buffer.from(pending.slice(0, 96)));
    });
  });
}
