/**
 * SQLite adapters (better-sqlite3): the embedded default. One database file holds every
 * persistent port; see {@link sqliteStorage}.
 * @module
 */
import type { Storage } from '../../core/storage/storage.ts';
import { SqliteDatabase, type SqliteOptions } from './database.ts';
import { SqliteAuthStore } from './auth-store.ts';
import { SqliteRosterStore } from './roster-store.ts';
import { SqliteOfflineStore } from './offline-store.ts';
import { SqliteMamStore } from './mam-store.ts';
import { SqliteInboxStore } from './inbox-store.ts';
import { SqlitePrivacyStore } from './privacy-store.ts';
import { SqliteVCardStore } from './vcard-store.ts';
import { SqlitePrivateStore } from './private-store.ts';
import { SqliteLastStore } from './last-store.ts';
import { SqliteMucLightStore } from './muc-light-store.ts';
import { SqliteDomainStore } from './domain-store.ts';
import { SqliteFastTokenStore } from './fast-token-store.ts';
import { SqlitePepStore } from './pep-store.ts';
import { SqliteMucStore } from './muc-store.ts';
import { MemorySessionStore } from '../memory/session-store.ts';
import { MemorySmIdStore } from '../memory/sm-id-store.ts';

export { SqliteDatabase, type SqliteOptions } from './database.ts';
export type { GroupCommitOptions } from './group-commit.ts';
export { MIGRATIONS, SCHEMA_VERSION, SchemaTooNewError, migrate, schemaVersion, type Migration } from './migrations.ts';
export {
  SqliteAuthStore, SqliteRosterStore, SqliteOfflineStore, SqliteMamStore, SqliteInboxStore, SqlitePrivacyStore, SqliteVCardStore,
  SqlitePrivateStore, SqliteLastStore, SqliteMucLightStore, SqliteDomainStore, SqliteFastTokenStore,
  SqlitePepStore, SqliteMucStore,
};

/** A {@link Storage} backed by one SQLite file, plus access to the underlying database. */
export interface SqliteStorage extends Storage {
  /** The shared connection (for tools and tests; modules use the ports). */
  readonly database: SqliteDatabase;
}

/**
 * Open (creating or upgrading) the database at `opts.path` and return every port.
 *
 * - WAL + `synchronous=NORMAL` + `busy_timeout`; schema migrations run on open, and a file
 *   from a newer version is refused ({@link SchemaTooNewError}).
 * - Per-message writes (MAM append, offline push, every inbox write, account register /
 *   password change) and every FAST token, PEP and MUC write are group-committed — flushed once the
 *   current event-loop turn is done — and their Promise resolves after the batch's COMMIT. Inbox,
 *   FAST token, PEP and MUC reads commit queued writes first.
 * - `sessions` and `smIds` are in-memory: both describe live connections of this process and
 *   are meaningless after a restart (every client reconnects), so persisting them would only
 *   cost a write per login. A cluster uses a shared adapter (Redis) instead.
 * - better-sqlite3 is synchronous: each call blocks the event loop for its duration (about
 *   15 µs per batched row, 10–30 µs per MAM page).
 * - `close()` commits queued writes, then closes the file.
 */
export function sqliteStorage(opts: SqliteOptions): SqliteStorage {
  const d = new SqliteDatabase(opts);
  return {
    database: d,
    auth: new SqliteAuthStore(d),
    roster: new SqliteRosterStore(d),
    offline: new SqliteOfflineStore(d),
    mam: new SqliteMamStore(d),
    inbox: new SqliteInboxStore(d),
    privacy: new SqlitePrivacyStore(d),
    vcard: new SqliteVCardStore(d),
    private: new SqlitePrivateStore(d),
    last: new SqliteLastStore(d),
    mucLight: new SqliteMucLightStore(d),
    domains: new SqliteDomainStore(d),
    fastTokens: new SqliteFastTokenStore(d),
    pep: new SqlitePepStore(d),
    muc: new SqliteMucStore(d),
    sessions: new MemorySessionStore(),
    smIds: new MemorySmIdStore(),
    close: async () => d.close(),
  };
}
