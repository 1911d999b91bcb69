/** The bundle of every storage port an application injects into the server. @module */
import type { AuthStore } from './auth-store.ts';
import type { RosterStore } from './roster-store.ts';
import type { OfflineStore } from './offline-store.ts';
import type { MamStore } from './mam-store.ts';
import type { InboxStore } from './inbox-store.ts';
import type { PrivacyStore } from './privacy-store.ts';
import type { VCardStore } from './vcard-store.ts';
import type { PrivateStore } from './private-store.ts';
import type { LastStore } from './last-store.ts';
import type { MucLightStore } from './muc-light-store.ts';
import type { DomainStore } from './domain-store.ts';
import type { SessionStore } from './session-store.ts';
import type { SmIdStore } from './sm-id-store.ts';
import type { FastTokenStore } from './fast-token-store.ts';
import type { PepStore } from './pep-store.ts';
import type { MucStore } from './muc-store.ts';

/**
 * Every port, from one adapter family (or mixed: an application may replace single members).
 * Deleting an account means calling `removeUser` on every member that has it; deleting a
 * domain, `removeDomain` — see {@link removeUserEverywhere} / {@link removeDomainEverywhere}.
 */
export interface Storage {
  readonly auth: AuthStore;
  readonly roster: RosterStore;
  readonly offline: OfflineStore;
  readonly mam: MamStore;
  readonly inbox: InboxStore;
  readonly privacy: PrivacyStore;
  readonly vcard: VCardStore;
  readonly private: PrivateStore;
  readonly last: LastStore;
  readonly mucLight: MucLightStore;
  readonly domains: DomainStore;
  readonly sessions: SessionStore;
  readonly smIds: SmIdStore;
  readonly fastTokens: FastTokenStore;
  readonly pep: PepStore;
  readonly muc: MucStore;
  /** Flush pending writes, then release files/connections. Idempotent. */
  close(): Promise<void>;
}

/** Delete every trace of an account from every user-scoped port (the account itself last). */
export async function removeUserEverywhere(s: Storage, hostType: string, domain: string, user: string): Promise<void> {
  await Promise.all([
    s.roster.removeUser(hostType, domain, user),
    s.offline.removeUser(hostType, domain, user),
    s.mam.removeUser(hostType, domain, user),
    s.inbox.removeUser(hostType, domain, user),
    s.privacy.removeUser(hostType, domain, user),
    s.vcard.removeUser(hostType, domain, user),
    s.private.removeUser(hostType, domain, user),
    s.last.removeUser(hostType, domain, user),
    s.mucLight.removeUser(hostType, domain, user),
    s.fastTokens.removeUser(hostType, domain, user),
    s.pep.removeUser(hostType, domain, user),
    s.muc.removeUser(hostType, domain, user),
  ]);
  await s.auth.removeUser(hostType, domain, user);
}

/** Delete every user-scoped row of a domain from every port (accounts last). */
export async function removeDomainEverywhere(s: Storage, hostType: string, domain: string): Promise<void> {
  await Promise.all([
    s.roster.removeDomain(hostType, domain),
    s.offline.removeDomain(hostType, domain),
    s.mam.removeDomain(hostType, domain),
    s.inbox.removeDomain(hostType, domain),
    s.privacy.removeDomain(hostType, domain),
    s.vcard.removeDomain(hostType, domain),
    s.private.removeDomain(hostType, domain),
    s.last.removeDomain(hostType, domain),
    s.mucLight.removeDomain(hostType, domain),
    s.fastTokens.removeDomain(hostType, domain),
    s.pep.removeDomain(hostType, domain),
    s.muc.removeDomain(hostType, domain),
  ]);
  await s.auth.removeDomain(hostType, domain);
}
