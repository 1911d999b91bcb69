import type { FastTokenEntry, FastTokenStore } from '../../core/storage/fast-token-store.ts';
import { UserMap } from './user-map.ts';

/** In-memory {@link FastTokenStore}. */
export class MemoryFastTokenStore implements FastTokenStore {
  private readonly data = new UserMap<Map<string, FastTokenEntry>>();
  async get(_ht: string, domain: string, user: string, agentId: string): Promise<FastTokenEntry | undefined> {
    return this.data.get(domain, user)?.get(agentId);
  }
  async set(_ht: string, domain: string, user: string, agentId: string, entry: FastTokenEntry): Promise<void> {
    this.data.ensure(domain, user, () => new Map()).set(agentId, { current: entry.current, previous: entry.previous, count: entry.count });
  }
  async remove(_ht: string, domain: string, user: string, agentId: string): Promise<boolean> {
    const m = this.data.get(domain, user);
    if (m === undefined || !m.delete(agentId)) return false;
    if (m.size === 0) this.data.delete(domain, user);
    return true;
  }
  async agents(_ht: string, domain: string, user: string): Promise<string[]> {
    return [...(this.data.get(domain, user)?.keys() ?? [])].sort();
  }
  async removeUser(_ht: string, domain: string, user: string): Promise<void> {
    this.data.delete(domain, user);
  }
  async removeDomain(_ht: string, domain: string): Promise<void> {
    this.data.deleteDomain(domain);
  }
}
