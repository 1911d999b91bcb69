/**
 * A deterministic {@link Clock} for tests: time moves only when {@link FakeClock.advance} is
 * called, and due timers fire in deadline order (ties in scheduling order). Pass it to the
 * server (and so to every connection's XState actor): `after` timeouts, named timeouts and
 * call timeouts all run on it.
 * @module
 */
import type { Clock, TimerHandle } from '../core/clock.ts';

interface FakeTimer {
  readonly id: number;
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

/** The fake clock. */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #timers = new Map<number, FakeTimer>();
  /** How many timers were ever scheduled (tests assert "no timer per stanza" with it). */
  armed = 0;
  /** How many timers were cleared before firing. */
  cleared = 0;

  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.#seq;
    this.armed++;
    this.#timers.set(id, { id, at: this.#now + Math.max(0, ms), seq: id, fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    if (this.#timers.delete(handle as number)) this.cleared++;
  }

  /** Timers not yet fired or cleared. */
  get pending(): number {
    return this.#timers.size;
  }

  /**
   * Move time forward by `ms`, firing every timer due up to the new time in order — including
   * timers scheduled by the callbacks themselves when they fall inside the window.
   */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      let next: FakeTimer | undefined;
      for (const t of this.#timers.values()) {
        if (t.at <= target && (next === undefined || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      }
      if (next === undefined) break;
      this.#timers.delete(next.id);
      this.#now = next.at;
      next.fn();
    }
    this.#now = target;
  }

  /** Fire everything already due without moving time (0-ms timers). */
  tick(): void {
    this.advance(0);
  }
}
