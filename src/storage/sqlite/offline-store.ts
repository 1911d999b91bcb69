import type { OfflineMessage, OfflineMessageInput, OfflinePushResult, OfflineStore } from '../../core/storage/offline-store.ts';
import type { SqliteDatabase } from './database.ts';

interface Row {
  id: number;
  from_jid: string;
  to_jid: string;
  timestamp: number;
  expires_at: number | null;
  xml: string;
}

function toMessage(r: Row): OfflineMessage {
  return { id: String(r.id), from: r.from_jid, to: r.to_jid, timestamp: r.timestamp, ...(r.expires_at !== null ? { expiresAt: r.expires_at } : {}), xml: r.xml };
}

/** SQLite {@link OfflineStore}; `push` is group-committed and checks the limit inside the batch transaction. */
export class SqliteOfflineStore implements OfflineStore {
  constructor(private readonly d: SqliteDatabase) {}

  push(_ht: string, domain: string, user: string, msg: OfflineMessageInput, limit?: number): Promise<OfflinePushResult> {
    return this.d.writes.run((): OfflinePushResult => {
      // Counted inside the batch transaction, so earlier pushes of the same batch count too.
      if (limit !== undefined && (this.d.stmt('SELECT COUNT(*) FROM offline_messages WHERE domain = ? AND username = ?').pluck().get(domain, user) as number) >= limit) return 'full';
      this.d
        .stmt('INSERT INTO offline_messages (domain, username, from_jid, to_jid, timestamp, expires_at, xml) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(domain, user, msg.from, msg.to, msg.timestamp, msg.expiresAt ?? null, msg.xml);
      return 'stored';
    });
  }
  async popAll(_ht: string, domain: string, user: string, nowUs?: number): Promise<OfflineMessage[]> {
    this.d.writes.flush();
    return this.d.tx(() => {
      const rows = this.d
        .stmt<Row>('DELETE FROM offline_messages WHERE domain = ? AND username = ? RETURNING id, from_jid, to_jid, timestamp, expires_at, xml')
        .all(domain, user);
      rows.sort((a, b) => a.id - b.id);
      return rows.filter((r) => nowUs === undefined || r.expires_at === null || r.expires_at >= nowUs).map(toMessage);
    });
  }
  async count(_ht: string, domain: string, user: string): Promise<number> {
    return this.d.stmt('SELECT COUNT(*) FROM offline_messages WHERE domain = ? AND username = ?').pluck().get(domain, user) as number;
  }
  /** Shares one table between host types, so it cleans expired messages of all of them. */
  async removeExpired(_ht: string, nowUs: number): Promise<number> {
    this.d.writes.flush();
    return this.d.stmt('DELETE FROM offline_messages WHERE expires_at IS NOT NULL AND expires_at < ?').run(nowUs).changes;
  }
  async removeUser(_ht: string, domain: string, user: string): Promise<void> {
    this.d.writes.flush();
    this.d.stmt('DELETE FROM offline_messages WHERE domain = ? AND username = ?').run(domain, user);
  }
  async removeDomain(_ht: string, domain: string): Promise<void> {
    this.d.writes.flush();
    this.d.stmt('DELETE FROM offline_messages WHERE domain = ?').run(domain);
  }
}
