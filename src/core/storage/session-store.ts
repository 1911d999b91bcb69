/**
 * The session table (reference §6.3): who is connected where. Ephemeral by nature — it is
 * rebuilt by clients reconnecting — so the embedded default keeps it in memory; a cluster puts
 * it in Redis.
 * @module
 */

/** One bound session. */
export interface SessionRow {
  /** Unique, sortable by creation time (the newest of a resource wins). */
  readonly sid: string;
  readonly user: string;
  readonly domain: string;
  readonly resource: string;
  /** Presence priority; `null` = not available (no initial presence yet, or unavailable). */
  readonly priority: number | null;
  /** Free-form session info (client IP, CSI state, …); JSON-serialisable values only. */
  readonly info: Readonly<Record<string, unknown>>;
  /** The node (process) that owns the connection. */
  readonly node: string;
}

/**
 * Session rows. Global (a session is found by JID, whatever the host type), so methods take no
 * host type. Row lists are sorted by `sid`.
 */
export interface SessionStore {
  /** Insert or replace the row with this `sid`. */
  set(row: SessionRow): Promise<void>;
  /** `false` when there was none. */
  delete(sid: string): Promise<boolean>;
  get(sid: string): Promise<SessionRow | undefined>;
  byUser(domain: string, user: string): Promise<SessionRow[]>;
  byFullJid(domain: string, user: string, resource: string): Promise<SessionRow[]>;
  byDomain(domain: string): Promise<SessionRow[]>;
  /** Number of sessions. */
  countAll(): Promise<number>;
  /** Number of distinct users with at least one session. */
  countUnique(): Promise<number>;
  /** Delete every row of a (dead) node; resolves the deleted rows so their cleanup hooks can run. */
  cleanupNode(node: string): Promise<SessionRow[]>;
}
