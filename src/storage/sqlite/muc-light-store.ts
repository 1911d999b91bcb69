import type {
  MucLightAffiliation, MucLightAffiliationChange, MucLightMember, MucLightRoom, MucLightRoomRef, MucLightStore, MucLightUpdateResult,
} from '../../core/storage/muc-light-store.ts';
import type { SqliteDatabase } from './database.ts';
import { applyMucLightChanges } from '../rules/muc-light.ts';

/** SQLite {@link MucLightStore}: `muc_light_rooms` plus one `muc_light_members` row per member. */
export class SqliteMucLightStore implements MucLightStore {
  constructor(private readonly d: SqliteDatabase) {}

  private load(domain: string, name: string): MucLightRoom | undefined {
    const r = this.d.stmt<{ version: string; config_json: string }>('SELECT version, config_json FROM muc_light_rooms WHERE domain = ? AND name = ?').get(domain, name);
    if (!r) return undefined;
    const members = this.d
      .stmt<MucLightMember>(
        'SELECT username AS user, domain, affiliation FROM muc_light_members WHERE room_domain = ? AND room_name = ? ORDER BY domain, username',
      )
      .all(domain, name);
    return { domain, name, config: JSON.parse(r.config_json) as Record<string, string>, members, version: r.version };
  }
  private writeMembers(domain: string, name: string, members: readonly MucLightMember[]): void {
    this.d.stmt('DELETE FROM muc_light_members WHERE room_domain = ? AND room_name = ?').run(domain, name);
    const ins = this.d.stmt('INSERT INTO muc_light_members (room_domain, room_name, domain, username, affiliation) VALUES (?, ?, ?, ?, ?)');
    for (const m of members) ins.run(domain, name, m.domain, m.user, m.affiliation satisfies MucLightAffiliation);
  }

  async create(_ht: string, room: MucLightRoom): Promise<'ok' | 'exists'> {
    return this.d.tx(() => {
      const inserted = this.d
        .stmt('INSERT OR IGNORE INTO muc_light_rooms (domain, name, version, config_json) VALUES (?, ?, ?, ?)')
        .run(room.domain, room.name, room.version, JSON.stringify(room.config)).changes;
      if (inserted === 0) return 'exists';
      this.writeMembers(room.domain, room.name, applyMucLightChanges([], room.members));
      return 'ok';
    });
  }
  async destroy(_ht: string, domain: string, name: string): Promise<boolean> {
    return this.d.tx(() => {
      this.d.stmt('DELETE FROM muc_light_members WHERE room_domain = ? AND room_name = ?').run(domain, name);
      return this.d.stmt('DELETE FROM muc_light_rooms WHERE domain = ? AND name = ?').run(domain, name).changes === 1;
    });
  }
  async get(_ht: string, domain: string, name: string): Promise<MucLightRoom | undefined> {
    return this.d.tx(() => this.load(domain, name));
  }
  private update(
    domain: string, name: string, expectedVersion: string | undefined, change: (r: MucLightRoom) => MucLightRoom,
  ): MucLightUpdateResult {
    return this.d.tx((): MucLightUpdateResult => {
      const r = this.load(domain, name);
      if (!r) return { ok: false, error: 'not-found' };
      if (expectedVersion !== undefined && r.version !== expectedVersion) return { ok: false, error: 'version-mismatch' };
      const next = change(r);
      this.d.stmt('UPDATE muc_light_rooms SET version = ?, config_json = ? WHERE domain = ? AND name = ?').run(next.version, JSON.stringify(next.config), domain, name);
      if (next.members !== r.members) this.writeMembers(domain, name, next.members);
      return { ok: true, room: next };
    });
  }
  async setConfig(
    _ht: string, domain: string, name: string, changes: Readonly<Record<string, string>>, newVersion: string, expectedVersion?: string,
  ): Promise<MucLightUpdateResult> {
    return this.update(domain, name, expectedVersion, (r) => ({ ...r, config: { ...r.config, ...changes }, version: newVersion }));
  }
  async setAffiliations(
    _ht: string, domain: string, name: string, changes: readonly MucLightAffiliationChange[], newVersion: string, expectedVersion?: string,
  ): Promise<MucLightUpdateResult> {
    return this.update(domain, name, expectedVersion, (r) => ({ ...r, members: applyMucLightChanges(r.members, changes), version: newVersion }));
  }
  private refs(domain: string, user: string): MucLightRoomRef[] {
    return this.d
      .stmt<MucLightRoomRef>(
        `SELECT r.domain, r.name, r.version FROM muc_light_members m
         JOIN muc_light_rooms r ON r.domain = m.room_domain AND r.name = m.room_name
         WHERE m.domain = ? AND m.username = ? ORDER BY r.domain, r.name`,
      )
      .all(domain, user);
  }
  async roomsOfUser(_ht: string, domain: string, user: string): Promise<MucLightRoomRef[]> {
    return this.refs(domain, user);
  }
  async removeUser(_ht: string, domain: string, user: string): Promise<MucLightRoomRef[]> {
    return this.d.tx(() => {
      const refs = this.refs(domain, user);
      this.d.stmt('DELETE FROM muc_light_members WHERE domain = ? AND username = ?').run(domain, user);
      return refs;
    });
  }
  async removeDomain(_ht: string, domain: string): Promise<void> {
    this.d.tx(() => {
      this.d.stmt('DELETE FROM muc_light_members WHERE room_domain = ? OR domain = ?').run(domain, domain);
      this.d.stmt('DELETE FROM muc_light_rooms WHERE domain = ?').run(domain);
    });
  }
}
