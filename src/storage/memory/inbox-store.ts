import type { InboxEntry, InboxQuery, InboxStore, InboxUpdate } from '../../core/storage/inbox-store.ts';
import { UserMap } from './user-map.ts';
import { nextInboxBox, nextInboxUnread } from '../rules/inbox.ts';

/** In-memory {@link InboxStore}. */
export class MemoryInboxStore implements InboxStore {
  private readonly inboxes = new UserMap<Map<string, InboxEntry>>();

  private entry(domain: string, user: string, remoteJid: string): InboxEntry | undefined {
    return this.inboxes.get(domain, user)?.get(remoteJid);
  }
  private patch(domain: string, user: string, remoteJid: string, change: Partial<InboxEntry>): boolean {
    const e = this.entry(domain, user, remoteJid);
    if (!e) return false;
    this.inboxes.get(domain, user)!.set(remoteJid, { ...e, ...change });
    return true;
  }

  async upsert(_ht: string, domain: string, user: string, u: InboxUpdate): Promise<InboxEntry> {
    const m = this.inboxes.ensure(domain, user, () => new Map());
    const old = m.get(u.remoteJid);
    const e: InboxEntry = {
      remoteJid: u.remoteJid, msgId: u.msgId, xml: u.xml, timestamp: u.timestamp,
      unread: nextInboxUnread(old?.unread, u), mutedUntil: old?.mutedUntil ?? 0, box: nextInboxBox(old?.box, u),
    };
    m.set(u.remoteJid, e);
    return { ...e };
  }
  async getEntry(_ht: string, domain: string, user: string, remoteJid: string): Promise<InboxEntry | undefined> {
    const e = this.entry(domain, user, remoteJid);
    return e && { ...e };
  }
  async query(_ht: string, domain: string, user: string, q: InboxQuery = {}): Promise<InboxEntry[]> {
    const rows = [...(this.inboxes.get(domain, user)?.values() ?? [])].filter(
      (e) =>
        (q.box === undefined ? e.box !== 'bin' : e.box === q.box) &&
        (!q.hiddenRead || e.unread > 0) &&
        (q.start === undefined || e.timestamp >= q.start) &&
        (q.end === undefined || e.timestamp <= q.end),
    );
    const dir = q.order === 'asc' ? 1 : -1;
    rows.sort((a, b) => dir * (a.timestamp - b.timestamp) || (a.remoteJid < b.remoteJid ? -1 : a.remoteJid > b.remoteJid ? 1 : 0));
    return rows.slice(0, q.limit ?? Infinity).map((e) => ({ ...e }));
  }
  async resetUnread(_ht: string, domain: string, user: string, remoteJid: string, msgId?: string): Promise<boolean> {
    const e = this.entry(domain, user, remoteJid);
    if (!e || (msgId !== undefined && e.msgId !== msgId)) return false;
    return this.patch(domain, user, remoteJid, { unread: 0 });
  }
  async setUnread(_ht: string, domain: string, user: string, remoteJid: string, unread: number): Promise<boolean> {
    return this.patch(domain, user, remoteJid, { unread });
  }
  async setMutedUntil(_ht: string, domain: string, user: string, remoteJid: string, mutedUntil: number): Promise<boolean> {
    return this.patch(domain, user, remoteJid, { mutedUntil });
  }
  async setBox(_ht: string, domain: string, user: string, remoteJid: string, box: string): Promise<boolean> {
    return this.patch(domain, user, remoteJid, { box });
  }
  async removeEntry(_ht: string, domain: string, user: string, remoteJid: string): Promise<boolean> {
    return this.inboxes.get(domain, user)?.delete(remoteJid) ?? false;
  }
  async removeFromBox(_ht: string, domain: string, user: string, box: string, beforeUs?: number): Promise<number> {
    const m = this.inboxes.get(domain, user);
    if (!m) return 0;
    let n = 0;
    for (const [jid, e] of m) {
      if (e.box === box && (beforeUs === undefined || e.timestamp < beforeUs)) {
        m.delete(jid);
        n++;
      }
    }
    return n;
  }
  async removeUser(_ht: string, domain: string, user: string): Promise<void> {
    this.inboxes.delete(domain, user);
  }
  async removeDomain(_ht: string, domain: string): Promise<void> {
    this.inboxes.deleteDomain(domain);
  }
}
