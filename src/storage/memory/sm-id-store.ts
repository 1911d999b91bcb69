import type { SmIdLookup, SmIdStore } from '../../core/storage/sm-id-store.ts';

/** In-memory {@link SmIdStore}: both directions of the mapping, as MongooseIM's CETS table keeps them. */
export class MemorySmIdStore implements SmIdStore {
  private readonly sidBySmid = new Map<string, string>();
  private readonly smidBySid = new Map<string, string>();
  private readonly staleH = new Map<string, { h: number; stamp: number }>();

  async register(_ht: string, smid: string, sid: string): Promise<void> {
    const oldSid = this.sidBySmid.get(smid);
    if (oldSid !== undefined) this.smidBySid.delete(oldSid);
    const oldSmid = this.smidBySid.get(sid);
    if (oldSmid !== undefined) this.sidBySmid.delete(oldSmid);
    this.sidBySmid.set(smid, sid);
    this.smidBySid.set(sid, smid);
  }
  async unregister(_ht: string, sid: string): Promise<string | undefined> {
    const smid = this.smidBySid.get(sid);
    if (smid === undefined) return undefined;
    this.smidBySid.delete(sid);
    this.sidBySmid.delete(smid);
    return smid;
  }
  async lookup(_ht: string, smid: string): Promise<SmIdLookup> {
    const sid = this.sidBySmid.get(smid);
    if (sid !== undefined) return { kind: 'sid', sid };
    const s = this.staleH.get(smid);
    return s ? { kind: 'stale-h', h: s.h } : { kind: 'not-found' };
  }
  async smidOf(_ht: string, sid: string): Promise<string | undefined> {
    return this.smidBySid.get(sid);
  }
  async writeStaleH(_ht: string, smid: string, h: number, stampMs: number): Promise<void> {
    this.staleH.set(smid, { h, stamp: stampMs });
  }
  async readStaleH(_ht: string, smid: string): Promise<number | undefined> {
    return this.staleH.get(smid)?.h;
  }
  async deleteStaleH(_ht: string, smid: string): Promise<void> {
    this.staleH.delete(smid);
  }
  async cleanupStaleH(_ht: string, olderThanMs: number): Promise<number> {
    let n = 0;
    for (const [smid, s] of this.staleH) if (s.stamp < olderThanMs) {
      this.staleH.delete(smid);
      n++;
    }
    return n;
  }
}
