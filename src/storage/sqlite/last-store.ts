import type { LastActivity, LastStore } from '../../core/storage/last-store.ts';
import type { SqliteDatabase } from './database.ts';

/** SQLite {@link LastStore}. */
export class SqliteLastStore implements LastStore {
  constructor(private readonly d: SqliteDatabase) {}
  async get(_ht: string, domain: string, user: string): Promise<LastActivity | undefined> {
    return this.d.stmt<LastActivity>('SELECT seconds, status FROM last_activity WHERE domain = ? AND username = ?').get(domain, user);
  }
  async set(_ht: string, domain: string, user: string, last: LastActivity): Promise<void> {
    this.d.stmt('INSERT OR REPLACE INTO last_activity (domain, username, seconds, status) VALUES (?, ?, ?, ?)').run(domain, user, last.seconds, last.status);
  }
  async removeUser(_ht: string, domain: string, user: string): Promise<void> {
    this.d.stmt('DELETE FROM last_activity WHERE domain = ? AND username = ?').run(domain, user);
  }
  async removeDomain(_ht: string, domain: string): Promise<void> {
    this.d.stmt('DELETE FROM last_activity WHERE domain = ?').run(domain);
  }
}
