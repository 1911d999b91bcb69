import type { InboxEntry, InboxQuery, InboxStore, InboxUpdate } from '../../core/storage/inbox-store.ts';
import type { SqliteDatabase } from './database.ts';

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
const SELECT_ONE = `SELECT ${COLS} FROM inbox WHERE domain = ? AND username = ? AND remote_jid = ?`;

function toEntry(r: Row): InboxEntry {
  return { remoteJid: r.remote_jid, msgId: r.msg_id, xml: r.xml, timestamp: r.timestamp, unread: r.unread, mutedUntil: r.muted_until, box: r.box };
}

/** One upsert statement per unread rule: a new entry gets the bound unread (1 or 0). */
const UPSERT: Record<InboxUpdate['unread'], string> = {
  increment: upsertSql('unread + 1'),
  reset: upsertSql('0'),
  keep: upsertSql('unread'),
};

function upsertSql(unread: string): string {
  return (
    `INSERT INTO inbox (domain, username, ${COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?) ` +
    'ON CONFLICT (domain, username, remote_jid) DO UPDATE SET msg_id = excluded.msg_id, xml = excluded.xml, ' +
    `timestamp = excluded.timestamp, unread = ${unread}, box = CASE WHEN box = 'bin' THEN excluded.box ELSE box END ` +
    'RETURNING unread, muted_until, box'
  );
}

/**
 * SQLite {@link InboxStore}. Every write is group-committed, in issue order (the committer's
 * queue is FIFO, so a `setBox` issued after an `upsert` applies after it). `upsert` is one
 * `INSERT … ON CONFLICT DO UPDATE … RETURNING` statement: the unread count is incremented in
 * SQL (`unread = unread + 1`), with no read before the write. Reads commit the queued writes
 * first (only when some are queued), so they see every write issued before them.
 */
export class SqliteInboxStore implements InboxStore {
  constructor(private readonly d: SqliteDatabase) {}

  private row(domain: string, user: string, remoteJid: string): Row | undefined {
    if (this.d.writes.pending > 0) this.d.writes.flush();
    return this.d.stmt<Row>(SELECT_ONE).get(domain, user, remoteJid);
  }

  upsert(_ht: string, domain: string, user: string, u: InboxUpdate): Promise<InboxEntry> {
    // Same rules as nextInboxUnread / nextInboxBox (src/storage/rules/inbox.ts), in SQL.
    const box = u.box ?? 'inbox';
    const sql = UPSERT[u.unread];
    return this.d.writes.run(() => {
      const r = this.d
        .stmt<Pick<Row, 'unread' | 'muted_until' | 'box'>>(sql)
        .get(domain, user, u.remoteJid, u.msgId, u.xml, u.timestamp, u.unread === 'increment' ? 1 : 0, box)!;
      return { remoteJid: u.remoteJid, msgId: u.msgId, xml: u.xml, timestamp: u.timestamp, unread: r.unread, mutedUntil: r.muted_until, box: r.box };
    });
  }
  async getEntry(_ht: string, domain: string, user: string, remoteJid: string): Promise<InboxEntry | undefined> {
    const r = this.row(domain, user, remoteJid);
    return r && toEntry(r);
  }
  async query(_ht: string, domain: string, user: string, q: InboxQuery = {}): Promise<InboxEntry[]> {
    if (this.d.writes.pending > 0) this.d.writes.flush();
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
  private update(set: string, domain: string, user: string, remoteJid: string, ...vals: unknown[]): Promise<boolean> {
    const sql = `UPDATE inbox SET ${set} WHERE domain = ? AND username = ? AND remote_jid = ?`;
    return this.d.writes.run(() => this.d.stmt(sql).run(...vals, domain, user, remoteJid).changes === 1);
  }
  resetUnread(_ht: string, domain: string, user: string, remoteJid: string, msgId?: string): Promise<boolean> {
    if (msgId === undefined) return this.update('unread = 0', domain, user, remoteJid);
    return this.d.writes.run(
      () => this.d.stmt('UPDATE inbox SET unread = 0 WHERE domain = ? AND username = ? AND remote_jid = ? AND msg_id = ?').run(domain, user, remoteJid, msgId).changes === 1,
    );
  }
  setUnread(_ht: string, domain: string, user: string, remoteJid: string, unread: number): Promise<boolean> {
    return this.update('unread = ?', domain, user, remoteJid, unread);
  }
  setMutedUntil(_ht: string, domain: string, user: string, remoteJid: string, mutedUntil: number): Promise<boolean> {
    return this.update('muted_until = ?', domain, user, remoteJid, mutedUntil);
  }
  setBox(_ht: string, domain: string, user: string, remoteJid: string, box: string): Promise<boolean> {
    return this.update('box = ?', domain, user, remoteJid, box);
  }
  removeEntry(_ht: string, domain: string, user: string, remoteJid: string): Promise<boolean> {
    return this.d.writes.run(() => this.d.stmt('DELETE FROM inbox WHERE domain = ? AND username = ? AND remote_jid = ?').run(domain, user, remoteJid).changes === 1);
  }
  removeFromBox(_ht: string, domain: string, user: string, box: string, beforeUs?: number): Promise<number> {
    return this.d.writes.run(
      () => this.d.stmt('DELETE FROM inbox WHERE domain = ? AND username = ? AND box = ? AND timestamp < ?').run(domain, user, box, beforeUs ?? Number.MAX_SAFE_INTEGER).changes,
    );
  }
  async removeUser(_ht: string, domain: string, user: string): Promise<void> {
    await this.d.writes.run(() => void this.d.stmt('DELETE FROM inbox WHERE domain = ? AND username = ?').run(domain, user));
  }
  async removeDomain(_ht: string, domain: string): Promise<void> {
    await this.d.writes.run(() => void this.d.stmt('DELETE FROM inbox WHERE domain = ?').run(domain));
  }
}
