import type { SessionRow, SessionStore } from '../../core/storage/session-store.ts';
import { cmp } from '../rules/order.ts';

function copy(r: SessionRow): SessionRow {
  return { ...r, info: { ...r.info } };
}
function bySid(a: SessionRow, b: SessionRow): number {
  return cmp(a.sid, b.sid);
}

/**
 * In-memory {@link SessionStore}: rows by sid plus a per-user index (the lookups routing makes
 * for every stanza), like MongooseIM's `session` table with its `us` index.
 */
export class MemorySessionStore implements SessionStore {
  private readonly rows = new Map<string, SessionRow>();
  /** `domain \0 user` → sids. */
  private readonly byUs = new Map<string, Set<string>>();

  private key(domain: string, user: string): string {
    return `${domain}\u0000${user}`;
  }
  private unindex(r: SessionRow): void {
    const k = this.key(r.domain, r.user);
    const s = this.byUs.get(k);
    s?.delete(r.sid);
    if (s?.size === 0) this.byUs.delete(k);
  }

  async set(row: SessionRow): Promise<void> {
    const old = this.rows.get(row.sid);
    if (old) this.unindex(old);
    this.rows.set(row.sid, copy(row));
    const k = this.key(row.domain, row.user);
    let s = this.byUs.get(k);
    if (!s) this.byUs.set(k, (s = new Set()));
    s.add(row.sid);
  }
  async delete(sid: string): Promise<boolean> {
    const r = this.rows.get(sid);
    if (!r) return false;
    this.rows.delete(sid);
    this.unindex(r);
    return true;
  }
  async get(sid: string): Promise<SessionRow | undefined> {
    const r = this.rows.get(sid);
    return r && copy(r);
  }
  async byUser(domain: string, user: string): Promise<SessionRow[]> {
    return [...(this.byUs.get(this.key(domain, user)) ?? [])].map((sid) => copy(this.rows.get(sid)!)).sort(bySid);
  }
  async byFullJid(domain: string, user: string, resource: string): Promise<SessionRow[]> {
    return (await this.byUser(domain, user)).filter((r) => r.resource === resource);
  }
  async byDomain(domain: string): Promise<SessionRow[]> {
    return [...this.rows.values()].filter((r) => r.domain === domain).map(copy).sort(bySid);
  }
  async countAll(): Promise<number> {
    return this.rows.size;
  }
  async countUnique(): Promise<number> {
    return this.byUs.size;
  }
  async cleanupNode(node: string): Promise<SessionRow[]> {
    const gone = [...this.rows.values()].filter((r) => r.node === node).sort(bySid);
    for (const r of gone) await this.delete(r.sid);
    return gone;
  }
}
