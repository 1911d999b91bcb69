import type { VCardStore } from '../../core/storage/vcard-store.ts';
import type { SqliteDatabase } from './database.ts';

/** SQLite {@link VCardStore}. */
export class SqliteVCardStore implements VCardStore {
  constructor(private readonly d: SqliteDatabase) {}
  async get(_ht: string, domain: string, user: string): Promise<string | undefined> {
    return this.d.stmt('SELECT xml FROM vcards WHERE domain = ? AND username = ?').pluck().get(domain, user) as string | undefined;
  }
  async set(_ht: string, domain: string, user: string, xml: string): Promise<void> {
    this.d.stmt('INSERT OR REPLACE INTO vcards (domain, username, xml) VALUES (?, ?, ?)').run(domain, user, xml);
  }
  async removeUser(_ht: string, domain: string, user: string): Promise<boolean> {
    return this.d.stmt('DELETE FROM vcards WHERE domain = ? AND username = ?').run(domain, user).changes === 1;
  }
  async removeDomain(_ht: string, domain: string): Promise<void> {
    this.d.stmt('DELETE FROM vcards WHERE domain = ?').run(domain);
  }
}
