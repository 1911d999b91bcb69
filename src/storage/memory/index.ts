/**
 * In-memory adapters for every storage port: tests, demos, and small embedded servers that
 * need no persistence. Everything is lost when the process exits.
 * @module
 */
import type { Storage } from '../../core/storage/storage.ts';
import { MemoryAuthStore } from './auth-store.ts';
import { MemoryRosterStore } from './roster-store.ts';
import { MemoryOfflineStore } from './offline-store.ts';
import { MemoryMamStore } from './mam-store.ts';
import { MemoryInboxStore } from './inbox-store.ts';
import { MemoryPrivacyStore } from './privacy-store.ts';
import { MemoryVCardStore } from './vcard-store.ts';
import { MemoryPrivateStore } from './private-store.ts';
import { MemoryLastStore } from './last-store.ts';
import { MemoryMucLightStore } from './muc-light-store.ts';
import { MemoryDomainStore } from './domain-store.ts';
import { MemorySessionStore } from './session-store.ts';
import { MemorySmIdStore } from './sm-id-store.ts';
import { MemoryFastTokenStore } from './fast-token-store.ts';
import { MemoryPepStore } from './pep-store.ts';
import { MemoryMucStore } from './muc-store.ts';

export {
  MemoryAuthStore, MemoryRosterStore, MemoryOfflineStore, MemoryMamStore, MemoryInboxStore, MemoryPrivacyStore, MemoryVCardStore,
  MemoryPrivateStore, MemoryLastStore, MemoryMucLightStore, MemoryDomainStore, MemorySessionStore, MemorySmIdStore,
  MemoryFastTokenStore, MemoryPepStore, MemoryMucStore,
};

/** A fresh, empty in-memory {@link Storage}. */
export function memoryStorage(): Storage {
  return {
    auth: new MemoryAuthStore(),
    roster: new MemoryRosterStore(),
    offline: new MemoryOfflineStore(),
    mam: new MemoryMamStore(),
    inbox: new MemoryInboxStore(),
    privacy: new MemoryPrivacyStore(),
    vcard: new MemoryVCardStore(),
    private: new MemoryPrivateStore(),
    last: new MemoryLastStore(),
    mucLight: new MemoryMucLightStore(),
    domains: new MemoryDomainStore(),
    sessions: new MemorySessionStore(),
    smIds: new MemorySmIdStore(),
    fastTokens: new MemoryFastTokenStore(),
    pep: new MemoryPepStore(),
    muc: new MemoryMucStore(),
    close: async () => {},
  };
}
