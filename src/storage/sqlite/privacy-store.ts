import { BLOCKLIST_NAME, type PrivacyItem, type PrivacyStore } from '../../core/storage/privacy-store.ts';
import type { SqliteDatabase } from './database.ts';
import { blocklistItems, blocklistJids, sortPrivacyItems } from '../rules/privacy.ts';

/**
 * SQLite {@link PrivacyStore}. A list is always read and written whole (XEP-0016 has no item
 * edits), so its items are one JSON column rather than MongooseIM's `privacy_list_data` rows.
 */
export class SqlitePrivacyStore implements PrivacyStore {
  constructor(private readonly d: SqliteDatabase) {}

  private list(domain: string, user: string, name: string): PrivacyItem[] | undefined {
    const json = this.d.stmt('SELECT items_json FROM privacy_lists WHERE domain = ? AND username = ? AND name = ?').pluck().get(domain, user, name) as
      | string
      | undefined;
    return json === undefined ? undefined : (JSON.parse(json) as PrivacyItem[]);
  }
  private write(domain: string, user: string, name: string, items: readonly PrivacyItem[]): void {
    this.d.stmt('INSERT OR REPLACE INTO privacy_lists (domain, username, name, items_json) VALUES (?, ?, ?, ?)').run(domain, user, name, JSON.stringify(sortPrivacyItems(items)));
  }
  private defaultName(domain: string, user: string): string | undefined {
    return this.d.stmt('SELECT name FROM privacy_default WHERE domain = ? AND username = ?').pluck().get(domain, user) as string | undefined;
  }

  async getListNames(_ht: string, domain: string, user: string): Promise<{ names: string[]; default?: string }> {
    return this.d.tx(() => {
      const names = (this.d.stmt('SELECT name FROM privacy_lists WHERE domain = ? AND username = ? ORDER BY name').pluck().all(domain, user) as string[]).filter(
        (n) => n !== BLOCKLIST_NAME,
      );
      const def = this.defaultName(domain, user);
      return def !== undefined ? { names, default: def } : { names };
    });
  }
  async getList(_ht: string, domain: string, user: string, name: string): Promise<PrivacyItem[] | undefined> {
    return this.list(domain, user, name);
  }
  async setList(_ht: string, domain: string, user: string, name: string, items: readonly PrivacyItem[]): Promise<void> {
    this.write(domain, user, name, items);
  }
  async deleteList(_ht: string, domain: string, user: string, name: string): Promise<boolean> {
    return this.d.tx(() => {
      if (this.d.stmt('DELETE FROM privacy_lists WHERE domain = ? AND username = ? AND name = ?').run(domain, user, name).changes === 0) return false;
      this.d.stmt('DELETE FROM privacy_default WHERE domain = ? AND username = ? AND name = ?').run(domain, user, name);
      return true;
    });
  }
  async getDefault(_ht: string, domain: string, user: string): Promise<string | undefined> {
    return this.defaultName(domain, user);
  }
  async setDefault(_ht: string, domain: string, user: string, name: string | undefined): Promise<boolean> {
    return this.d.tx(() => {
      if (name === undefined) {
        this.d.stmt('DELETE FROM privacy_default WHERE domain = ? AND username = ?').run(domain, user);
        return true;
      }
      if (this.list(domain, user, name) === undefined) return false;
      this.d.stmt('INSERT OR REPLACE INTO privacy_default (domain, username, name) VALUES (?, ?, ?)').run(domain, user, name);
      return true;
    });
  }
  async getBlocklist(_ht: string, domain: string, user: string): Promise<string[]> {
    return blocklistJids(this.list(domain, user, BLOCKLIST_NAME));
  }
  async block(_ht: string, domain: string, user: string, jids: readonly string[]): Promise<string[]> {
    return this.d.tx(() => {
      const before = new Set(blocklistJids(this.list(domain, user, BLOCKLIST_NAME)));
      const added = [...new Set(jids)].filter((j) => !before.has(j)).sort();
      if (added.length) this.write(domain, user, BLOCKLIST_NAME, blocklistItems([...before, ...added]));
      return added;
    });
  }
  async unblock(_ht: string, domain: string, user: string, jids: readonly string[]): Promise<string[]> {
    return this.d.tx(() => {
      const before = blocklistJids(this.list(domain, user, BLOCKLIST_NAME));
      const drop = new Set(jids);
      const removed = before.filter((j) => drop.has(j));
      if (removed.length) this.write(domain, user, BLOCKLIST_NAME, blocklistItems(before.filter((j) => !drop.has(j))));
      return removed;
    });
  }
  async unblockAll(_ht: string, domain: string, user: string): Promise<string[]> {
    return this.d.tx(() => {
      const before = blocklistJids(this.list(domain, user, BLOCKLIST_NAME));
      this.d.stmt('DELETE FROM privacy_lists WHERE domain = ? AND username = ? AND name = ?').run(domain, user, BLOCKLIST_NAME);
      return before;
    });
  }
  async removeUser(_ht: string, domain: string, user: string): Promise<void> {
    this.d.tx(() => {
      this.d.stmt('DELETE FROM privacy_lists WHERE domain = ? AND username = ?').run(domain, user);
      this.d.stmt('DELETE FROM privacy_default WHERE domain = ? AND username = ?').run(domain, user);
    });
  }
  async removeDomain(_ht: string, domain: string): Promise<void> {
    this.d.tx(() => {
      this.d.stmt('DELETE FROM privacy_lists WHERE domain = ?').run(domain);
      this.d.stmt('DELETE FROM privacy_default WHERE domain = ?').run(domain);
    });
  }
}
