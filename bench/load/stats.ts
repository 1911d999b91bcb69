/** Latency samples kept in a preallocated typed array: no per-sample allocation while measuring. */
export class LatencyRecorder {
  #samples: Float64Array;
  #count = 0;
  /** Samples beyond capacity are counted but not stored (the run is bounded, so this is rare). */
  dropped = 0;

  constructor(capacity: number) {
    this.#samples = new Float64Array(capacity);
  }

  get count(): number {
    return this.#count;
  }

  record(ms: number): void {
    if (this.#count < this.#samples.length) this.#samples[this.#count++] = ms;
    else this.dropped++;
  }

  /** Nearest-rank percentiles (p in 0..100) in ms; NaN when there are no samples. */
  percentiles(...ps: number[]): number[] {
    if (this.#count === 0) return ps.map(() => Number.NaN);
    const sorted = this.#samples.slice(0, this.#count).sort();
    return ps.map((p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!);
  }
}

export function round(n: number, digits = 1): number {
  if (!Number.isFinite(n)) return n;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs `task` for every index in [0, count) with at most `concurrency` in flight; returns the
 * failures (first few kept with their message) instead of throwing, so one bad login does not
 * abort a measurement of thousands.
 */
export async function runBounded(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<void>,
): Promise<{ failed: number; firstErrors: string[] }> {
  let next = 0;
  let failed = 0;
  const firstErrors: string[] = [];
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      try {
        await task(index);
      } catch (err) {
        failed++;
        if (firstErrors.length < 3) firstErrors.push(err instanceof Error ? err.message : String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return { failed, firstErrors };
}

/** Rejects after `ms` so every await in a scenario is bounded in time. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
