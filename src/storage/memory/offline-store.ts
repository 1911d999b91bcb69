import type { OfflineMessage, OfflineMessageInput, OfflinePushResult, OfflineStore } from '../../core/storage/offline-store.ts';
import { UserMap } from './user-map.ts';

/** In-memory {@link OfflineStore}. */
export class MemoryOfflineStore implements OfflineStore {
  private readonly queues = new UserMap<OfflineMessage[]>();
  private nextId = 1;

  async push(_ht: string, domain: string, user: string, msg: OfflineMessageInput, limit?: number): Promise<OfflinePushResult> {
    const q = this.queues.ensure(domain, user, () => []);
    if (limit !== undefined && q.length >= limit) return 'full';
    q.push({ ...msg, id: String(this.nextId++) });
    return 'stored';
  }
  async popAll(_ht: string, domain: string, user: string, nowUs?: number): Promise<OfflineMessage[]> {
    const q = this.queues.get(domain, user) ?? [];
    this.queues.delete(domain, user);
    return nowUs === undefined ? q : q.filter((m) => m.expiresAt === undefined || m.expiresAt >= nowUs);
  }
  async count(_ht: string, domain: string, user: string): Promise<number> {
    return this.queues.get(domain, user)?.length ?? 0;
  }
  async removeExpired(_ht: string, nowUs: number): Promise<number> {
    let n = 0;
    for (const [domain, user, q] of [...this.queues.entries()]) {
      const keep = q.filter((m) => m.expiresAt === undefined || m.expiresAt >= nowUs);
      n += q.length - keep.length;
      if (keep.length) this.queues.set(domain, user, keep);
      else this.queues.delete(domain, user);
    }
    return n;
  }
  async removeUser(_ht: string, domain: string, user: string): Promise<void> {
    this.queues.delete(domain, user);
  }
  async removeDomain(_ht: string, domain: string): Promise<void> {
    this.queues.deleteDomain(domain);
  }
}
