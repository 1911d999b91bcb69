/**
 * Group commit for per-message writes (MAM, offline, inbox, account creation).
 *
 * better-sqlite3 is synchronous and each COMMIT costs a WAL append: measured 9.4k rows/s in
 * autocommit vs 67k rows/s inside one transaction (reference/dependencies.md §4). So writes are
 * queued and run together in one transaction as soon as the event loop has handled the I/O
 * that is ready (a `setImmediate`, the default), after `delayMs` if one is set, or as soon as
 * `maxBatch` are queued. Under load one loop turn reads many connections, so a burst shares one
 * COMMIT; when the server is idle a write is committed within the same turn, so no connection
 * waits on a timer. Each caller's Promise settles only after the COMMIT: resolved with its operation's
 * result, or rejected when its operation threw or the transaction failed. Nothing reported
 * stored can be lost by killing the process (WAL + synchronous=NORMAL survives a process crash;
 * an OS crash may lose the last commits, as documented by SQLite).
 *
 * Contract for operations: at most one statement that writes, after any reads/checks. Then an
 * operation that throws has changed nothing and the rest of the batch still commits, without
 * paying a SAVEPOINT per row.
 * @module
 */
import type Database from 'better-sqlite3';

/** Tuning for {@link GroupCommitter}. */
export interface GroupCommitOptions {
  /**
   * Longest a write waits for companions, in ms. Default 0: flush from a `setImmediate`, i.e.
   * right after the current event-loop turn. A timer only adds latency: the batch already grows
   * with the load, since a busy turn queues more writes (measured with MAM + inbox under
   * saturation: ~680 rows per COMMIT; at 2,000 msg/s the message p50 halved against the former
   * 2 ms timer — docs/benchmarks.md, "MAM and inbox throughput").
   */
  readonly delayMs?: number;
  /**
   * Queue length that triggers an immediate flush (default 1000). Bigger batches dirty fewer
   * pages per row (measured: 21k rows/s at 500, 51k at 2000 across 100 owners) but block the
   * event loop longer per flush (~15–40 µs per row).
   */
  readonly maxBatch?: number;
}

interface Pending {
  op: () => unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** Queues write operations and commits them in batches; `false` options = one transaction per write. */
export class GroupCommitter {
  private queue: Pending[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private immediate: ReturnType<typeof setImmediate> | undefined;
  private readonly delayMs: number;
  private readonly maxBatch: number;
  private readonly batchTx: (batch: Pending[], results: { ok: boolean; value: unknown }[]) => void;
  private readonly singleTx: (op: () => unknown) => unknown;
  private closed = false;

  constructor(db: Database.Database, private readonly opts: GroupCommitOptions | false = {}) {
    this.delayMs = opts === false ? 0 : opts.delayMs ?? 0;
    this.maxBatch = opts === false ? 1 : opts.maxBatch ?? 1000;
    this.batchTx = db.transaction((batch: Pending[], results: { ok: boolean; value: unknown }[]) => {
      for (const p of batch) {
        try {
          results.push({ ok: true, value: p.op() });
        } catch (e) {
          // Some errors (I/O, disk full, …) make SQLite roll the whole transaction back; going on
          // would run the rest in autocommit and report them as failed when the COMMIT fails.
          if (!db.inTransaction) throw e;
          results.push({ ok: false, value: e });
        }
      }
    });
    this.singleTx = db.transaction((op: () => unknown) => op());
  }

  /** Run `op` in the next batch; settles after that batch's COMMIT. */
  run<T>(op: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error('storage is closed'));
    if (this.opts === false) {
      // Autocommit mode (benchmarks, tools): still one transaction per op so multi-statement ops stay atomic.
      try {
        return Promise.resolve(this.singleTx(op) as T);
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ op, resolve: resolve as (v: unknown) => void, reject });
      if (this.queue.length >= this.maxBatch) this.flush();
      else if (this.delayMs > 0) this.timer ??= setTimeout(this.onTimer, this.delayMs);
      else this.immediate ??= setImmediate(this.onTimer);
    });
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.immediate = undefined;
    this.flush();
  };

  /** Number of queued, uncommitted writes. */
  get pending(): number {
    return this.queue.length;
  }

  /** Commit everything queued now (synchronously). */
  flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.immediate !== undefined) {
      clearImmediate(this.immediate);
      this.immediate = undefined;
    }
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    const results: { ok: boolean; value: unknown }[] = [];
    try {
      this.batchTx(batch, results);
    } catch (e) {
      // COMMIT (or BEGIN) failed: the whole batch was rolled back, so nobody's write happened.
      for (const p of batch) p.reject(e);
      return;
    }
    batch.forEach((p, i) => (results[i].ok ? p.resolve(results[i].value) : p.reject(results[i].value)));
  }

  /** Flush and refuse further writes. */
  close(): void {
    this.flush();
    this.closed = true;
  }
}
