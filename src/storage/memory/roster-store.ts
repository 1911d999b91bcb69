import type { Roster, RosterItem, RosterStore } from '../../core/storage/roster-store.ts';
import { UserMap } from './user-map.ts';

interface UserRoster {
  version: number;
  items: Map<string, RosterItem>;
}

function copyItem(i: RosterItem): RosterItem {
  const { name, ...rest } = i;
  return { ...rest, ...(name !== undefined ? { name } : {}), groups: [...new Set(i.groups)] };
}

/** In-memory {@link RosterStore}. Versions are a per-user counter. */
export class MemoryRosterStore implements RosterStore {
  private readonly rosters = new UserMap<UserRoster>();

  async getRoster(_ht: string, domain: string, user: string): Promise<Roster> {
    const r = this.rosters.get(domain, user);
    if (!r) return { version: undefined, items: [] };
    const items = [...r.items.values()].sort((a, b) => (a.jid < b.jid ? -1 : a.jid > b.jid ? 1 : 0)).map(copyItem);
    return { version: String(r.version), items };
  }
  async getItem(_ht: string, domain: string, user: string, jid: string): Promise<RosterItem | undefined> {
    const i = this.rosters.get(domain, user)?.items.get(jid);
    return i && copyItem(i);
  }
  async getVersion(_ht: string, domain: string, user: string): Promise<string | undefined> {
    const r = this.rosters.get(domain, user);
    return r && String(r.version);
  }
  async upsertItem(_ht: string, domain: string, user: string, item: RosterItem): Promise<string> {
    const r = this.rosters.ensure(domain, user, () => ({ version: 0, items: new Map() }));
    r.items.set(item.jid, copyItem(item));
    return String(++r.version);
  }
  async removeItem(_ht: string, domain: string, user: string, jid: string): Promise<string | undefined> {
    const r = this.rosters.get(domain, user);
    if (!r?.items.delete(jid)) return undefined;
    return String(++r.version);
  }
  async removeUser(_ht: string, domain: string, user: string): Promise<void> {
    this.rosters.delete(domain, user);
  }
  async removeDomain(_ht: string, domain: string): Promise<void> {
    this.rosters.deleteDomain(domain);
  }
}
