/**
 * The synthetic "live video": one test-pattern JPEG per second of the clock, encoded on
 * demand and cached (two frames at most), so many viewers cost one encode per second.
 */
import type { Clock } from '../../shared/clock.js';
import { testPattern } from '../core/jpeg.js';

export class FrameSource {
  readonly #clock: Clock;
  #second = -1;
  #frame: Uint8Array = new Uint8Array();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  current(): Uint8Array {
    const s = Math.floor(this.#clock.now() / 1000);
    if (s !== this.#second) {
      this.#frame = testPattern(s * 1000);
      this.#second = s;
    }
    return this.#frame;
  }
}
