import type { InboxEntry, InboxQuery, InboxStore, InboxUpdate } from '../../core/storage/inbox-store.ts';
import type { SqliteDatabase } from './database.ts';
import { nextInboxBox, nextInboxUnread } from '../rules/inbox.ts';

interface Row {
  remote_jid: string;
  msg_id: string;
  xml: string;
  timestamp: number;
  unread: number;
  muted_until: number;
  box: string;
}

const COLS = 'remote_jid, msg_id, xml, timestamp, unread, muted_until, box';

function toEntry(r: Row): InboxEntry {
  return { remoteJid: r.remote_jid, msgId: r.msg_id, xml: r.xml, timestamp: r.timestamp, unread: r.unread, mutedUntil: r.muted_until, box: r.box };
}

/** SQLite {@link InboxStore}; `upsert` is group-committed (one per message). */
export class SqliteInboxStore implements InboxStore {
  constructor(private readonly d: SqliteDatabase) {}

  private row(domain: string, user: string, remoteJid: string): Row | undefined {
    return this.d.stmt<Row>(`SELECT ${COLS} FROM inbox WHERE domain = ? AND username = ? AND remote_jid = ?`).get(domain, user, remoteJid);
  }

  upsert(_ht: string, domain: string, user: string, u: InboxUpdate): Promise<InboxEntry> {
    return this.d.writes.run(() => {
      const old = this.row(domain, user, u.remoteJid);
      const e: InboxEntry = {
        remoteJid: u.remoteJid, msgId: u.msgId, xml: u.xml, timestamp: u.timestamp,
        unread: nextInboxUnread(old?.unread, u), mutedUntil: old?.muted_until ?? 0, box: nextInboxBox(old?.box, u),
      };
      this.d
        .stmt(`INSERT OR REPLACE INTO inbox (domain, username, ${COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(domain, user, e.remoteJid, e.msgId, e.xml, e.timestamp, e.unread, e.mutedUntil, e.box);
      return e;
    });
  }
  async getEntry(_ht: string, domain: string, user: string, remoteJid: string): Promise<InboxEntry | undefined> {
    const r = this.row(domain, user, remoteJid);
    return r && toEntry(r);
  }
  async query(_ht: string, domain: string, user: string, q: InboxQuery = {}): Promise<InboxEntry[]> {
    const where = ['domain = ?', 'username = ?'];
    const args: unknown[] = [domain, user];
    if (q.box === undefined) where.push("box <> 'bin'");
    else where.push('box = ?'), args.push(q.box);
    if (q.hiddenRead) where.push('unread > 0');
    if (q.start !== undefined) where.push('timestamp >= ?'), args.push(q.start);
    if (q.end !== undefined) where.push('timestamp <= ?'), args.push(q.end);
    const dir = q.order === 'asc' ? 'ASC' : 'DESC';
    return this.d
      .stmt<Row>(`SELECT ${COLS} FROM inbox WHERE ${where.join(' AND ')} ORDER BY timestamp ${dir}, remote_jid ASC LIMIT ?`)
      .all(...args, q.limit ?? -1)
      .map(toEntry);
  }
  private update(set: string, domain: string, user: string, remoteJid: string, ...vals: unknown[]): boolean {
    this.d.writes.flush();
    return this.d.stmt(`UPDATE inbox SET ${set} WHERE domain = ? AND username = ? AND remote_jid = ?`).run(...vals, domain, user, remoteJid).changes === 1;
  }
  async resetUnread(_ht: string, domain: string, user: string, remoteJid: string, msgId?: string): Promise<boolean> {
    if (msgId === undefined) return this.update('unread = 0', domain, user, remoteJid);
    this.d.writes.flush();
    return (
      this.d.stmt('UPDATE inbox SET unread = 0 WHERE domain = ? AND username = ? AND remote_jid = ? AND msg_id = ?').run(domain, user, remoteJid, msgId).changes === 1
    );
  }
  async setUnread(_ht: string, domain: string, user: string, remoteJid: string, unread: number): Promise<boolean> {
    return this.update('unread = ?', domain, user, remoteJid, unread);
  }
  async setMutedUntil(_ht: string, domain: string, user: string, remoteJid: string, mutedUntil: number): Promise<boolean> {
    return this.update('muted_until = ?', domain, user, remoteJid, mutedUntil);
  }
  async setBox(_ht: string, domain: string, user: string, remoteJid: string, box: string): Promise<boolean> {
    return this.update('box = ?', domain, user, remoteJid, box);
  }
  async removeEntry(_ht: string, domain: string, user: string, remoteJid: string): Promise<boolean> {
    this.d.writes.flush();
    return this.d.stmt('DELETE FROM inbox WHERE domain = ? AND username = ? AND remote_jid = ?').run(domain, user, remoteJid).changes === 1;
  }
  async removeFromBox(_ht: string, domain: string, user: string, box: string, beforeUs?: number): Promise<number> {
    this.d.writes.flush();
    return this.d
      .stmt('DELETE FROM inbox WHERE domain = ? AND username = ? AND box = ? AND timestamp < ?')
      .run(domain, user, box, beforeUs ?? Number.MAX_SAFE_INTEGER).changes;
  }
  async removeUser(_ht: string, domain: string, user: string): Promise<void> {
    this.d.writes.flush();
    this.d.stmt('DELETE FROM inbox WHERE domain = ? AND username = ?').run(domain, user);
  }
  async removeDomain(_ht: string, domain: string): Promise<void> {
    this.d.writes.flush();
    this.d.stmt('DELETE FROM inbox WHERE domain = ?').run(domain);
  }
}
