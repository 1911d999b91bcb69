import type { Roster, RosterAsk, RosterItem, RosterStore, RosterSubscription } from '../../core/storage/roster-store.ts';
import type { SqliteDatabase } from './database.ts';

interface ItemRow {
  jid: string;
  name: string | null;
  subscription: RosterSubscription;
  ask: RosterAsk;
  pending_in: number;
  approved: number;
  groups_json: string;
}

function toItem(r: ItemRow): RosterItem {
  return {
    jid: r.jid, ...(r.name !== null ? { name: r.name } : {}), subscription: r.subscription, ask: r.ask,
    pendingIn: r.pending_in === 1, approved: r.approved === 1, groups: JSON.parse(r.groups_json) as string[],
  };
}

const COLS = 'jid, name, subscription, ask, pending_in, approved, groups_json';

/** SQLite {@link RosterStore}; the version is a per-user counter in `roster_versions`. */
export class SqliteRosterStore implements RosterStore {
  constructor(private readonly d: SqliteDatabase) {}

  private version(domain: string, user: string): string | undefined {
    const v = this.d.stmt('SELECT version FROM roster_versions WHERE domain = ? AND username = ?').pluck().get(domain, user) as number | undefined;
    return v === undefined ? undefined : String(v);
  }
  private bump(domain: string, user: string): string {
    const v = this.d
      .stmt(
        `INSERT INTO roster_versions (domain, username, version) VALUES (?, ?, 1)
         ON CONFLICT (domain, username) DO UPDATE SET version = version + 1 RETURNING version`,
      )
      .pluck()
      .get(domain, user) as number;
    return String(v);
  }

  async getRoster(_ht: string, domain: string, user: string): Promise<Roster> {
    return this.d.tx(() => {
      const rows = this.d.stmt<ItemRow>(`SELECT ${COLS} FROM roster_items WHERE domain = ? AND username = ? ORDER BY jid`).all(domain, user);
      return { version: this.version(domain, user), items: rows.map(toItem) };
    });
  }
  async getItem(_ht: string, domain: string, user: string, jid: string): Promise<RosterItem | undefined> {
    const r = this.d.stmt<ItemRow>(`SELECT ${COLS} FROM roster_items WHERE domain = ? AND username = ? AND jid = ?`).get(domain, user, jid);
    return r && toItem(r);
  }
  async getVersion(_ht: string, domain: string, user: string): Promise<string | undefined> {
    return this.version(domain, user);
  }
  async upsertItem(_ht: string, domain: string, user: string, item: RosterItem): Promise<string> {
    return this.d.tx(() => {
      this.d
        .stmt(`INSERT OR REPLACE INTO roster_items (domain, username, ${COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(domain, user, item.jid, item.name ?? null, item.subscription, item.ask, item.pendingIn ? 1 : 0, item.approved ? 1 : 0, JSON.stringify([...new Set(item.groups)]));
      return this.bump(domain, user);
    });
  }
  async removeItem(_ht: string, domain: string, user: string, jid: string): Promise<string | undefined> {
    return this.d.tx(() => {
      if (this.d.stmt('DELETE FROM roster_items WHERE domain = ? AND username = ? AND jid = ?').run(domain, user, jid).changes === 0) return undefined;
      return this.bump(domain, user);
    });
  }
  async removeUser(_ht: string, domain: string, user: string): Promise<void> {
    this.d.tx(() => {
      this.d.stmt('DELETE FROM roster_items WHERE domain = ? AND username = ?').run(domain, user);
      this.d.stmt('DELETE FROM roster_versions WHERE domain = ? AND username = ?').run(domain, user);
    });
  }
  async removeDomain(_ht: string, domain: string): Promise<void> {
    this.d.tx(() => {
      this.d.stmt('DELETE FROM roster_items WHERE domain = ?').run(domain);
      this.d.stmt('DELETE FROM roster_versions WHERE domain = ?').run(domain);
    });
  }
}
