/**
 * Bounded waiting for integration tests on real sockets and processes: every wait has a
 * deadline and rejects with a message that says what never happened.
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

/** Options of {@link waitFor}. */
export interface WaitOptions {
  /** Give up after this many ms (default 3000). */
  readonly timeoutMs?: number;
  /** Poll interval in ms (default 10). */
  readonly intervalMs?: number;
  /** What was awaited, for the timeout message (a function is called at timeout, to show fresh state). */
  readonly what?: string | (() => string);
}

/** Poll `cond` until it returns a truthy value (which is returned); reject on timeout. */
export async function waitFor<T>(cond: () => T | Promise<T>, opts: WaitOptions = {}): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? 3000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v as NonNullable<T>;
    if (Date.now() >= deadline) {
      const what = typeof opts.what === 'function' ? opts.what() : (opts.what ?? 'a condition');
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await sleep(opts.intervalMs ?? 10);
  }
}

/** `promise`, or a rejection after `timeoutMs` naming `what`. The timer never outlives the race. */
export async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
