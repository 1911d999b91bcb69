import type { PrivateStore } from '../../core/storage/private-store.ts';
import { UserMap } from './user-map.ts';

/** In-memory {@link PrivateStore}. */
export class MemoryPrivateStore implements PrivateStore {
  private readonly data = new UserMap<Map<string, string>>();
  async get(_ht: string, domain: string, user: string, namespace: string): Promise<string | undefined> {
    return this.data.get(domain, user)?.get(namespace);
  }
  async set(_ht: string, domain: string, user: string, entries: ReadonlyMap<string, string> | Readonly<Record<string, string>>): Promise<void> {
    const m = this.data.ensure(domain, user, () => new Map());
    for (const [ns, xml] of entries instanceof Map ? entries : Object.entries(entries)) m.set(ns, xml);
  }
  async remove(_ht: string, domain: string, user: string, namespace: string): Promise<boolean> {
    return this.data.get(domain, user)?.delete(namespace) ?? false;
  }
  async removeUser(_ht: string, domain: string, user: string): Promise<void> {
    this.data.delete(domain, user);
  }
  async removeDomain(_ht: string, domain: string): Promise<void> {
    this.data.deleteDomain(domain);
  }
}
