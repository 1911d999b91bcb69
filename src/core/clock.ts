/**
 * Time source injected everywhere timers or timestamps are used, so tests run on a fake clock
 * (`xmpp-blocks/testing`) and never wait. Its `setTimeout`/`clearTimeout` shape is the one
 * XState's `createActor(machine, { clock })` expects.
 * @module
 */

/** A timer handle as returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

export interface Clock {
  /** Milliseconds since the epoch (fake clocks may start anywhere). */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The real clock. Timers are `unref`'d so a forgotten one never keeps the process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};
