import type { MamMessage, MamPage, MamPrefs, MamQuery, MamStore } from '../../core/storage/mam-store.ts';
import { UserMap } from './user-map.ts';

/** Index of the first element of sorted `rows` whose id is `>= id`. */
function lowerBound(rows: readonly MamMessage[], id: string): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (rows[mid].id < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** In-memory {@link MamStore}: one id-sorted array per owner. */
export class MemoryMamStore implements MamStore {
  private readonly archives = new UserMap<MamMessage[]>();
  private readonly prefs = new UserMap<MamPrefs>();

  async append(_ht: string, domain: string, user: string, msg: MamMessage): Promise<void> {
    const rows = this.archives.ensure(domain, user, () => []);
    const copy = { ...msg };
    // Appends arrive in id order almost always; the binary search handles the rest.
    if (rows.length === 0 || rows[rows.length - 1].id < msg.id) {
      rows.push(copy);
      return;
    }
    const at = lowerBound(rows, msg.id);
    if (rows[at]?.id === msg.id) throw new Error(`duplicate archive id ${msg.id}`);
    rows.splice(at, 0, copy);
  }

  async query(_ht: string, domain: string, user: string, q: MamQuery = {}): Promise<MamPage> {
    const all = this.archives.get(domain, user) ?? [];
    const matches = all.filter(
      (m) => (q.peer === undefined || m.peer === q.peer) && (q.start === undefined || m.timestamp >= q.start) && (q.end === undefined || m.timestamp <= q.end),
    );
    const window = matches.filter((m) => (q.afterId === undefined || m.id > q.afterId) && (q.beforeId === undefined || m.id < q.beforeId));
    const desc = q.order === 'desc';
    const limit = q.limit ?? Infinity;
    const ordered = desc ? window.reverse() : window;
    const rows = ordered.slice(0, limit).map((m) => ({ ...m }));
    return {
      rows,
      complete: ordered.length <= limit,
      count: matches.length,
      ...(rows.length ? { first: rows[0].id, last: rows[rows.length - 1].id } : {}),
    };
  }

  async getMessage(_ht: string, domain: string, user: string, id: string): Promise<MamMessage | undefined> {
    const rows = this.archives.get(domain, user) ?? [];
    const m = rows[lowerBound(rows, id)];
    return m?.id === id ? { ...m } : undefined;
  }
  async findByOriginId(_ht: string, domain: string, user: string, peer: string, originId: string): Promise<MamMessage | undefined> {
    const m = (this.archives.get(domain, user) ?? []).find((r) => r.peer === peer && r.originId === originId);
    return m && { ...m };
  }
  async getPrefs(_ht: string, domain: string, user: string): Promise<MamPrefs | undefined> {
    const p = this.prefs.get(domain, user);
    return p && { default: p.default, always: [...p.always], never: [...p.never] };
  }
  async setPrefs(_ht: string, domain: string, user: string, prefs: MamPrefs): Promise<void> {
    this.prefs.set(domain, user, { default: prefs.default, always: [...new Set(prefs.always)].sort(), never: [...new Set(prefs.never)].sort() });
  }
  async removeUser(_ht: string, domain: string, user: string): Promise<void> {
    this.archives.delete(domain, user);
    this.prefs.delete(domain, user);
  }
  async removeDomain(_ht: string, domain: string): Promise<void> {
    this.archives.deleteDomain(domain);
    this.prefs.deleteDomain(domain);
  }
}
