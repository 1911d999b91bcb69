import type { MucAffiliationEntry, MucRoomRecord, MucStore } from '../../core/storage/muc-store.ts';
import { cmp } from '../rules/order.ts';

function copyAffiliation(a: MucAffiliationEntry): MucAffiliationEntry {
  return a.reason === undefined ? { jid: a.jid, affiliation: a.affiliation } : { jid: a.jid, affiliation: a.affiliation, reason: a.reason };
}

/** A deep copy with affiliations sorted by JID and absent optional fields left out. */
function copyRoom(r: MucRoomRecord): MucRoomRecord {
  const config: Record<string, string | readonly string[]> = {};
  for (const [k, v] of Object.entries(r.config)) config[k] = typeof v === 'string' ? v : [...v];
  const affiliations = r.affiliations.map(copyAffiliation).sort((a, b) => cmp(a.jid, b.jid));
  return r.subject === undefined
    ? { name: r.name, config, affiliations }
    : { name: r.name, config, affiliations, subject: { text: r.subject.text, by: r.subject.by } };
}

/** The domain part of a bare JID (`undefined` for a bare domain, which is no user). */
function jidDomain(jid: string): string | undefined {
  const at = jid.indexOf('@');
  return at < 0 ? undefined : jid.slice(at + 1);
}

/** In-memory {@link MucStore}. */
export class MemoryMucStore implements MucStore {
  /** Rooms by service domain, then room name. */
  private readonly rooms = new Map<string, Map<string, MucRoomRecord>>();

  async getRoom(_ht: string, domain: string, name: string): Promise<MucRoomRecord | undefined> {
    const r = this.rooms.get(domain)?.get(name);
    return r && copyRoom(r);
  }
  async listRooms(_ht: string, domain: string): Promise<string[]> {
    return [...(this.rooms.get(domain)?.keys() ?? [])].sort(cmp);
  }
  async saveRoom(_ht: string, domain: string, room: MucRoomRecord): Promise<void> {
    let d = this.rooms.get(domain);
    if (!d) this.rooms.set(domain, (d = new Map()));
    d.set(room.name, copyRoom(room));
  }
  async deleteRoom(_ht: string, domain: string, name: string): Promise<boolean> {
    const d = this.rooms.get(domain);
    if (d === undefined || !d.delete(name)) return false;
    if (d.size === 0) this.rooms.delete(domain);
    return true;
  }
  /** Drop, in every stored room, the affiliations `keep` rejects. */
  private filterAffiliations(keep: (jid: string) => boolean): void {
    for (const rooms of this.rooms.values())
      for (const [name, r] of rooms)
        if (!r.affiliations.every((a) => keep(a.jid))) rooms.set(name, { ...r, affiliations: r.affiliations.filter((a) => keep(a.jid)) });
  }
  async removeUser(_ht: string, domain: string, user: string): Promise<void> {
    const jid = `${user}@${domain}`;
    this.filterAffiliations((j) => j !== jid);
  }
  async removeDomain(_ht: string, domain: string): Promise<void> {
    this.rooms.delete(domain);
    this.filterAffiliations((j) => jidDomain(j) !== domain);
  }
}
