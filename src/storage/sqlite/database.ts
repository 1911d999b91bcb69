/**
 * One SQLite file shared by every store of a {@link sqliteStorage} bundle: the connection, the
 * pragmas, the statement cache and the group committer.
 * @module
 */
import Database from 'better-sqlite3';
import { migrate } from './migrations.ts';
import { GroupCommitter, type GroupCommitOptions } from './group-commit.ts';

/** Options for opening the database file. */
export interface SqliteOptions {
  /** File path, or `:memory:`. */
  readonly path: string;
  /** Group commit tuning, or `false` for one transaction per write (benchmarks only). */
  readonly groupCommit?: GroupCommitOptions | false;
  /** WAL size (in 4 KiB pages) that triggers a checkpoint (default 4000). */
  readonly walAutocheckpointPages?: number;
  /** How long a statement waits for another connection's lock, in ms (default 5000). */
  readonly busyTimeoutMs?: number;
}

/** The connection wrapper the stores share. */
export class SqliteDatabase {
  readonly db: Database.Database;
  readonly writes: GroupCommitter;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(opts: SqliteOptions) {
    this.db = new Database(opts.path, { timeout: opts.busyTimeoutMs ?? 5000 });
    try {
      // WAL: readers never block the writer; NORMAL: fsync at checkpoints only, durable against
      // process crashes (dependencies.md §4).
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      // Checkpoints are the only fsyncs under NORMAL. At the default 1000 pages a MAM write
      // burst spread over 100 owners checkpointed every few batches (21k rows/s in batches of
      // 500); at 4000 pages (a 16 MiB WAL) it ran about twice as fast.
      this.db.pragma(`wal_autocheckpoint = ${opts.walAutocheckpointPages ?? 4000}`);
      this.db.pragma('foreign_keys = ON');
      migrate(this.db);
    } catch (e) {
      this.db.close();
      throw e;
    }
    this.writes = new GroupCommitter(this.db, opts.groupCommit ?? {});
  }

  /** A prepared statement, compiled once per distinct SQL text. */
  stmt<R = unknown>(sql: string): Database.Statement<unknown[], R> {
    let s = this.statements.get(sql);
    if (!s) this.statements.set(sql, (s = this.db.prepare(sql)));
    return s as Database.Statement<unknown[], R>;
  }

  /** Run `fn` in one transaction, now (for writes that are not per-message). */
  tx<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  close(): void {
    if (!this.db.open) return;
    this.writes.close();
    this.db.close();
  }
}
