/**
 * Schema migrations for the SQLite adapter. Each step moves the file from `version - 1` to
 * `version`; `schema_migrations` records every applied step, and the file's version is the
 * highest one. Steps are append-only: a released step is never edited, a change is a new step.
 *
 * Every user-scoped table is keyed by `domain` first (as MongooseIM's tables are keyed by
 * `server`), so deleting a domain or user is a range delete on the primary key.
 * @module
 */
import type Database from 'better-sqlite3';

/** One schema step. */
export interface Migration {
  readonly version: number;
  readonly description: string;
  /** SQL run inside the migration transaction. */
  readonly sql: string;
}

/** Every schema step, in order. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'base tables',
    sql: `
CREATE TABLE users (
  domain TEXT NOT NULL, username TEXT NOT NULL,
  credentials TEXT NOT NULL, -- JSON StoredCredentials: SCRAM salted keys only, never a password
  created_at INTEGER NOT NULL,
  PRIMARY KEY (domain, username)) WITHOUT ROWID;

CREATE TABLE roster_items (
  domain TEXT NOT NULL, username TEXT NOT NULL, jid TEXT NOT NULL,
  name TEXT, subscription TEXT NOT NULL, ask TEXT NOT NULL,
  pending_in INTEGER NOT NULL, approved INTEGER NOT NULL, groups_json TEXT NOT NULL,
  PRIMARY KEY (domain, username, jid)) WITHOUT ROWID;
CREATE TABLE roster_versions (
  domain TEXT NOT NULL, username TEXT NOT NULL, version INTEGER NOT NULL,
  PRIMARY KEY (domain, username)) WITHOUT ROWID;

CREATE TABLE offline_messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  domain TEXT NOT NULL, username TEXT NOT NULL,
  from_jid TEXT NOT NULL, to_jid TEXT NOT NULL,
  timestamp INTEGER NOT NULL, expires_at INTEGER, xml TEXT NOT NULL);

CREATE TABLE mam_messages (
  domain TEXT NOT NULL, owner TEXT NOT NULL, id TEXT NOT NULL,
  peer TEXT NOT NULL, peer_resource TEXT NOT NULL, direction TEXT NOT NULL,
  timestamp INTEGER NOT NULL, origin_id TEXT, xml TEXT NOT NULL,
  PRIMARY KEY (domain, owner, id)) WITHOUT ROWID;
CREATE TABLE mam_prefs (
  domain TEXT NOT NULL, username TEXT NOT NULL,
  default_mode TEXT NOT NULL, always_json TEXT NOT NULL, never_json TEXT NOT NULL,
  PRIMARY KEY (domain, username)) WITHOUT ROWID;

CREATE TABLE inbox (
  domain TEXT NOT NULL, username TEXT NOT NULL, remote_jid TEXT NOT NULL,
  msg_id TEXT NOT NULL, xml TEXT NOT NULL, timestamp INTEGER NOT NULL,
  unread INTEGER NOT NULL, muted_until INTEGER NOT NULL,
  PRIMARY KEY (domain, username, remote_jid)) WITHOUT ROWID;

CREATE TABLE privacy_lists (
  domain TEXT NOT NULL, username TEXT NOT NULL, name TEXT NOT NULL, items_json TEXT NOT NULL,
  PRIMARY KEY (domain, username, name)) WITHOUT ROWID;
CREATE TABLE privacy_default (
  domain TEXT NOT NULL, username TEXT NOT NULL, name TEXT NOT NULL,
  PRIMARY KEY (domain, username)) WITHOUT ROWID;

CREATE TABLE vcards (
  domain TEXT NOT NULL, username TEXT NOT NULL, xml TEXT NOT NULL,
  PRIMARY KEY (domain, username)) WITHOUT ROWID;
CREATE TABLE private_storage (
  domain TEXT NOT NULL, username TEXT NOT NULL, namespace TEXT NOT NULL, xml TEXT NOT NULL,
  PRIMARY KEY (domain, username, namespace)) WITHOUT ROWID;
CREATE TABLE last_activity (
  domain TEXT NOT NULL, username TEXT NOT NULL, seconds INTEGER NOT NULL, status TEXT NOT NULL,
  PRIMARY KEY (domain, username)) WITHOUT ROWID;

CREATE TABLE muc_light_rooms (
  domain TEXT NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL, config_json TEXT NOT NULL,
  PRIMARY KEY (domain, name)) WITHOUT ROWID;
CREATE TABLE muc_light_members (
  room_domain TEXT NOT NULL, room_name TEXT NOT NULL,
  domain TEXT NOT NULL, username TEXT NOT NULL, affiliation TEXT NOT NULL,
  PRIMARY KEY (room_domain, room_name, domain, username)) WITHOUT ROWID;

CREATE TABLE domains (
  domain TEXT NOT NULL PRIMARY KEY, host_type TEXT NOT NULL, status TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE domain_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT, domain TEXT NOT NULL, kind TEXT NOT NULL);
`,
  },
  {
    version: 2,
    description: 'inbox boxes (XEP-0430 box filter) and secondary indexes for every port query',
    sql: `
ALTER TABLE inbox ADD COLUMN box TEXT NOT NULL DEFAULT 'inbox';
CREATE INDEX inbox_by_time ON inbox (domain, username, timestamp);
CREATE INDEX inbox_by_box ON inbox (domain, username, box, timestamp);
CREATE INDEX offline_by_user ON offline_messages (domain, username, id);
CREATE INDEX offline_by_expiry ON offline_messages (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX mam_by_peer ON mam_messages (domain, owner, peer, id);
CREATE INDEX mam_by_origin_id ON mam_messages (domain, owner, peer, origin_id) WHERE origin_id IS NOT NULL;
CREATE INDEX muc_light_member_rooms ON muc_light_members (domain, username);
CREATE INDEX domains_by_host_type ON domains (host_type, domain);
`,
  },
  {
    version: 3,
    description: 'FAST tokens (XEP-0484)',
    sql: `
CREATE TABLE fast_tokens (
  domain TEXT NOT NULL, username TEXT NOT NULL, agent_id TEXT NOT NULL,
  current_token TEXT, current_mechanism TEXT, current_expires_at INTEGER, -- the secret as issued (HT-* HMAC key)
  previous_token TEXT, previous_mechanism TEXT, previous_expires_at INTEGER,
  count INTEGER NOT NULL,
  PRIMARY KEY (domain, username, agent_id)) WITHOUT ROWID;
`,
  },
  {
    version: 4,
    description: 'PEP nodes and items (XEP-0163)',
    sql: `
CREATE TABLE pep_nodes (
  domain TEXT NOT NULL, username TEXT NOT NULL, node TEXT NOT NULL,
  config_json TEXT NOT NULL, -- JSON object of pubsub#… values
  PRIMARY KEY (domain, username, node)) WITHOUT ROWID;
CREATE TABLE pep_items (
  domain TEXT NOT NULL, username TEXT NOT NULL, node TEXT NOT NULL,
  seq INTEGER NOT NULL, -- publish order within the node: the newest item has the highest
  item_id TEXT NOT NULL, payload TEXT NOT NULL, publisher TEXT NOT NULL, timestamp INTEGER NOT NULL,
  PRIMARY KEY (domain, username, node, seq),
  UNIQUE (domain, username, node, item_id),
  FOREIGN KEY (domain, username, node) REFERENCES pep_nodes (domain, username, node) ON DELETE CASCADE) WITHOUT ROWID;
`,
  },
  {
    version: 5,
    description: 'MUC rooms and affiliations (XEP-0045)',
    sql: `
CREATE TABLE muc_rooms (
  domain TEXT NOT NULL, name TEXT NOT NULL, -- service domain, room localpart
  config_json TEXT NOT NULL, -- JSON object of muc#roomconfig_… values (list-multi as arrays)
  subject TEXT, subject_by TEXT, -- both NULL when there is no subject
  PRIMARY KEY (domain, name)) WITHOUT ROWID;
CREATE TABLE muc_affiliations (
  domain TEXT NOT NULL, room TEXT NOT NULL, jid TEXT NOT NULL, -- bare JID of the affiliated user
  affiliation TEXT NOT NULL, reason TEXT,
  PRIMARY KEY (domain, room, jid),
  FOREIGN KEY (domain, room) REFERENCES muc_rooms (domain, name) ON DELETE CASCADE) WITHOUT ROWID;
CREATE INDEX muc_affiliations_by_jid ON muc_affiliations (jid);
CREATE INDEX muc_affiliations_by_user_domain ON muc_affiliations (substr(jid, instr(jid, '@') + 1));
`,
  },
];

/** The schema version this code reads and writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** Thrown when the file was written by a newer xmpp-blocks (we could corrupt what we do not know). */
export class SchemaTooNewError extends Error {
  constructor(readonly fileVersion: number, readonly knownVersion: number) {
    super(
      `database schema version ${fileVersion} is newer than the newest this xmpp-blocks knows (${knownVersion}); ` +
        'upgrade xmpp-blocks, or restore a backup made with this version',
    );
    this.name = 'SchemaTooNewError';
  }
}

/** The file's schema version (0 for an empty file). */
export function schemaVersion(db: Database.Database): number {
  const t = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
  if (!t) return 0;
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
  return row.v ?? 0;
}

/**
 * Bring the file to `target` (default: {@link SCHEMA_VERSION}), one transaction per step so an
 * interrupted upgrade resumes where it stopped. Refuses a newer file with {@link SchemaTooNewError}.
 * Resolves the steps applied.
 */
export function migrate(db: Database.Database, target = SCHEMA_VERSION): number[] {
  const applied: number[] = [];
  // IMMEDIATE takes the write lock before reading the version, so two processes opening the same
  // old file cannot both run a step.
  const step = db.transaction((m: Migration) => {
    if (schemaVersion(db) >= m.version) return;
    db.exec(m.sql);
    db.prepare('INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)').run(m.version, m.description, Date.now());
    applied.push(m.version);
  });
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  const current = schemaVersion(db);
  if (current > SCHEMA_VERSION) throw new SchemaTooNewError(current, SCHEMA_VERSION);
  for (const m of MIGRATIONS) if (m.version > current && m.version <= target) step.immediate(m);
  return applied;
}
