import type { MamDirection, MamMessage, MamPage, MamPrefs, MamQuery, MamStore } from '../../core/storage/mam-store.ts';
import type { SqliteDatabase } from './database.ts';

interface Row {
  id: string;
  peer: string;
  peer_resource: string;
  direction: MamDirection;
  timestamp: number;
  origin_id: string | null;
  xml: string;
}

const COLS = 'id, peer, peer_resource, direction, timestamp, origin_id, xml';
const INSERT = `INSERT INTO mam_messages (domain, owner, ${COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`;

function toMessage(r: Row): MamMessage {
  return {
    id: r.id, peer: r.peer, peerResource: r.peer_resource, direction: r.direction, timestamp: r.timestamp,
    ...(r.origin_id !== null ? { originId: r.origin_id } : {}), xml: r.xml,
  };
}

/**
 * SQLite {@link MamStore}. `append` is group-committed. Queries use the `(domain, owner, id)`
 * primary key or the `(domain, owner, peer, id)` index, reading `limit + 1` rows to learn
 * whether the page is complete.
 */
export class SqliteMamStore implements MamStore {
  constructor(private readonly d: SqliteDatabase) {}

  append(_ht: string, domain: string, user: string, m: MamMessage): Promise<void> {
    return this.d.writes.run(() => {
      this.d
        .stmt(INSERT)
        .run(domain, user, m.id, m.peer, m.peerResource, m.direction, m.timestamp, m.originId ?? null, m.xml);
    });
  }

  async query(_ht: string, domain: string, user: string, q: MamQuery = {}): Promise<MamPage> {
    // The SQL text depends only on which filters are present, so the statement cache holds at
    // most 2^5 × 2 variants.
    const filter = ['domain = ?', 'owner = ?'];
    const args: unknown[] = [domain, user];
    if (q.peer !== undefined) filter.push('peer = ?'), args.push(q.peer);
    if (q.start !== undefined) filter.push('timestamp >= ?'), args.push(q.start);
    if (q.end !== undefined) filter.push('timestamp <= ?'), args.push(q.end);
    const page = [...filter];
    const pageArgs = [...args];
    if (q.afterId !== undefined) page.push('id > ?'), pageArgs.push(q.afterId);
    if (q.beforeId !== undefined) page.push('id < ?'), pageArgs.push(q.beforeId);
    const dir = q.order === 'desc' ? 'DESC' : 'ASC';
    const limit = q.limit ?? -1;
    return this.d.tx(() => {
      const count = this.d.stmt(`SELECT COUNT(*) FROM mam_messages WHERE ${filter.join(' AND ')}`).pluck().get(...args) as number;
      const rows = this.d
        .stmt<Row>(`SELECT ${COLS} FROM mam_messages WHERE ${page.join(' AND ')} ORDER BY id ${dir} LIMIT ?`)
        .all(...pageArgs, limit < 0 ? -1 : limit + 1);
      const complete = limit < 0 || rows.length <= limit;
      if (!complete) rows.pop();
      const out = rows.map(toMessage);
      return { rows: out, complete, count, ...(out.length ? { first: out[0].id, last: out[out.length - 1].id } : {}) };
    });
  }

  async getMessage(_ht: string, domain: string, user: string, id: string): Promise<MamMessage | undefined> {
    const r = this.d.stmt<Row>(`SELECT ${COLS} FROM mam_messages WHERE domain = ? AND owner = ? AND id = ?`).get(domain, user, id);
    return r && toMessage(r);
  }
  async findByOriginId(_ht: string, domain: string, user: string, peer: string, originId: string): Promise<MamMessage | undefined> {
    const r = this.d
      .stmt<Row>(`SELECT ${COLS} FROM mam_messages WHERE domain = ? AND owner = ? AND peer = ? AND origin_id = ? ORDER BY id LIMIT 1`)
      .get(domain, user, peer, originId);
    return r && toMessage(r);
  }
  async getPrefs(_ht: string, domain: string, user: string): Promise<MamPrefs | undefined> {
    const r = this.d
      .stmt<{ default_mode: MamPrefs['default']; always_json: string; never_json: string }>(
        'SELECT default_mode, always_json, never_json FROM mam_prefs WHERE domain = ? AND username = ?',
      )
      .get(domain, user);
    return r && { default: r.default_mode, always: JSON.parse(r.always_json) as string[], never: JSON.parse(r.never_json) as string[] };
  }
  async setPrefs(_ht: string, domain: string, user: string, p: MamPrefs): Promise<void> {
    this.d
      .stmt('INSERT OR REPLACE INTO mam_prefs (domain, username, default_mode, always_json, never_json) VALUES (?, ?, ?, ?, ?)')
      .run(domain, user, p.default, JSON.stringify([...new Set(p.always)].sort()), JSON.stringify([...new Set(p.never)].sort()));
  }
  async removeUser(_ht: string, domain: string, user: string): Promise<void> {
    this.d.writes.flush();
    this.d.tx(() => {
      this.d.stmt('DELETE FROM mam_messages WHERE domain = ? AND owner = ?').run(domain, user);
      this.d.stmt('DELETE FROM mam_prefs WHERE domain = ? AND username = ?').run(domain, user);
    });
  }
  async removeDomain(_ht: string, domain: string): Promise<void> {
    this.d.writes.flush();
    this.d.tx(() => {
      this.d.stmt('DELETE FROM mam_messages WHERE domain = ?').run(domain);
      this.d.stmt('DELETE FROM mam_prefs WHERE domain = ?').run(domain);
    });
  }
}
