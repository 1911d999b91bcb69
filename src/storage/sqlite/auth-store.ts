import type { AuthStore } from '../../core/storage/auth-store.ts';
import type { StoredCredentials } from '../../core/auth/scram.ts';
import type { SqliteDatabase } from './database.ts';

/**
 * SQLite {@link AuthStore}. `register` and `setCredentials` go through group commit, so a bulk
 * import of thousands of accounts costs a handful of transactions, not one per account.
 */
export class SqliteAuthStore implements AuthStore {
  constructor(private readonly d: SqliteDatabase) {}

  register(_ht: string, domain: string, user: string, creds: StoredCredentials): Promise<boolean> {
    const json = JSON.stringify(creds);
    return this.d.writes.run(
      () => this.d.stmt('INSERT OR IGNORE INTO users (domain, username, credentials, created_at) VALUES (?, ?, ?, ?)').run(domain, user, json, Date.now()).changes === 1,
    );
  }
  setCredentials(_ht: string, domain: string, user: string, creds: StoredCredentials): Promise<boolean> {
    const json = JSON.stringify(creds);
    return this.d.writes.run(() => this.d.stmt('UPDATE users SET credentials = ? WHERE domain = ? AND username = ?').run(json, domain, user).changes === 1);
  }
  async getCredentials(_ht: string, domain: string, user: string): Promise<StoredCredentials | undefined> {
    const row = this.d.stmt<{ credentials: string }>('SELECT credentials FROM users WHERE domain = ? AND username = ?').get(domain, user);
    return row && (JSON.parse(row.credentials) as StoredCredentials);
  }
  async exists(_ht: string, domain: string, user: string): Promise<boolean> {
    return this.d.stmt('SELECT 1 FROM users WHERE domain = ? AND username = ?').get(domain, user) !== undefined;
  }
  async removeUser(_ht: string, domain: string, user: string): Promise<boolean> {
    this.d.writes.flush();
    return this.d.stmt('DELETE FROM users WHERE domain = ? AND username = ?').run(domain, user).changes === 1;
  }
  async listUsers(_ht: string, domain: string): Promise<string[]> {
    return this.d.stmt('SELECT username FROM users WHERE domain = ? ORDER BY username').pluck().all(domain) as string[];
  }
  async countUsers(_ht: string, domain: string): Promise<number> {
    return this.d.stmt('SELECT COUNT(*) FROM users WHERE domain = ?').pluck().get(domain) as number;
  }
  async removeDomain(_ht: string, domain: string): Promise<void> {
    this.d.writes.flush();
    this.d.stmt('DELETE FROM users WHERE domain = ?').run(domain);
  }
}
