/**
 * Telnet option negotiation (RFC 854/855) as a pure byte filter: strips IAC sequences from the
 * stream, answers each option at most once (refusing all but ECHO and SUPPRESS-GO-AHEAD, which
 * the server offers itself), and counts commands so an option storm can be cut off.
 * Not a socket: the service feeds bytes in and writes the replies out.
 */

export const IAC = 255;
export const DONT = 254;
export const DO = 253;
export const WONT = 252;
export const WILL = 251;
export const SB = 250;
export const SE = 240;
export const OPT_ECHO = 1;
export const OPT_SGA = 3;
export const OPT_NAWS = 31;
export const OPT_LFLOW = 33;

/**
 * BusyBox telnetd's opening, byte for byte: DO ECHO, DO NAWS, DO LFLOW (remote flow control), WILL ECHO, WILL SGA
 * (so the client sends characters raw and the server echoes them). The login prompt must
 * follow in the same write, as BusyBox sends it: scanners fingerprint the pair.
 */
export const SERVER_OFFER = new Uint8Array([
  IAC,
  DO,
  OPT_ECHO,
  IAC,
  DO,
  OPT_NAWS,
  IAC,
  DO,
  OPT_LFLOW,
  IAC,
  WILL,
  OPT_ECHO,
  IAC,
  WILL,
  OPT_SGA,
]);

/** Options the server asked the client about (its WILL/WONT answers need no reply). */
const ASKED = new Set([OPT_ECHO, OPT_NAWS, OPT_LFLOW]);

/** Longest subnegotiation kept before it is treated as garbage. */
const MAX_SB = 64;

export interface TelnetChunk {
  /** Data bytes with all IAC sequences removed. */
  data: Uint8Array;
  /** Replies to send back. */
  replies: Uint8Array;
  /** Telnet commands seen in this chunk. */
  commands: number;
}

/**
 * A stateful filter over one connection.
 * @example
 * const t = new TelnetFilter(); const c = t.push(new Uint8Array([255, 253, 24, 65]));
 * // c.data = 'A', c.replies = IAC WONT 24
 */
export class TelnetFilter {
  #state: 'data' | 'iac' | 'opt' | 'sb' | 'sb-iac' = 'data';
  #verb = 0;
  #sbLen = 0;
  readonly #answered = new Set<number>();
  /** Total telnet commands seen on this connection. */
  commands = 0;

  push(bytes: Uint8Array): TelnetChunk {
    const data: number[] = [];
    const replies: number[] = [];
    let commands = 0;
    for (const b of bytes) {
      switch (this.#state) {
        case 'data':
          if (b === IAC) this.#state = 'iac';
          else data.push(b);
          break;
        case 'iac':
          if (b === IAC) {
            data.push(IAC);
            this.#state = 'data';
          } else if (b === DO || b === DONT || b === WILL || b === WONT) {
            this.#verb = b;
            this.#state = 'opt';
          } else if (b === SB) {
            this.#sbLen = 0;
            this.#state = 'sb';
            commands++;
          } else {
            commands++;
            this.#state = 'data';
          }
          break;
        case 'opt': {
          commands++;
          const key = (this.#verb << 8) | b;
          if (!this.#answered.has(key)) {
            this.#answered.add(key);
            const ours = b === OPT_ECHO || b === OPT_SGA;
            if (this.#verb === DO && !ours) replies.push(IAC, WONT, b);
            else if (this.#verb === WILL && !ASKED.has(b)) replies.push(IAC, DONT, b);
          }
          this.#state = 'data';
          break;
        }
        case 'sb':
          if (b === IAC) this.#state = 'sb-iac';
          else if (++this.#sbLen > MAX_SB) this.#state = 'data';
          break;
        case 'sb-iac':
          this.#state = b === SE ? 'data' : 'sb';
          break;
      }
    }
    this.commands += commands;
    return { data: Uint8Array.from(data), replies: Uint8Array.from(replies), commands };
  }
}
