import type { PrivateStore } from '../../core/storage/private-store.ts';
import type { SqliteDatabase } from './database.ts';

/** SQLite {@link PrivateStore}. */
export class SqlitePrivateStore implements PrivateStore {
  constructor(private readonly d: SqliteDatabase) {}
  async get(_ht: string, domain: string, user: string, namespace: string): Promise<string | undefined> {
    return this.d.stmt('SELECT xml FROM private_storage WHERE domain = ? AND username = ? AND namespace = ?').pluck().get(domain, user, namespace) as
      | string
      | undefined;
  }
  async set(_ht: string, domain: string, user: string, entries: ReadonlyMap<string, string> | Readonly<Record<string, string>>): Promise<void> {
    this.d.tx(() => {
      const ins = this.d.stmt('INSERT OR REPLACE INTO private_storage (domain, username, namespace, xml) VALUES (?, ?, ?, ?)');
      for (const [ns, xml] of entries instanceof Map ? entries : Object.entries(entries)) ins.run(domain, user, ns, xml);
    });
  }
  async remove(_ht: string, domain: string, user: string, namespace: string): Promise<boolean> {
    return this.d.stmt('DELETE FROM private_storage WHERE domain = ? AND username = ? AND namespace = ?').run(domain, user, namespace).changes === 1;
  }
  async removeUser(_ht: string, domain: string, user: string): Promise<void> {
    this.d.stmt('DELETE FROM private_storage WHERE domain = ? AND username = ?').run(domain, user);
  }
  async removeDomain(_ht: string, domain: string): Promise<void> {
    this.d.stmt('DELETE FROM private_storage WHERE domain = ?').run(domain);
  }
}
