import type { DomainEvent, DomainRecord, DomainStatus, DomainStore } from '../../core/storage/domain-store.ts';
import type { SqliteDatabase } from './database.ts';

/**
 * SQLite {@link DomainStore}. Each change writes its `domain_events` row in the same transaction,
 * so a poller never sees a change without its event (AUTOINCREMENT ids never go backwards, even
 * after pruning).
 */
export class SqliteDomainStore implements DomainStore {
  constructor(private readonly d: SqliteDatabase) {}

  private row(domain: string): DomainRecord | undefined {
    return this.d.stmt<DomainRecord>('SELECT domain, host_type AS hostType, status FROM domains WHERE domain = ?').get(domain);
  }
  private event(domain: string, kind: DomainEvent['kind']): void {
    this.d.stmt('INSERT INTO domain_events (domain, kind) VALUES (?, ?)').run(domain, kind);
  }

  async insert(hostType: string, domain: string): Promise<'ok' | 'duplicate'> {
    return this.d.tx(() => {
      const d = this.row(domain);
      if (d) return d.hostType === hostType ? 'ok' : 'duplicate';
      this.d.stmt("INSERT INTO domains (domain, host_type, status) VALUES (?, ?, 'enabled')").run(domain, hostType);
      this.event(domain, 'inserted');
      return 'ok';
    });
  }
  async delete(hostType: string, domain: string): Promise<'ok' | 'not-found' | 'wrong-host-type'> {
    return this.d.tx(() => {
      const d = this.row(domain);
      if (!d) return 'not-found';
      if (d.hostType !== hostType) return 'wrong-host-type';
      this.d.stmt('DELETE FROM domains WHERE domain = ?').run(domain);
      this.event(domain, 'deleted');
      return 'ok';
    });
  }
  private setStatus(domain: string, status: DomainStatus): 'ok' | 'not-found' {
    return this.d.tx(() => {
      const d = this.row(domain);
      if (!d) return 'not-found';
      if (d.status !== status) {
        this.d.stmt('UPDATE domains SET status = ? WHERE domain = ?').run(status, domain);
        this.event(domain, status);
      }
      return 'ok';
    });
  }
  async enable(domain: string): Promise<'ok' | 'not-found'> {
    return this.setStatus(domain, 'enabled');
  }
  async disable(domain: string): Promise<'ok' | 'not-found'> {
    return this.setStatus(domain, 'disabled');
  }
  async get(domain: string): Promise<DomainRecord | undefined> {
    return this.row(domain);
  }
  async list(filter: { hostType?: string; status?: DomainStatus } = {}): Promise<DomainRecord[]> {
    return this.d
      .stmt<DomainRecord>(
        `SELECT domain, host_type AS hostType, status FROM domains
         WHERE (@ht IS NULL OR host_type = @ht) AND (@st IS NULL OR status = @st) ORDER BY domain`,
      )
      .all({ ht: filter.hostType ?? null, st: filter.status ?? null });
  }
  async eventsSince(afterId: number, limit = 1000): Promise<DomainEvent[]> {
    return this.d.stmt<DomainEvent>('SELECT id, domain, kind FROM domain_events WHERE id > ? ORDER BY id LIMIT ?').all(afterId, limit);
  }
  async lastEventId(): Promise<number> {
    // sqlite_sequence keeps the high-water mark after pruning, so the answer never goes back.
    const seq = this.d.stmt("SELECT seq FROM sqlite_sequence WHERE name = 'domain_events'").pluck().get() as number | undefined;
    return seq ?? 0;
  }
  async pruneEvents(upToId: number): Promise<number> {
    return this.d.stmt('DELETE FROM domain_events WHERE id <= ?').run(upToId).changes;
  }
}
