import type { LastActivity, LastStore } from '../../core/storage/last-store.ts';
import { UserMap } from './user-map.ts';

/** In-memory {@link LastStore}. */
export class MemoryLastStore implements LastStore {
  private readonly last = new UserMap<LastActivity>();
  async get(_ht: string, domain: string, user: string): Promise<LastActivity | undefined> {
    const l = this.last.get(domain, user);
    return l && { ...l };
  }
  async set(_ht: string, domain: string, user: string, last: LastActivity): Promise<void> {
    this.last.set(domain, user, { seconds: last.seconds, status: last.status });
  }
  async removeUser(_ht: string, domain: string, user: string): Promise<void> {
    this.last.delete(domain, user);
  }
  async removeDomain(_ht: string, domain: string): Promise<void> {
    this.last.deleteDomain(domain);
  }
}
