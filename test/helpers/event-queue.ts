/**
 * What a raw test client has received: every event in order (`log`, for transcripts) and the
 * ones no test has consumed yet, with a wait for the next.
 * @module
 */
export class EventQueue<T> {
  /** Every event, in order (also those already consumed). */
  readonly log: T[] = [];
  private readonly pending: T[] = [];
  private wake: (() => void) | undefined;

  push(ev: T): void {
    this.log.push(ev);
    this.pending.push(ev);
    this.wake?.();
  }

  /** The events not consumed yet, consumed. */
  drain(): T[] {
    return this.pending.splice(0, this.pending.length);
  }

  /**
   * The next unconsumed event, waiting at most `timeoutMs`; when none is left and `ended()`
   * returns an event (the connection is gone), that one; `undefined` on timeout.
   */
  async next(timeoutMs: number, ended: () => T | undefined): Promise<T | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ev = this.pending.shift();
      if (ev) return ev;
      const end = ended();
      if (end) return end;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }
}
