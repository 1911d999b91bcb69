import { BLOCKLIST_NAME, type PrivacyItem, type PrivacyStore } from '../../core/storage/privacy-store.ts';
import { UserMap } from './user-map.ts';
import { blocklistItems, blocklistJids, sortPrivacyItems } from '../rules/privacy.ts';

interface UserPrivacy {
  lists: Map<string, PrivacyItem[]>;
  default?: string;
}

/** In-memory {@link PrivacyStore}. */
export class MemoryPrivacyStore implements PrivacyStore {
  private readonly users = new UserMap<UserPrivacy>();

  private user(domain: string, user: string): UserPrivacy {
    return this.users.ensure(domain, user, () => ({ lists: new Map() }));
  }

  async getListNames(_ht: string, domain: string, user: string): Promise<{ names: string[]; default?: string }> {
    const u = this.users.get(domain, user);
    const names = [...(u?.lists.keys() ?? [])].filter((n) => n !== BLOCKLIST_NAME).sort();
    return u?.default !== undefined ? { names, default: u.default } : { names };
  }
  async getList(_ht: string, domain: string, user: string, name: string): Promise<PrivacyItem[] | undefined> {
    const l = this.users.get(domain, user)?.lists.get(name);
    return l && sortPrivacyItems(l);
  }
  async setList(_ht: string, domain: string, user: string, name: string, items: readonly PrivacyItem[]): Promise<void> {
    this.user(domain, user).lists.set(name, sortPrivacyItems(items));
  }
  async deleteList(_ht: string, domain: string, user: string, name: string): Promise<boolean> {
    const u = this.users.get(domain, user);
    if (!u?.lists.delete(name)) return false;
    if (u.default === name) delete u.default;
    return true;
  }
  async getDefault(_ht: string, domain: string, user: string): Promise<string | undefined> {
    return this.users.get(domain, user)?.default;
  }
  async setDefault(_ht: string, domain: string, user: string, name: string | undefined): Promise<boolean> {
    const u = this.user(domain, user);
    if (name === undefined) {
      delete u.default;
      return true;
    }
    if (!u.lists.has(name)) return false;
    u.default = name;
    return true;
  }
  async getBlocklist(_ht: string, domain: string, user: string): Promise<string[]> {
    return blocklistJids(this.users.get(domain, user)?.lists.get(BLOCKLIST_NAME));
  }
  async block(ht: string, domain: string, user: string, jids: readonly string[]): Promise<string[]> {
    const before = new Set(await this.getBlocklist(ht, domain, user));
    const added = [...new Set(jids)].filter((j) => !before.has(j)).sort();
    if (added.length) this.user(domain, user).lists.set(BLOCKLIST_NAME, blocklistItems([...before, ...added]));
    return added;
  }
  async unblock(ht: string, domain: string, user: string, jids: readonly string[]): Promise<string[]> {
    const before = new Set(await this.getBlocklist(ht, domain, user));
    const drop = new Set(jids);
    const removed = [...before].filter((j) => drop.has(j)).sort();
    if (removed.length) this.user(domain, user).lists.set(BLOCKLIST_NAME, blocklistItems([...before].filter((j) => !drop.has(j))));
    return removed;
  }
  async unblockAll(ht: string, domain: string, user: string): Promise<string[]> {
    const before = await this.getBlocklist(ht, domain, user);
    this.users.get(domain, user)?.lists.delete(BLOCKLIST_NAME);
    return before;
  }
  async removeUser(_ht: string, domain: string, user: string): Promise<void> {
    this.users.delete(domain, user);
  }
  async removeDomain(_ht: string, domain: string): Promise<void> {
    this.users.deleteDomain(domain);
  }
}
