/**
 * Token-bucket traffic shaper (reference §5.5, §10 "change" 5): rate = burst = `bytesPerSecond`,
 * starting full. After each read the transport asks {@link TokenBucketShaper.update} how long
 * to stop reading; backpressure then comes from TCP itself (the kernel buffer fills and the
 * client's writes block), so nothing is queued in the server.
 *
 * Default for listeners: {@link DEFAULT_SHAPER_RATE} = 1 MiB/s per connection — about 5 000
 * ordinary messages per second, far beyond any human client, small enough that one abusive
 * connection cannot monopolise a core with parsing.
 * @module
 */
import type { Clock } from '../../core/clock.ts';

/** Default per-connection read rate of listeners, bytes per second (1 MiB/s). */
export const DEFAULT_SHAPER_RATE = 1024 * 1024;

/** A shaper: bytes read → how long to pause reading (ms, 0 = go on). */
export interface Shaper {
  update(bytes: number): number;
}

/** Token bucket with rate = burst = `bytesPerSecond`, starting full. */
export class TokenBucketShaper implements Shaper {
  readonly #rate: number;
  readonly #clock: Clock;
  #tokens: number;
  #last: number;

  constructor(bytesPerSecond: number, clock: Clock) {
    if (!(bytesPerSecond > 0)) throw new RangeError('shaper rate must be > 0 bytes/s');
    this.#rate = bytesPerSecond;
    this.#clock = clock;
    this.#tokens = bytesPerSecond;
    this.#last = clock.now();
  }

  /**
   * Account for `bytes` just read; returns the delay in ms before reading more (0 when the
   * bucket still holds tokens). The debt is carried over, so a burst larger than the bucket
   * is paid back in full before the next read.
   */
  update(bytes: number): number {
    const now = this.#clock.now();
    const elapsed = now - this.#last;
    this.#last = now;
    if (elapsed > 0) this.#tokens = Math.min(this.#rate, this.#tokens + (elapsed * this.#rate) / 1000);
    this.#tokens -= bytes;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens * 1000) / this.#rate);
  }
}
