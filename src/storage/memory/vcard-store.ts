import type { VCardStore } from '../../core/storage/vcard-store.ts';
import { UserMap } from './user-map.ts';

/** In-memory {@link VCardStore}. */
export class MemoryVCardStore implements VCardStore {
  private readonly cards = new UserMap<string>();
  async get(_ht: string, domain: string, user: string): Promise<string | undefined> {
    return this.cards.get(domain, user);
  }
  async set(_ht: string, domain: string, user: string, xml: string): Promise<void> {
    this.cards.set(domain, user, xml);
  }
  async removeUser(_ht: string, domain: string, user: string): Promise<boolean> {
    return this.cards.delete(domain, user);
  }
  async removeDomain(_ht: string, domain: string): Promise<void> {
    this.cards.deleteDomain(domain);
  }
}
