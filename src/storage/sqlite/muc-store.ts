import type { MucAffiliation, MucAffiliationEntry, MucRoomRecord, MucStore } from '../../core/storage/muc-store.ts';
import type { SqliteDatabase } from './database.ts';

interface RoomRow {
  config_json: string;
  subject: string | null;
  subject_by: string | null;
}

interface AffiliationRow {
  jid: string;
  affiliation: MucAffiliation;
  reason: string | null;
}

const ROOM = 'domain = ? AND room = ?';
/** Affiliations whose JID's domain part (after the `@`; a bare domain is no user) is `?`; uses `muc_affiliations_by_user_domain`. */
const OF_USER_DOMAIN = "substr(jid, instr(jid, '@') + 1) = ? AND instr(jid, '@') > 0";

/** A room as written, taken when saveRoom is called (the caller may change its record before the batch commits). */
interface SavedRoom {
  readonly name: string;
  readonly configJson: string;
  readonly subject: string | null;
  readonly subjectBy: string | null;
  readonly affiliations: readonly AffiliationRow[];
}

function toAffiliation(r: AffiliationRow): MucAffiliationEntry {
  return r.reason === null ? { jid: r.jid, affiliation: r.affiliation } : { jid: r.jid, affiliation: r.affiliation, reason: r.reason };
}

/**
 * SQLite {@link MucStore}: `muc_rooms` (configuration as JSON, subject) and one
 * `muc_affiliations` row per (room, JID); affiliations go with their room (`ON DELETE CASCADE`)
 * and are indexed by JID for `removeUser` and by the JID's domain for `removeDomain`. Every
 * write is group-committed, in issue order; saveRoom and removeDomain run their statements in
 * a savepoint. Reads commit the queued writes first, so they see every write issued before them.
 */
export class SqliteMucStore implements MucStore {
  /** Upsert the room, then replace its affiliations: several writes, so in a savepoint. */
  private readonly saveTx: (domain: string, row: SavedRoom) => void;
  /** The service's rooms (their affiliations cascade), then its users' affiliations elsewhere. */
  private readonly removeDomainTx: (domain: string) => void;

  constructor(private readonly d: SqliteDatabase) {
    this.saveTx = d.db.transaction((domain: string, r: SavedRoom): void => {
      this.d
        .stmt(
          `INSERT INTO muc_rooms (domain, name, config_json, subject, subject_by) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (domain, name) DO UPDATE SET config_json = excluded.config_json, subject = excluded.subject, subject_by = excluded.subject_by`,
        )
        .run(domain, r.name, r.configJson, r.subject, r.subjectBy);
      this.d.stmt(`DELETE FROM muc_affiliations WHERE ${ROOM}`).run(domain, r.name);
      // OR REPLACE: a JID listed twice keeps its last entry, as in the memory adapter.
      const ins = this.d.stmt('INSERT OR REPLACE INTO muc_affiliations (domain, room, jid, affiliation, reason) VALUES (?, ?, ?, ?, ?)');
      for (const a of r.affiliations) ins.run(domain, r.name, a.jid, a.affiliation, a.reason);
    });
    this.removeDomainTx = d.db.transaction((domain: string): void => {
      this.d.stmt('DELETE FROM muc_rooms WHERE domain = ?').run(domain);
      this.d.stmt(`DELETE FROM muc_affiliations WHERE ${OF_USER_DOMAIN}`).run(domain);
    });
  }

  private flushPending(): void {
    if (this.d.writes.pending > 0) this.d.writes.flush();
  }

  async getRoom(_ht: string, domain: string, name: string): Promise<MucRoomRecord | undefined> {
    this.flushPending();
    return this.d.tx(() => {
      const r = this.d.stmt<RoomRow>('SELECT config_json, subject, subject_by FROM muc_rooms WHERE domain = ? AND name = ?').get(domain, name);
      if (!r) return undefined;
      const affiliations = this.d
        .stmt<AffiliationRow>(`SELECT jid, affiliation, reason FROM muc_affiliations WHERE ${ROOM} ORDER BY jid`)
        .all(domain, name)
        .map(toAffiliation);
      const config = JSON.parse(r.config_json) as Record<string, string | string[]>;
      return r.subject === null ? { name, config, affiliations } : { name, config, affiliations, subject: { text: r.subject, by: r.subject_by! } };
    });
  }
  async listRooms(_ht: string, domain: string): Promise<string[]> {
    this.flushPending();
    return this.d.stmt('SELECT name FROM muc_rooms WHERE domain = ? ORDER BY name').pluck().all(domain) as string[];
  }
  saveRoom(_ht: string, domain: string, room: MucRoomRecord): Promise<void> {
    const row: SavedRoom = {
      name: room.name,
      configJson: JSON.stringify(room.config),
      subject: room.subject?.text ?? null,
      subjectBy: room.subject?.by ?? null,
      affiliations: room.affiliations.map((a) => ({ jid: a.jid, affiliation: a.affiliation, reason: a.reason ?? null })),
    };
    return this.d.writes.run(() => this.saveTx(domain, row));
  }
  deleteRoom(_ht: string, domain: string, name: string): Promise<boolean> {
    return this.d.writes.run(() => this.d.stmt('DELETE FROM muc_rooms WHERE domain = ? AND name = ?').run(domain, name).changes === 1);
  }
  async removeUser(_ht: string, domain: string, user: string): Promise<void> {
    await this.d.writes.run(() => void this.d.stmt('DELETE FROM muc_affiliations WHERE jid = ?').run(`${user}@${domain}`));
  }
  async removeDomain(_ht: string, domain: string): Promise<void> {
    await this.d.writes.run(() => this.removeDomainTx(domain));
  }
}
