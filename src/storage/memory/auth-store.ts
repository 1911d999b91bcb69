import type { AuthStore } from '../../core/storage/auth-store.ts';
import type { StoredCredentials } from '../../core/auth/scram.ts';

/** In-memory {@link AuthStore} (tests, embedded use). */
export class MemoryAuthStore implements AuthStore {
  private readonly domains = new Map<string, Map<string, StoredCredentials>>();

  private users(domain: string, create: true): Map<string, StoredCredentials>;
  private users(domain: string, create?: false): Map<string, StoredCredentials> | undefined;
  private users(domain: string, create = false): Map<string, StoredCredentials> | undefined {
    let m = this.domains.get(domain);
    if (!m && create) this.domains.set(domain, (m = new Map()));
    return m;
  }

  async register(_ht: string, domain: string, user: string, creds: StoredCredentials): Promise<boolean> {
    const m = this.users(domain, true);
    if (m.has(user)) return false;
    m.set(user, creds);
    return true;
  }
  async setCredentials(_ht: string, domain: string, user: string, creds: StoredCredentials): Promise<boolean> {
    const m = this.users(domain);
    if (!m?.has(user)) return false;
    m.set(user, creds);
    return true;
  }
  async getCredentials(_ht: string, domain: string, user: string): Promise<StoredCredentials | undefined> {
    return this.users(domain)?.get(user);
  }
  async exists(_ht: string, domain: string, user: string): Promise<boolean> {
    return this.users(domain)?.has(user) ?? false;
  }
  async removeUser(_ht: string, domain: string, user: string): Promise<boolean> {
    return this.users(domain)?.delete(user) ?? false;
  }
  async listUsers(_ht: string, domain: string): Promise<string[]> {
    return [...(this.users(domain)?.keys() ?? [])].sort();
  }
  async countUsers(_ht: string, domain: string): Promise<number> {
    return this.users(domain)?.size ?? 0;
  }
  async removeDomain(_ht: string, domain: string): Promise<void> {
    this.domains.delete(domain);
  }
}
