/**
 * Run async operations one after the other per key: for modules whose stored state is read,
 * changed and written back through an async port (a roster, a user's PEP nodes, a room), so
 * two stanzas for the same key never interleave and lose an update. Keys run independently;
 * an operation that fails does not stop the ones queued after it. Idle keys hold nothing.
 * @module
 */
export class KeyedQueue {
  readonly #tails = new Map<string, Promise<void>>();

  /** Run `fn` once every earlier operation under `key` has settled; resolves as `fn` does. */
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const p = (this.#tails.get(key) ?? Promise.resolve()).then(fn, fn);
    const tail = p.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return p;
  }

  /** Keys with an operation queued or running (tests and metrics). */
  get size(): number {
    return this.#tails.size;
  }
}
