import type {
  MucLightAffiliationChange, MucLightRoom, MucLightRoomRef, MucLightStore, MucLightUpdateResult,
} from '../../core/storage/muc-light-store.ts';
import { applyMucLightChanges, sortMucLightMembers } from '../rules/muc-light.ts';
import { cmp } from '../rules/order.ts';

function copyRoom(r: MucLightRoom): MucLightRoom {
  return { domain: r.domain, name: r.name, config: { ...r.config }, members: r.members.map((m) => ({ ...m })), version: r.version };
}

/** In-memory {@link MucLightStore}. */
export class MemoryMucLightStore implements MucLightStore {
  /** Rooms by service domain, then room name. */
  private readonly rooms = new Map<string, Map<string, MucLightRoom>>();

  private room(domain: string, name: string): MucLightRoom | undefined {
    return this.rooms.get(domain)?.get(name);
  }

  async create(_ht: string, room: MucLightRoom): Promise<'ok' | 'exists'> {
    let d = this.rooms.get(room.domain);
    if (!d) this.rooms.set(room.domain, (d = new Map()));
    if (d.has(room.name)) return 'exists';
    d.set(room.name, { ...copyRoom(room), members: sortMucLightMembers(room.members.map((m) => ({ ...m }))) });
    return 'ok';
  }
  async destroy(_ht: string, domain: string, name: string): Promise<boolean> {
    return this.rooms.get(domain)?.delete(name) ?? false;
  }
  async get(_ht: string, domain: string, name: string): Promise<MucLightRoom | undefined> {
    const r = this.room(domain, name);
    return r && copyRoom(r);
  }
  private update(domain: string, name: string, expectedVersion: string | undefined, change: (r: MucLightRoom) => MucLightRoom): MucLightUpdateResult {
    const r = this.room(domain, name);
    if (!r) return { ok: false, error: 'not-found' };
    if (expectedVersion !== undefined && r.version !== expectedVersion) return { ok: false, error: 'version-mismatch' };
    const next = change(r);
    this.rooms.get(domain)!.set(name, next);
    return { ok: true, room: copyRoom(next) };
  }
  async setConfig(
    _ht: string, domain: string, name: string, changes: Readonly<Record<string, string>>, newVersion: string, expectedVersion?: string,
  ): Promise<MucLightUpdateResult> {
    return this.update(domain, name, expectedVersion, (r) => ({ ...r, config: { ...r.config, ...changes }, version: newVersion }));
  }
  async setAffiliations(
    _ht: string, domain: string, name: string, changes: readonly MucLightAffiliationChange[], newVersion: string, expectedVersion?: string,
  ): Promise<MucLightUpdateResult> {
    return this.update(domain, name, expectedVersion, (r) => ({ ...r, members: applyMucLightChanges(r.members, changes), version: newVersion }));
  }
  async roomsOfUser(_ht: string, domain: string, user: string): Promise<MucLightRoomRef[]> {
    const out: MucLightRoomRef[] = [];
    for (const rooms of this.rooms.values())
      for (const r of rooms.values())
        if (r.members.some((m) => m.domain === domain && m.user === user)) out.push({ domain: r.domain, name: r.name, version: r.version });
    return out.sort((a, b) => cmp(a.domain, b.domain) || cmp(a.name, b.name));
  }
  async removeUser(ht: string, domain: string, user: string): Promise<MucLightRoomRef[]> {
    const refs = await this.roomsOfUser(ht, domain, user);
    for (const ref of refs) {
      const r = this.room(ref.domain, ref.name)!;
      this.rooms.get(ref.domain)!.set(ref.name, { ...r, members: r.members.filter((m) => !(m.domain === domain && m.user === user)) });
    }
    return refs;
  }
  async removeDomain(_ht: string, domain: string): Promise<void> {
    this.rooms.delete(domain);
    for (const rooms of this.rooms.values())
      for (const [name, r] of rooms)
        if (r.members.some((m) => m.domain === domain)) rooms.set(name, { ...r, members: r.members.filter((m) => m.domain !== domain) });
  }
}
