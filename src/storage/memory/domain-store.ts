import type { DomainEvent, DomainRecord, DomainStatus, DomainStore } from '../../core/storage/domain-store.ts';
import { cmp } from '../rules/order.ts';

/** In-memory {@link DomainStore}. */
export class MemoryDomainStore implements DomainStore {
  private readonly domains = new Map<string, DomainRecord>();
  private events: DomainEvent[] = [];
  private lastId = 0;

  private event(domain: string, kind: DomainEvent['kind']): void {
    this.events.push({ id: ++this.lastId, domain, kind });
  }

  async insert(hostType: string, domain: string): Promise<'ok' | 'duplicate'> {
    const d = this.domains.get(domain);
    if (d) return d.hostType === hostType ? 'ok' : 'duplicate';
    this.domains.set(domain, { domain, hostType, status: 'enabled' });
    this.event(domain, 'inserted');
    return 'ok';
  }
  async delete(hostType: string, domain: string): Promise<'ok' | 'not-found' | 'wrong-host-type'> {
    const d = this.domains.get(domain);
    if (!d) return 'not-found';
    if (d.hostType !== hostType) return 'wrong-host-type';
    this.domains.delete(domain);
    this.event(domain, 'deleted');
    return 'ok';
  }
  private setStatus(domain: string, status: DomainStatus): 'ok' | 'not-found' {
    const d = this.domains.get(domain);
    if (!d) return 'not-found';
    if (d.status !== status) {
      this.domains.set(domain, { ...d, status });
      this.event(domain, status);
    }
    return 'ok';
  }
  async enable(domain: string): Promise<'ok' | 'not-found'> {
    return this.setStatus(domain, 'enabled');
  }
  async disable(domain: string): Promise<'ok' | 'not-found'> {
    return this.setStatus(domain, 'disabled');
  }
  async get(domain: string): Promise<DomainRecord | undefined> {
    const d = this.domains.get(domain);
    return d && { ...d };
  }
  async list(filter: { hostType?: string; status?: DomainStatus } = {}): Promise<DomainRecord[]> {
    return [...this.domains.values()]
      .filter((d) => (filter.hostType === undefined || d.hostType === filter.hostType) && (filter.status === undefined || d.status === filter.status))
      .sort((a, b) => cmp(a.domain, b.domain))
      .map((d) => ({ ...d }));
  }
  async eventsSince(afterId: number, limit = 1000): Promise<DomainEvent[]> {
    return this.events.filter((e) => e.id > afterId).slice(0, limit);
  }
  async lastEventId(): Promise<number> {
    return this.lastId;
  }
  async pruneEvents(upToId: number): Promise<number> {
    const before = this.events.length;
    this.events = this.events.filter((e) => e.id > upToId);
    return before - this.events.length;
  }
}
