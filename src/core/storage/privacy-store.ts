/**
 * Privacy lists (XEP-0016) and the blocking command (XEP-0191) as a view onto one reserved list.
 * @module
 */

/** What a privacy item matches on; absent = fall-through item matching everything. */
export type PrivacyItemType = 'jid' | 'group' | 'subscription';

/** Stanza kinds an item applies to (XEP-0016 §2.1 child elements). */
export type PrivacyStanzaKind = 'message' | 'iq' | 'presence-in' | 'presence-out';

/** One rule of a privacy list. */
export interface PrivacyItem {
  readonly type?: PrivacyItemType;
  /** JID, group name or subscription state; required when `type` is set. */
  readonly value?: string;
  readonly action: 'allow' | 'deny';
  /** Unsigned integer; items are evaluated in ascending order and orders are unique per list. */
  readonly order: number;
  /** Kinds the item applies to; empty = all kinds. */
  readonly what: readonly PrivacyStanzaKind[];
}

/**
 * Name of the list that backs the XEP-0191 blocklist. Reserved: {@link PrivacyStore.getListNames}
 * leaves it out, and the privacy module must refuse it as a client-chosen name.
 */
export const BLOCKLIST_NAME = 'urn:xmpp:blocking';

/**
 * Per-user privacy lists. The "active list" is per session, so it is not stored here.
 */
export interface PrivacyStore {
  /** Names of the user's lists (sorted, without the reserved blocklist) and the default list name. */
  getListNames(hostType: string, domain: string, user: string): Promise<{ names: string[]; default?: string }>;
  /** Items of a list sorted by `order`, or `undefined` when no such list. */
  getList(hostType: string, domain: string, user: string, name: string): Promise<PrivacyItem[] | undefined>;
  /** Create or replace a list (items are stored sorted by `order`). */
  setList(hostType: string, domain: string, user: string, name: string, items: readonly PrivacyItem[]): Promise<void>;
  /** Delete a list; `false` when there was none. Deleting the default list also clears the default. */
  deleteList(hostType: string, domain: string, user: string, name: string): Promise<boolean>;
  /** The default list name, if any. */
  getDefault(hostType: string, domain: string, user: string): Promise<string | undefined>;
  /** Set (`name`) or decline (`undefined`) the default list; `false` when the list does not exist. */
  setDefault(hostType: string, domain: string, user: string, name: string | undefined): Promise<boolean>;
  /** Blocked bare JIDs, sorted (XEP-0191). */
  getBlocklist(hostType: string, domain: string, user: string): Promise<string[]>;
  /** Add JIDs to the blocklist; resolves the ones that were not blocked before. */
  block(hostType: string, domain: string, user: string, jids: readonly string[]): Promise<string[]>;
  /** Remove JIDs from the blocklist; resolves the ones that were blocked. */
  unblock(hostType: string, domain: string, user: string, jids: readonly string[]): Promise<string[]>;
  /** Empty the blocklist; resolves the JIDs that were blocked. */
  unblockAll(hostType: string, domain: string, user: string): Promise<string[]>;
  removeUser(hostType: string, domain: string, user: string): Promise<void>;
  removeDomain(hostType: string, domain: string): Promise<void>;
}
